// Profiles a level declares (`host: {profiles}`, a container's `inside: {profiles}`): their names,
// config (checked as a container's) and devices. nestctl writes a profile whole with `lxc profile
// edit` (YAML on stdin), so device names, keys and values never reach a command line; only the
// profile's name does.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { type ConfigValue, lxdString } from './config-keys.js';
import type { ProfileSpec } from './model.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';
import { PROFILE_RULE, profileProblem } from './words-on-argv.js';
import { containerLabel, dataAt, isRecord, place } from './words.js';

export interface RawProfile {
  description?: string;
  config?: Record<string, ConfigValue>;
  devices?: Record<string, Record<string, ConfigValue>>;
}
export type RawProfiles = Record<string, RawProfile>;

/** Names nestctl never manages: the daemon's own profile, and a prefix kept for nestctl. */
export const RESERVED_PROFILE_PREFIX = 'nestctl-';

export function buildProfiles(raw: RawProfiles, at: Path, src: Source): ProfileSpec[] {
  return Object.entries(raw).map(([name, p]) => ({
    name,
    description: p.description ?? '',
    config: Object.fromEntries(Object.entries(p.config ?? {}).map(([k, v]) => [k, lxdString(v)])),
    devices: Object.fromEntries(
      Object.entries(p.devices ?? {}).map(([d, keys]) => [d, Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, lxdString(v)]))]),
    ),
    pos: keyPos(src, [...at, name]),
  }));
}

/** Why a declared profile's name cannot be used, or null. */
export function declaredNameProblem(name: string): { message: string; hint: string } | null {
  const bad = profileProblem(name);
  if (bad) return { message: `invalid profile name ${JSON.stringify(name)}: ${bad}`, hint: PROFILE_RULE };
  if (name === 'default')
    return {
      message: 'the profile "default" cannot be declared: it is the daemon\'s own',
      hint: 'declare a profile of another name and list it after "default" in the containers\' profiles',
    };
  if (name.startsWith(RESERVED_PROFILE_PREFIX))
    return {
      message: `the profile name ${JSON.stringify(name)} starts with "${RESERVED_PROFILE_PREFIX}", which is reserved for nestctl`,
      hint: 'choose a name without that prefix',
    };
  return null;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const KEY_BAD = /[\s=\p{Cc}]/u;

/**
 * Problems of the profiles at `owner` + `profiles` (owner: ['host'], or a container's `inside`).
 * `configFindings` is the container config check (checks.ts), run on each profile's config.
 */
export function profileFindings(data: unknown, src: Source, owner: Path, configFindings: (configPath: Path) => Diagnostic[]): Diagnostic[] {
  const at = [...owner, 'profiles'];
  const profiles = dataAt(data, at);
  if (!isRecord(profiles)) return [];
  const found: Diagnostic[] = [];
  const err = (path: Path, pos: 'key' | 'value', message: string, hint: string): void => {
    found.push({
      severity: 'error',
      fault: 'user',
      where: sourceAt(src.file, pos === 'key' ? keyPos(src, path) : valuePos(src, path)),
      message,
      hint,
    });
  };
  for (const [name, profile] of Object.entries(profiles)) {
    const here = [...at, name];
    const named = declaredNameProblem(name);
    if (named) err(here, 'key', `${named.message} (in ${place(data, at)})`, named.hint);
    if (!isRecord(profile)) continue;
    const description = profile['description'];
    if (typeof description === 'string' && CONTROL.test(description))
      err(
        [...here, 'description'],
        'value',
        `the description of profile ${name} has a control character or a line break`,
        'write the description on one line',
      );
    found.push(...configFindings([...here, 'config']));
    const devices = profile['devices'];
    if (!isRecord(devices)) continue;
    for (const [device, keys] of Object.entries(devices)) {
      const dpath = [...here, 'devices', device];
      if (KEY_BAD.test(device) || device === '')
        err(
          dpath,
          'key',
          `invalid device name ${JSON.stringify(device)} in profile ${name}`,
          'device names have no spaces, "=" or control characters',
        );
      if (!isRecord(keys)) continue;
      for (const [key, value] of Object.entries(keys)) {
        if (KEY_BAD.test(key) || key === '')
          err(
            [...dpath, key],
            'key',
            `invalid key ${JSON.stringify(key)} in device ${device} of profile ${name}`,
            'device keys are words like type, source, path: no spaces, "=" or control characters',
          );
        if (typeof value === 'string' && CONTROL.test(value))
          err(
            [...dpath, key],
            'value',
            `the value of ${key} in device ${device} of profile ${name} has a control character or a line break`,
            'write device values on one line',
          );
      }
    }
  }
  return found;
}

/** `inside:` is the level inside a container: it means nothing for a container that holds none. */
export function insideFindings(data: unknown, src: Source, container: Path): Diagnostic[] {
  const inside = dataAt(data, [...container, 'inside']);
  if (inside === undefined) return [];
  const children = dataAt(data, [...container, 'containers']);
  if (Array.isArray(children) && children.length > 0) return [];
  return [
    {
      severity: 'error',
      fault: 'user',
      where: sourceAt(src.file, keyPos(src, [...container, 'inside'])),
      message: `container ${containerLabel(data, container)} has inside: but no containers`,
      hint: 'inside: declares what nestctl keeps on the LXD inside a container that holds containers; add containers: to it, or remove inside:',
    },
  ];
}
