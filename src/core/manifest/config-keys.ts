// LXD instance config keys and values as the manifest may use them.

export type ConfigValue = string | number | boolean;

export const KEY_RULE =
  'LXD config keys are lowercase letters, digits, "_" and "-" separated by dots (like limits.cpu); user.* and environment.* keys are free-form after the prefix';

const FREE_FORM = /^(?:user|environment)\..+$/;
const KEY = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)*$/;

/** nestctl marks the instances it manages with these (see plan/desired-config.ts). */
const RESERVED = 'user.nestctl';

/**
 * Keys that change the id map. The allocator reads isolation from `idmap:` only, so setting
 * them as raw config would make LXD map ids nestctl never planned for.
 */
const IDMAP_KEYS: Record<string, string> = {
  'security.idmap.isolated': 'idmap: {isolated: true}',
  'security.idmap.size': 'idmap: {isolated: true, size: N}',
};

export interface KeyProblem {
  message: string;
  hint: string;
}

export function configKeyProblem(key: string, where: string): KeyProblem | null {
  if (key === RESERVED || key.startsWith(`${RESERVED}.`)) {
    return {
      message: `config key "${key}" in ${where} is reserved for nestctl`,
      hint: 'nestctl marks the containers it manages with user.nestctl.* keys; choose another user.* key',
    };
  }
  if (!FREE_FORM.test(key) && !KEY.test(key)) return { message: `invalid config key "${key}" in ${where}`, hint: KEY_RULE };
  const instead = IDMAP_KEYS[key];
  if (instead) {
    return {
      message: `config key "${key}" in ${where} would change the id map behind nestctl's back`,
      hint: `write ${instead} instead, so nestctl allocates the ids for it`,
    };
  }
  return null;
}

/** LXD stores every config value as a string: true → "true", 5 → "5". */
export const lxdString = (v: ConfigValue): string => String(v);

/** LXD's own reading of booleans in config (shared.IsTrue / IsFalse). */
export const lxdTrue = (v: ConfigValue): boolean => ['true', '1', 'yes', 'on'].includes(String(v).toLowerCase());
export const lxdFalse = (v: ConfigValue): boolean => ['false', '0', 'no', 'off'].includes(String(v).toLowerCase());
