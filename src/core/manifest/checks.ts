// Checks the schema cannot express (or not in plain words): LXD names, sibling names, config keys
// and values. They read the plain data defensively, so they still run, and report, when the
// schema found problems elsewhere in the file.

import { type ConfigValue, configKeyProblem, lxdFalse, lxdString, lxdTrue } from './config-keys.js';
import { NAME_RULE, nameProblem } from './names.js';
import { type Finding, keyPos, type Path, scalarSource, type Source, valuePos } from './source.js';
import { containerLabel, dataAt, isRecord, place, subject } from './words.js';

export function semanticFindings(data: unknown, src: Source): Finding[] {
  if (!isRecord(data)) return [];
  return [...configFindings(data, src, ['defaults', 'config']), ...levelFindings(data, src, ['containers'])];
}

function levelFindings(data: unknown, src: Source, listPath: Path): Finding[] {
  const list = dataAt(data, listPath);
  if (!Array.isArray(list)) return [];
  const found: Finding[] = [];
  const firstLine = new Map<string, number>();
  list.forEach((item: unknown, i) => {
    if (!isRecord(item)) return;
    const path = [...listPath, i];
    found.push(
      ...nameFindings(data, src, path, firstLine),
      ...configFindings(data, src, [...path, 'config']),
      ...nestingFindings(data, src, path),
      ...idmapFindings(data, src, path),
      ...levelFindings(data, src, [...path, 'containers']),
    );
  });
  return found;
}

function nameFindings(data: unknown, src: Source, path: Path, firstLine: Map<string, number>): Finding[] {
  const name = dataAt(data, [...path, 'name']);
  if (typeof name !== 'string') return [];
  const pos = valuePos(src, [...path, 'name']);
  const found: Finding[] = [];
  const problem = nameProblem(name);
  if (problem) found.push({ severity: 'error', pos, message: `invalid container name ${JSON.stringify(name)}: ${problem}`, hint: NAME_RULE });
  const first = firstLine.get(name);
  if (first === undefined) {
    firstLine.set(name, pos.line);
  } else {
    const parent = path.length > 2 ? `inside ${containerLabel(data, path.slice(0, -2))}` : 'at the top level';
    found.push({
      severity: 'error',
      pos,
      message: `duplicate container name "${name}" ${parent} (first at line ${first})`,
      hint: "siblings live on the same LXD, which knows them by name; rename one of them",
    });
  }
  return found;
}

const isConfigValue = (v: unknown): v is ConfigValue => ['string', 'number', 'boolean'].includes(typeof v);

function configFindings(data: unknown, src: Source, configPath: Path): Finding[] {
  const config = dataAt(data, configPath);
  if (!isRecord(config)) return [];
  const where = place(data, configPath.slice(0, -1));
  const found: Finding[] = [];
  for (const [key, value] of Object.entries(config)) {
    const path = [...configPath, key];
    const problem = configKeyProblem(key, where);
    if (problem) found.push({ severity: 'error', pos: keyPos(src, path), ...problem });
    if (!isConfigValue(value)) continue; // the schema reports it
    if (key === 'security.privileged' && lxdTrue(value)) {
      found.push({
        severity: 'warning',
        pos: valuePos(src, path),
        message: `security.privileged=true in ${where} makes privileged containers`,
        hint: "a privileged container's root is root on its parent, which defeats nesting unprivileged containers; remove the key",
      });
    }
    const written = typeof value === 'number' ? scalarSource(src, path) : null;
    if (written !== null && written !== lxdString(value)) {
      found.push({
        severity: 'warning',
        pos: valuePos(src, path),
        message: `${subject(data, path)} is the number ${written}, which LXD will store as "${lxdString(value)}"`,
        hint: `quote it ("${written}") to keep the text as written`,
      });
    }
  }
  return found;
}

function nestingFindings(data: unknown, src: Source, path: Path): Finding[] {
  const nesting = dataAt(data, [...path, 'config', 'security.nesting']);
  if (!isConfigValue(nesting) || !lxdFalse(nesting)) return [];
  const children = dataAt(data, [...path, 'containers']);
  const why = Array.isArray(children) && children.length > 0 ? 'it holds containers' : dataAt(data, [...path, 'docker']) === true ? 'docker: true needs it' : null;
  if (!why) return [];
  return [
    {
      severity: 'warning',
      pos: valuePos(src, [...path, 'config', 'security.nesting']),
      message: `security.nesting is false in container ${containerLabel(data, path)}, but ${why}`,
      hint: 'nestctl sets security.nesting=true there anyway; remove the key',
    },
  ];
}

function idmapFindings(data: unknown, src: Source, path: Path): Finding[] {
  const idmap = dataAt(data, [...path, 'idmap']);
  if (!isRecord(idmap) || idmap['size'] === undefined || idmap['isolated'] === true) return [];
  return [
    {
      severity: 'warning',
      pos: keyPos(src, [...path, 'idmap', 'size']),
      message: `idmap.size in container ${containerLabel(data, path)} has no effect without idmap.isolated: true`,
      hint: "a non-isolated container shares its parent LXD's whole range; set isolated: true for a slice of its own, or remove size",
    },
  ];
}
