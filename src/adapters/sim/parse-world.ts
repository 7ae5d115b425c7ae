// Reading a world description from text (YAML or JSON, for `--world FILE`): shape checks with
// file:line:col for every problem, then a trial build so impossible worlds are reported the same way.

import { LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from '../../core/diagnostics.js';
import { InputError } from '../../core/errors.js';
import { FLAVOURS as ALL_FLAVOURS } from '../../core/flavour/index.js';
import { build, DescribeError, type WorldDescription, type Where } from './describe.js';

type Raw = Record<string, unknown>;

interface Check {
  problems: Array<{ where: Where; message: string }>;
}

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const FLAVOURS: readonly string[] = ALL_FLAVOURS;

function keys(c: Check, v: unknown, where: Where, allowed: string[], required: string[] = []): v is Raw {
  if (!isObj(v)) {
    c.problems.push({ where, message: 'expected a mapping' });
    return false;
  }
  for (const k of Object.keys(v)) if (!allowed.includes(k)) c.problems.push({ where: [...where, k], message: `unknown key "${k}" (expected one of: ${allowed.join(', ')})` });
  for (const k of required) if (!(k in v)) c.problems.push({ where, message: `missing key "${k}"` });
  return true;
}

function expect(c: Check, v: unknown, where: Where, what: string, ok: (x: unknown) => boolean): void {
  if (v !== undefined && !ok(v)) c.problems.push({ where, message: `expected ${what}` });
}

const isStr = (x: unknown): boolean => typeof x === 'string';
const isBool = (x: unknown): boolean => typeof x === 'boolean';
const isStrOrNull = (x: unknown): boolean => x === null || typeof x === 'string';
const isStrList = (x: unknown): boolean => Array.isArray(x) && x.every(isStr);

function checkLxd(c: Check, v: unknown, where: Where): void {
  if (v === null || v === undefined) return;
  if (!keys(c, v, where, ['flavour', 'version', 'daemon', 'initialised'], ['flavour'])) return;
  expect(c, v.flavour, [...where, 'flavour'], 'one of debian, incus, snap', (x) => FLAVOURS.includes(x as string));
  expect(c, v.version, [...where, 'version'], 'a string', isStr);
  expect(c, v.daemon, [...where, 'daemon'], 'one of up, socket, down', (x) => ['up', 'socket', 'down'].includes(x as string));
  if (isObj(v.initialised)) {
    keys(c, v.initialised, [...where, 'initialised'], ['pool', 'bridge', 'ipv4']);
    for (const k of ['pool', 'bridge', 'ipv4']) expect(c, v.initialised[k], [...where, 'initialised', k], 'a string', isStr);
  } else expect(c, v.initialised, [...where, 'initialised'], 'true, false or a mapping', isBool);
}

function checkImage(c: Check, v: unknown, where: Where): void {
  if (!keys(c, v, where, ['alias', 'aliases', 'fingerprint', 'lxd', 'systemd', 'uidmapTools', 'shell'])) return;
  expect(c, v.alias, [...where, 'alias'], 'a string', isStr);
  expect(c, v.aliases, [...where, 'aliases'], 'a list of strings', isStrList);
  expect(c, v.fingerprint, [...where, 'fingerprint'], 'a sha256 in hex', (x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x));
  if (v.alias === undefined && v.aliases === undefined && v.fingerprint === undefined) c.problems.push({ where, message: 'an image needs an alias or a fingerprint' });
  expect(c, v.systemd, [...where, 'systemd'], 'true or false', isBool);
  expect(c, v.uidmapTools, [...where, 'uidmapTools'], 'true or false', isBool);
  expect(c, v.shell, [...where, 'shell'], 'true or false', isBool);
  if (isObj(v.lxd)) {
    const w = [...where, 'lxd'];
    if (keys(c, v.lxd, w, ['flavour', 'version', 'subuid', 'subgid'], ['flavour'])) {
      expect(c, v.lxd.flavour, [...w, 'flavour'], 'one of debian, incus, snap', (x) => FLAVOURS.includes(x as string));
      expect(c, v.lxd.version, [...w, 'version'], 'a string', isStr);
      expect(c, v.lxd.subuid, [...w, 'subuid'], 'a string or null', isStrOrNull);
      expect(c, v.lxd.subgid, [...w, 'subgid'], 'a string or null', isStrOrNull);
    }
  } else expect(c, v.lxd, [...where, 'lxd'], 'true, false, null or a mapping', (x) => x === null || isBool(x));
}

function checkLevel(c: Check, v: unknown, where: Where, host: boolean): void {
  const allowed = ['lxd', 'systemd', 'uidmapTools', 'subuid', 'subgid', 'images', 'instances', ...(host ? ['uidMap', 'beside'] : [])];
  if (!keys(c, v, where, allowed)) return;
  checkLxd(c, v.lxd, [...where, 'lxd']);
  if (isObj(v.beside)) {
    const { images, ...lxd } = v.beside;
    checkLxd(c, lxd, [...where, 'beside']);
    if (images !== undefined) checkLevel(c, { images }, [...where, 'beside'], false);
  } else if (v.beside !== undefined) c.problems.push({ where: [...where, 'beside'], message: 'expected a mapping (flavour, version, daemon, initialised, images)' });
  expect(c, v.systemd, [...where, 'systemd'], 'true or false', isBool);
  expect(c, v.uidmapTools, [...where, 'uidmapTools'], 'true or false', isBool);
  expect(c, v.uidMap, [...where, 'uidMap'], 'a string', isStr);
  expect(c, v.subuid, [...where, 'subuid'], 'a string or null', isStrOrNull);
  expect(c, v.subgid, [...where, 'subgid'], 'a string or null', isStrOrNull);
  if (v.images !== undefined) {
    if (!Array.isArray(v.images)) c.problems.push({ where: [...where, 'images'], message: 'expected a list' });
    else v.images.forEach((img, i) => checkImage(c, img, [...where, 'images', i]));
  }
  if (v.instances !== undefined) {
    if (!Array.isArray(v.instances)) c.problems.push({ where: [...where, 'instances'], message: 'expected a list' });
    else v.instances.forEach((inst, i) => checkInstance(c, inst, [...where, 'instances', i]));
  }
}

function checkInstance(c: Check, v: unknown, where: Where): void {
  if (!keys(c, v, where, ['name', 'image', 'status', 'profiles', 'config', 'inside'], ['name', 'image'])) return;
  expect(c, v.name, [...where, 'name'], 'a container name', (x) => typeof x === 'string' && /^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(x) && !x.endsWith('-'));
  expect(c, v.image, [...where, 'image'], 'a string', isStr);
  expect(c, v.status, [...where, 'status'], 'Running or Stopped', (x) => x === 'Running' || x === 'Stopped');
  expect(c, v.profiles, [...where, 'profiles'], 'a list of strings', isStrList);
  if (v.config !== undefined) {
    if (!isObj(v.config)) c.problems.push({ where: [...where, 'config'], message: 'expected a mapping' });
    else
      for (const [k, x] of Object.entries(v.config)) {
        if (!['string', 'number', 'boolean'].includes(typeof x)) c.problems.push({ where: [...where, 'config', k], message: 'expected a scalar (LXD stores every value as a string)' });
      }
  }
  if (v.inside !== undefined) checkLevel(c, v.inside, [...where, 'inside'], false);
}

/** LXD stores config values as strings: `true` → "true", 65536 → "65536". */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (!isObj(v)) return v;
  const out: Raw = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === 'config' && isObj(x) ? Object.fromEntries(Object.entries(x).map(([ck, cv]) => [ck, String(cv)])) : normalise(x);
  }
  return out;
}

/** Parse a world description (YAML or JSON); problems are InputError diagnostics with file:line:col. */
export function parseWorld(text: string, file: string): WorldDescription {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const diag = (offset: number, message: string): Diagnostic => {
    const pos = lineCounter.linePos(offset);
    return { severity: 'error', file, line: pos.line, column: pos.col, message };
  };
  if (doc.errors.length > 0) throw new InputError(doc.errors.map((e) => diag(e.pos[0], e.message.split('\n')[0] ?? e.message)), { file, text });
  const at = (where: Where): number => {
    for (let n = where.length; n >= 0; n -= 1) {
      const node = doc.getIn(where.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return node.range[0];
    }
    return 0;
  };
  const raw: unknown = doc.toJS();
  const c: Check = { problems: [] };
  if (keys(c, raw, [], ['clock', 'host', 'remotes'], ['host'])) {
    expect(c, raw.clock, ['clock'], 'a whole number of seconds', (x) => Number.isSafeInteger(x) && (x as number) >= 0);
    if (raw.host !== undefined) checkLevel(c, raw.host, ['host'], true);
    if (raw.remotes !== undefined) {
      if (!isObj(raw.remotes)) c.problems.push({ where: ['remotes'], message: 'expected a mapping of remote name to images' });
      else
        for (const [name, images] of Object.entries(raw.remotes)) {
          if (!Array.isArray(images)) c.problems.push({ where: ['remotes', name], message: 'expected a list of images' });
          else images.forEach((img, i) => checkImage(c, img, ['remotes', name, i]));
        }
    }
  }
  if (c.problems.length > 0) throw new InputError(c.problems.map((p) => diag(at(p.where), p.message)), { file, text });
  const desc = normalise(raw) as WorldDescription;
  try {
    build(desc); // semantic problems (unknown images, impossible maps) found now, with positions
  } catch (e) {
    if (e instanceof DescribeError) throw new InputError([diag(at(e.where), e.message)], { file, text });
    throw e;
  }
  return desc;
}
