// Reading a world description from text (YAML or JSON, for `--world FILE` and `--state FILE`):
// the shape checked against schemas/world.schema.json, with file:line:col for every problem, then
// a trial build so impossible worlds are reported the same way.

import { LineCounter, parseDocument } from 'yaml';
import { type Diagnostic, sourceAt } from '../core/diagnostics.js';
import { InputError } from '../core/errors.js';
import { worldShapeProblems } from './world-schema.js';
import { build, DescribeError, type Where } from './build-world.js';
import { serverWorld, type WorldDescription } from './world-file.js';

type Raw = Record<string, unknown>;

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

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
    return { severity: 'error', fault: 'user', where: sourceAt(file, pos), message };
  };
  if (doc.errors.length > 0)
    throw new InputError(
      doc.errors.map((e) => diag(e.pos[0], e.message.split('\n')[0] ?? e.message)),
      { file, text },
    );
  const at = (where: Where): number => {
    for (let n = where.length; n >= 0; n -= 1) {
      const node = doc.getIn(where.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return node.range[0];
    }
    return 0;
  };
  const raw: unknown = doc.toJS();
  const seen = new Set<string>();
  const problems = worldShapeProblems(raw).flatMap((p) => {
    const d = diag(at(p.where), p.message);
    const key = `${JSON.stringify(d.where)}:${d.message}`;
    return seen.has(key) ? [] : (seen.add(key), [d]);
  });
  if (problems.length > 0) throw new InputError(problems, { file, text });
  const desc = normalise(raw) as WorldDescription;
  // Semantic problems (unknown images, impossible maps) found now, with positions; each server's machine too.
  const trial = (d: WorldDescription, under: Where): void => {
    try {
      build(d);
    } catch (e) {
      if (e instanceof DescribeError) throw new InputError([diag(at([...under, ...e.where]), e.message)], { file, text });
      throw e;
    }
  };
  trial(desc, []);
  for (const [remote, server] of Object.entries(desc.servers ?? {})) trial(serverWorld(desc, server), ['servers', remote]);
  return desc;
}
