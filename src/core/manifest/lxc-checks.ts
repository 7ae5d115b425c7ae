// Checks of `runtime: lxc` nodes (classic LXC containers) and of the LXC-only keys on LXD nodes:
// every value here ends up on lxc-create's command line or in a root-owned file
// (/etc/lxc/lxc-usernet, the container's config), so each is checked for what it can do there.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import type { ConfigValue } from './config-keys.js';
import { lxcKeyProblem, lxcValueProblem } from './lxc-keys.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';
import { OWNER_RULE, ownerProblem } from './words-on-argv.js';
import { containerLabel, dataAt, isRecord } from './words.js';

/** Keys only an LXD instance has; on an LXC node each is an error. */
const LXD_ONLY: Record<string, string> = {
  image: 'an LXC container is made by lxc-create from a template: write template (and template_args) instead',
  profiles: 'LXC has no profiles: write the keys under config (raw lxc.* keys)',
  idmap: "nestctl maps an LXC container itself: its user's subuid/subgid range, or a slice of root's without user",
  docker: 'docker: true prepares an LXD container; it is not supported on LXC containers',
  flavour: 'flavour names the LXD inside a container; an LXC container holds only LXC containers',
  adopt: 'nestctl manages only the LXC containers it creates',
  ignore_changes: 'every lxc.* key under config is kept as written',
  files: "files are pushed through the level's LXD; not supported on LXC containers yet",
  setup: "setup runs through the level's LXD; not supported on LXC containers yet",
  copy_of: 'an LXC container is made by lxc-create from a template; copies are of LXD containers',
};

const LXC_ONLY = ['user', 'template', 'template_args', 'bridge'];

export const isLxcNode = (item: unknown): boolean => isRecord(item) && item['runtime'] === 'lxc';

/** The default template: a busybox rootfs, without LXC. */
const NO_LXC_TEMPLATE = 'busybox';
export const NESTING_TEMPLATES =
  'an LXC container that runs LXC containers needs LXC (and uidmap) in its rootfs: write template: local with a rootfs that has them (template_args: [--metadata, META.tar.xz, --fstree, ROOTFS.tar.xz]), or template: download with an image that has them (needs a network)';

const TEMPLATE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const TEMPLATE_RULE =
  'the name of a template LXC ships (busybox, local, download, debian, ...): letters, digits, ".", "_" and "-", not starting with "-"';

/** Linux interface names (dev_valid_name): 1-15 bytes, no "/", ":" or whitespace, not "." or "..". */
const BRIDGE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
export const BRIDGE_RULE = 'a network interface name: 1-15 letters, digits, "_", "." and "-", not starting with "-" or "."';

const error = (src: Source, pos: { line: number; col: number }, message: string, hint: string): Diagnostic => ({
  severity: 'error',
  fault: 'user',
  where: sourceAt(src.file, pos),
  message,
  hint,
});

/** The LXC node at `path`; `inLxc`: its parent is an LXC container too. */
export function lxcNodeFindings(data: unknown, src: Source, path: Path, inLxc: boolean): Diagnostic[] {
  const label = `LXC container ${containerLabel(data, path)}`;
  const found: Diagnostic[] = [];
  for (const [key, why] of Object.entries(LXD_ONLY)) {
    if (dataAt(data, [...path, key]) !== undefined)
      found.push(error(src, keyPos(src, [...path, key]), `"${key}" is an LXD key, but ${label} has runtime: lxc`, why));
  }
  const user = dataAt(data, [...path, 'user']);
  if (typeof user === 'string' && user !== '') {
    const bad = ownerProblem(user);
    if (bad)
      found.push(
        error(
          src,
          valuePos(src, [...path, 'user']),
          `invalid user ${JSON.stringify(user)} in ${label}: ${bad}`,
          `user must be ${OWNER_RULE}`,
        ),
      );
    else if (inLxc)
      found.push(
        error(
          src,
          keyPos(src, [...path, 'user']),
          `${label} is inside an LXC container and cannot be run by a user`,
          'nestctl runs LXC containers inside LXC containers as root there; remove user',
        ),
      );
  }
  const template = dataAt(data, [...path, 'template']);
  if (typeof template === 'string' && template !== '' && !TEMPLATE.test(template)) {
    found.push(error(src, valuePos(src, [...path, 'template']), `invalid template ${JSON.stringify(template)} in ${label}`, TEMPLATE_RULE));
  }
  const args = dataAt(data, [...path, 'template_args']);
  if (Array.isArray(args)) {
    args.forEach((word: unknown, i) => {
      // eslint-disable-next-line no-control-regex
      if (typeof word === 'string' && /[\u0000-\u001f\u007f]/.test(word)) {
        found.push(
          error(
            src,
            valuePos(src, [...path, 'template_args', i]),
            `template_args[${i}] of ${label} contains a control character`,
            'each word is passed to the template as is; write it without control characters',
          ),
        );
      }
    });
  }
  const bridge = dataAt(data, [...path, 'bridge']);
  if (typeof bridge === 'string' && bridge !== '' && !BRIDGE.test(bridge)) {
    found.push(error(src, valuePos(src, [...path, 'bridge']), `invalid bridge ${JSON.stringify(bridge)} in ${label}`, BRIDGE_RULE));
  }
  found.push(...lxcConfigFindings(data, src, [...path, 'config'], label));
  const children = dataAt(data, [...path, 'containers']);
  const holdsLxc = Array.isArray(children) && children.some(isLxcNode);
  if (holdsLxc && (template === undefined || template === NO_LXC_TEMPLATE)) {
    const at = template === undefined ? keyPos(src, [...path, 'containers']) : valuePos(src, [...path, 'template']);
    found.push(
      error(
        src,
        at,
        `${label} holds LXC containers, but a ${NO_LXC_TEMPLATE} container${template === undefined ? ` (the default template)` : ''} has no LXC to run them`,
        NESTING_TEMPLATES,
      ),
    );
  }
  if (Array.isArray(children)) {
    children.forEach((child: unknown, i) => {
      if (isLxcNode(child)) return;
      if (isRecord(child)) {
        const at =
          child['runtime'] === undefined ? valuePos(src, [...path, 'containers', i]) : valuePos(src, [...path, 'containers', i, 'runtime']);
        found.push(
          error(
            src,
            at,
            `${label} can hold only LXC containers, but ${containerLabel(data, [...path, 'containers', i])} is not one`,
            'there is no LXD inside an LXC container; write runtime: lxc on it',
          ),
        );
      }
    });
  }
  return found;
}

function lxcConfigFindings(data: unknown, src: Source, configPath: Path, label: string): Diagnostic[] {
  const config = dataAt(data, configPath);
  if (!isRecord(config)) return [];
  return Object.entries(config).flatMap(([key, value]): Diagnostic[] => {
    const path = [...configPath, key];
    const problem = lxcKeyProblem(key, label);
    if (problem) return [{ severity: 'error', fault: 'user', where: sourceAt(src.file, keyPos(src, path)), ...problem }];
    const bad = ['string', 'number', 'boolean'].includes(typeof value) ? lxcValueProblem(value as ConfigValue) : null;
    return bad
      ? [
          error(
            src,
            valuePos(src, path),
            `config key "${key}" in ${label} has a value LXC cannot take: ${bad}`,
            'write the value on one line without control characters',
          ),
        ]
      : [];
  });
}

/** LXC-only keys on an LXD node. */
export function lxcKeysOnLxd(data: unknown, src: Source, path: Path): Diagnostic[] {
  return LXC_ONLY.filter((key) => dataAt(data, [...path, key]) !== undefined).map((key) =>
    error(
      src,
      keyPos(src, [...path, key]),
      `"${key}" is a key of LXC containers, but container ${containerLabel(data, path)} is an LXD container`,
      'add runtime: lxc to make it a classic LXC container, or remove the key',
    ),
  );
}
