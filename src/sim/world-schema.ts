// The shape of a simulated world description (`--world`, `--state`), checked against
// schemas/world.schema.json (shipped for editors too). Its words live in the schema: each node's
// `expected` says what a value there must be. Pure: the data comes in, problems go out.

import type { ErrorObject, ValidateFunction } from 'ajv';
import generated from '../core/generated/world-validator.js';

/** A path into the data: keys, and array indices as numbers. */
export type DataPath = Array<string | number>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// Compiled at build time (scripts/compile-schemas.mjs), with schema and data kept on each error.
const validate = generated as unknown as ValidateFunction;

function pathOf(pointer: string, data: unknown): DataPath {
  const out: DataPath = [];
  let at: unknown = data;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const step = Array.isArray(at) ? Number(key) : key;
    out.push(step);
    at = (at as Record<string | number, unknown> | undefined)?.[step];
  }
  return out;
}

/**
 * Where the data breaks the schema and what would be right there. Not yet a Diagnostic: the data
 * has no lines; parse-world.ts, which holds the YAML document, places each one at once.
 */
export interface ShapeProblem {
  where: DataPath;
  message: string;
}

function problem(e: ErrorObject, data: unknown): ShapeProblem {
  const where = pathOf(e.instancePath, data);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(p['additionalProperty']);
    const props: unknown = e.parentSchema?.['properties'];
    return {
      where: [...where, key],
      message: `unknown key "${key}" (expected one of: ${Object.keys(isObj(props) ? props : {}).join(', ')})`,
    };
  }
  if (e.keyword === 'required') return { where, message: `missing key "${String(p['missingProperty'])}"` };
  const expected: unknown = e.parentSchema?.['expected'];
  return { where, message: typeof expected === 'string' ? `expected ${expected}` : (e.message ?? 'invalid') };
}

/** Every place the data breaks the schema, with what would be right there. */
export function worldShapeProblems(data: unknown): ShapeProblem[] {
  return validate(data) ? [] : (validate.errors ?? []).map((e) => problem(e, data));
}
