// Checks the schema cannot express (or not in plain words): LXD names, sibling names, config keys
// and values. They read the plain data defensively, so they still run, and report, when the
// schema found problems elsewhere in the file.

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { type ConfigValue, configKeyProblem, configValueProblem, ignoredKeyProblem, lxdFalse, lxdString } from './config-keys.js';
import { dockerWanted } from './docker.js';
import { fileFindings, setupFindings } from './files.js';
import { hostSections, hostsFindings } from './hosts.js';
import { isLxcNode, lxcKeysOnLxd, lxcNodeFindings } from './lxc-checks.js';
import { copyFindings } from './copies.js';
import { movedFindings } from './moved.js';
import { NAME_RULE, nameProblem } from './names.js';
import { insideFindings, profileFindings } from './profiles.js';
import { keyPos, type Path, scalarSource, type Source, valuePos } from './source.js';
import { IMAGE_RULE, imageProblem, OWNER_RULE, ownerProblem, PROFILE_RULE, profileProblem, restartWordProblem } from './words-on-argv.js';
import { containerLabel, dataAt, isRecord, place, subject } from './words.js';

/**
 * Containers nested deeper than this can never run: the kernel refuses to create a user
 * namespace more than 32 levels below the initial one (kernel/user_namespace.c,
 * create_user_ns: "if (parent_ns->level > 32) goto fail" with -ENOSPC).
 */
export const MAX_CONTAINER_DEPTH = 32;

/** Enough to show a pattern; more would only take time (each unknown key is matched against LXD's list). */
const MAX_CONFIG_FINDINGS = 100;

export function semanticFindings(data: unknown, src: Source): Diagnostic[] {
  if (!isRecord(data)) return [];
  return [
    ...hostSections(data).flatMap((section) => [
      ...hostFindings(data, src, section),
      ...profileFindings(data, src, section, (at) => configFindings(data, src, at)),
    ]),
    ...hostsFindings(data, src),
    ...argvFindings(data, src, ['defaults']),
    ...configFindings(data, src, ['defaults', 'config']),
    ...levelFindings(data, src, ['containers'], 1),
    ...movedFindings(data, src),
  ];
}

function levelFindings(data: unknown, src: Source, listPath: Path, depth: number, inLxc = false): Diagnostic[] {
  const list = dataAt(data, listPath);
  if (!Array.isArray(list)) return [];
  const found: Diagnostic[] = [];
  const firstLine = new Map<string, number>();
  found.push(...copyFindings(data, src, listPath, depth === 1 ? (item) => rootScope(data, item) : undefined));
  if (depth > MAX_CONTAINER_DEPTH && list.length > 0) {
    return [
      {
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, valuePos(src, [...listPath, 0])),
        message: `containers are nested ${depth} levels deep here; at most ${MAX_CONTAINER_DEPTH} levels can run`,
        hint: `the kernel allows at most 32 nested user namespaces, one per container level; flatten the tree`,
      },
    ];
  }
  list.forEach((item: unknown, i) => {
    if (!isRecord(item)) return;
    const path = [...listPath, i];
    const scope = depth === 1 ? rootScope(data, item) : '';
    if (isLxcNode(item)) {
      found.push(
        ...nameFindings(data, src, path, firstLine, scope),
        ...lxcNodeFindings(data, src, path, inLxc),
        ...levelFindings(data, src, [...path, 'containers'], depth + 1, true),
      );
      return;
    }
    if (inLxc) return; // lxcNodeFindings reports it
    found.push(
      ...nameFindings(data, src, path, firstLine, scope),
      ...lxcKeysOnLxd(data, src, path),
      ...argvFindings(data, src, path),
      ...configFindings(data, src, [...path, 'config']),
      ...ignoreChangesFindings(data, src, path),
      ...nestingFindings(data, src, path),
      ...idmapFindings(data, src, path),
      ...fileFindings(data, src, path),
      ...setupFindings(data, src, path),
      ...insideFindings(data, src, path),
      ...profileFindings(data, src, [...path, 'inside'], (at) => configFindings(data, src, at)),
      ...levelFindings(data, src, [...path, 'containers'], depth + 1),
    );
  });
  return found;
}

function hostFindings(data: unknown, src: Source, section: Path): Diagnostic[] {
  const name = section.join('.');
  const found: Diagnostic[] = [];
  const owner = dataAt(data, [...section, 'owner']);
  const problem = typeof owner === 'string' && owner !== '' ? ownerProblem(owner) : null;
  if (problem) {
    found.push({
      severity: 'error',
      fault: 'user',
      where: sourceAt(src.file, valuePos(src, [...section, 'owner'])),
      message: `invalid ${name}.owner ${JSON.stringify(owner)}: ${problem}`,
      hint: `${name}.owner must be ${OWNER_RULE}`,
    });
  }
  const restart = dataAt(data, [...section, 'restart']);
  if (Array.isArray(restart)) {
    restart.forEach((word: unknown, i) => {
      const bad = typeof word === 'string' ? restartWordProblem(word, i) : null;
      if (bad)
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, valuePos(src, [...section, 'restart', i])),
          message: `invalid word ${JSON.stringify(word)} in ${name}.restart: ${bad}`,
          hint: `${name}.restart is the argv of the restart command, program first, e.g. [systemctl, restart, lxd]`,
        });
    });
  }
  return found;
}

/** image and profiles of defaults or of a container: words on lxc's command line. */
function argvFindings(data: unknown, src: Source, owner: Path): Diagnostic[] {
  const found: Diagnostic[] = [];
  const where = place(data, owner);
  const image = dataAt(data, [...owner, 'image']);
  const imageBad = typeof image === 'string' && image !== '' ? imageProblem(image) : null;
  if (imageBad)
    found.push({
      severity: 'error',
      fault: 'user',
      where: sourceAt(src.file, valuePos(src, [...owner, 'image'])),
      message: `invalid image ${JSON.stringify(image)} in ${where}: ${imageBad}`,
      hint: IMAGE_RULE,
    });
  const profiles = dataAt(data, [...owner, 'profiles']);
  if (Array.isArray(profiles)) {
    profiles.forEach((name: unknown, i) => {
      const bad = typeof name === 'string' && name !== '' ? profileProblem(name) : null;
      if (bad)
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, valuePos(src, [...owner, 'profiles', i])),
          message: `invalid profile name ${JSON.stringify(name)} in ${where}: ${bad}`,
          hint: PROFILE_RULE,
        });
    });
  }
  return found;
}

/** Root containers on different hosts live on different daemons: their names are unique per host. */
function rootScope(data: unknown, item: Record<string, unknown>): string {
  const hosts = dataAt(data, ['hosts']);
  if (!isRecord(hosts)) return '';
  const host = item['host'];
  const names = Object.keys(hosts);
  return typeof host === 'string' ? host : names.length === 1 ? names[0]! : '';
}

function nameFindings(data: unknown, src: Source, path: Path, firstLine: Map<string, number>, scope: string): Diagnostic[] {
  const name = dataAt(data, [...path, 'name']);
  if (typeof name !== 'string') return [];
  const pos = valuePos(src, [...path, 'name']);
  const found: Diagnostic[] = [];
  const problem = nameProblem(name);
  if (problem)
    found.push({
      severity: 'error',
      fault: 'user',
      where: sourceAt(src.file, pos),
      message: `invalid container name ${JSON.stringify(name)}: ${problem}`,
      hint: NAME_RULE,
    });
  const key = `${scope}\u0000${name}`;
  const first = firstLine.get(key);
  if (first === undefined) {
    firstLine.set(key, pos.line);
  } else {
    const parent = path.length > 2 ? `inside ${containerLabel(data, path.slice(0, -2))}` : scope ? `on host ${scope}` : 'at the top level';
    found.push({
      severity: 'error',
      fault: 'user',
      where: sourceAt(src.file, pos),
      message: `duplicate container name "${name}" ${parent} (first at line ${first})`,
      hint: 'siblings live on the same LXD, which knows them by name; rename one of them',
    });
  }
  return found;
}

const isConfigValue = (v: unknown): v is ConfigValue => ['string', 'number', 'boolean'].includes(typeof v);

function configFindings(data: unknown, src: Source, configPath: Path): Diagnostic[] {
  const config = dataAt(data, configPath);
  if (!isRecord(config)) return [];
  const where = place(data, configPath.slice(0, -1));
  const found: Diagnostic[] = [];
  const entries = Object.entries(config);
  for (const [i, [key, value]] of entries.entries()) {
    const path = [...configPath, key];
    if (found.length >= MAX_CONFIG_FINDINGS) {
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, keyPos(src, path)),
        message: `${entries.length - i} more config keys in ${where} not checked after ${MAX_CONFIG_FINDINGS} problems`,
        hint: 'fix the problems above first',
      });
      break;
    }
    const problem = configKeyProblem(key, where);
    if (problem) found.push({ severity: 'error', fault: 'user', where: sourceAt(src.file, keyPos(src, path)), ...problem });
    if (!isConfigValue(value)) continue; // the schema reports it
    const valueBad = configValueProblem(key, value);
    if (valueBad) {
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, valuePos(src, path)),
        message: `${subject(data, path)} has a value LXD cannot take: ${valueBad}`,
        hint: 'newlines are allowed only in raw.lxc, raw.apparmor, raw.seccomp, cloud-init.* and user.* values; write other values on one line without control characters',
      });
      continue;
    }
    const written = typeof value === 'number' ? scalarSource(src, path) : null;
    if (written !== null && written !== lxdString(value)) {
      found.push({
        severity: 'warning',
        fault: 'user',
        where: sourceAt(src.file, valuePos(src, path)),
        message: `${subject(data, path)} is the number ${written}, which LXD will store as "${lxdString(value)}"`,
        hint: `quote it ("${written}") to keep the text as written`,
      });
    }
  }
  return found;
}

function nestingFindings(data: unknown, src: Source, path: Path): Diagnostic[] {
  const nesting = dataAt(data, [...path, 'config', 'security.nesting']);
  if (!isConfigValue(nesting) || !lxdFalse(nesting)) return [];
  const children = dataAt(data, [...path, 'containers']);
  const why =
    Array.isArray(children) && children.length > 0
      ? 'it holds containers'
      : dockerWanted(dataAt(data, [...path, 'docker']))
        ? 'docker: true needs it'
        : null;
  if (!why) return [];
  return [
    {
      severity: 'warning',
      fault: 'user',
      where: sourceAt(src.file, valuePos(src, [...path, 'config', 'security.nesting'])),
      message: `security.nesting is false in container ${containerLabel(data, path)}, but ${why}`,
      hint: 'nestctl sets security.nesting=true there anyway; remove the key',
    },
  ];
}

function ignoreChangesFindings(data: unknown, src: Source, path: Path): Diagnostic[] {
  const list = dataAt(data, [...path, 'ignore_changes']);
  if (!Array.isArray(list)) return [];
  const where = place(data, path);
  return list.flatMap((entry: unknown, i): Diagnostic[] => {
    const problem = typeof entry === 'string' ? ignoredKeyProblem(entry, where) : null; // the schema reports the rest
    return problem
      ? [{ severity: 'error', fault: 'user', where: sourceAt(src.file, valuePos(src, [...path, 'ignore_changes', i])), ...problem }]
      : [];
  });
}

function idmapFindings(data: unknown, src: Source, path: Path): Diagnostic[] {
  const idmap = dataAt(data, [...path, 'idmap']);
  if (!isRecord(idmap) || idmap['size'] === undefined || idmap['isolated'] === true) return [];
  return [
    {
      severity: 'warning',
      fault: 'user',
      where: sourceAt(src.file, keyPos(src, [...path, 'idmap', 'size'])),
      message: `idmap.size in container ${containerLabel(data, path)} has no effect without idmap.isolated: true`,
      hint: "a non-isolated container shares its parent LXD's whole range; set isolated: true for a slice of its own, or remove size",
    },
  ];
}
