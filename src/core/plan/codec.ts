// Saved plan text → Plan, or a typed error saying what is wrong with it. Pure: the caller reads
// the file. A plan that decodes is still not trusted: apply plans its manifest again and compares.

import type { ErrorObject, ValidateFunction } from 'ajv';
import schema from '../../../schemas/plan.schema.json' with { type: 'json' };
import generated from '../generated/plan-validator.js';
import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { InputError, NestctlError } from '../errors.js';
import { type Path, parseSource, valuePos } from '../manifest/source.js';
import { isRecord } from '../manifest/words.js';
import { sha256 } from '../hash.js';
import { PLAN_FORMAT_VERSION, type Plan } from './model.js';

/** Real plans are tens of kilobytes; anything near this is not one. */
export const MAX_PLAN_BYTES = 16 * 1024 * 1024;

const PLAN_AGAIN = 'a saved plan is written by nestctl plan --out and is not edited by hand; run nestctl plan --out again';

export type DecodeResult = { ok: true; plan: Plan } | { ok: false; error: NestctlError };

// Compiled at build time (scripts/compile-schemas.mjs): strict, every error.
const validate = generated as unknown as ValidateFunction;

/** A manifest never has a top-level formatVersion; a saved plan always has. */
export function looksLikeSavedPlan(text: string): boolean {
  if (!text.trimStart().startsWith('{')) return false;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) && 'formatVersion' in value;
  } catch {
    // Cut short or edited into invalid JSON: still meant as a plan if it names a format.
    return /^\s*\{\s*"formatVersion"\s*:/.test(text);
  }
}

export function encodePlan(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** `tool` is this nestctl ("nestctl 0.1.0"): plans of other versions are refused. */
export function decodePlan(text: string, file: string, tool: string): DecodeResult {
  const fail = (message: string, hint = PLAN_AGAIN): DecodeResult => ({
    ok: false,
    error: new NestctlError('user', `${file}: ${message}`, hint),
  });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PLAN_BYTES) return fail(`${bytes} bytes: larger than ${MAX_PLAN_BYTES / (1024 * 1024)} MiB, too large for a saved plan`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: new InputError([jsonSyntaxDiagnostic(text, file, e)], { file, text }) };
  }
  if (!isRecord(data)) return fail('a saved plan is a JSON object');
  if (data['formatVersion'] !== PLAN_FORMAT_VERSION) {
    return fail(
      `plan format ${JSON.stringify(data['formatVersion'])} is not supported (this nestctl reads format ${PLAN_FORMAT_VERSION})`,
      'run nestctl plan --out again with this version',
    );
  }
  if (data['tool'] !== tool) {
    return fail(
      `the plan was made by ${JSON.stringify(data['tool'])}, this is ${tool}`,
      'plans are applied by the nestctl that made them; run nestctl plan --out again with this version',
    );
  }
  if (!validate(data))
    return { ok: false, error: new InputError(schemaDiagnostics(validate.errors ?? [], data, text, file), { file, text }) };
  const plan = data as unknown as Plan;
  if (sha256(plan.manifest.text) !== plan.manifest.sha256) {
    return fail('manifest.sha256 is not the sha256 of manifest.text: the manifest in the plan was changed after it was saved');
  }
  return { ok: true, plan };
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function jsonSyntaxDiagnostic(text: string, file: string, e: unknown): Diagnostic {
  const message = e instanceof Error ? e.message : String(e);
  // V8 says "... in JSON at position N" (or nothing when the text ends early).
  const at = /at position (\d+)/.exec(message);
  const pos = positionOf(text, at ? Number(at[1]) : text.length);
  return {
    severity: 'error',
    fault: 'user',
    where: { kind: 'source', file, ...pos },
    message: `not valid JSON: ${message}`,
    hint: PLAN_AGAIN,
  };
}

const pathWords = (path: Path): string =>
  path
    .map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_]\w*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`))
    .join('')
    .replace(/^\./, '') || 'the plan';

/**
 * Steps are a oneOf over kinds, so ajv reports every kind's complaints; only those of the kind the
 * step says it is (or, for an unknown kind, the kind itself) are worth showing.
 */
function relevant(errors: ErrorObject[], data: unknown): ErrorObject[] {
  const kindOf = (path: Path): unknown => {
    let v: unknown = data;
    for (const seg of path) v = isRecord(v) || Array.isArray(v) ? (v as Record<string, unknown>)[seg] : undefined;
    return isRecord(v) ? v['kind'] : undefined;
  };
  const kinds = schema.definitions.step.oneOf.map((branch) => branch.properties.kind.const);
  const kept = errors.filter((e) => {
    // ajv gives schema paths relative to the $ref'd definition: "#/oneOf/<kind index>/...".
    const m = /^\/steps\/(\d+)(\/|$)/.exec(e.instancePath);
    const branch = /^#\/oneOf\/(\d+)\//.exec(e.schemaPath)?.[1];
    if (!m || branch === undefined || e.instancePath.includes('/precondition')) return true;
    return kinds[Number(branch)] === kindOf(['steps', Number(m[1])]);
  });
  // "must match exactly one schema in oneOf" only repeats what the errors inside say.
  const specific = kept.filter((e) => e.keyword !== 'oneOf');
  return specific.length > 0 ? specific : kept.length > 0 ? kept : errors;
}

function schemaDiagnostics(errors: ErrorObject[], data: unknown, text: string, file: string): Diagnostic[] {
  const src = parseSource(text, file);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of relevant(errors, data)) {
    const path: Path =
      e.instancePath === ''
        ? []
        : e.instancePath
            .slice(1)
            .split('/')
            .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
            .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const p = e.params as { additionalProperty?: string; allowedValues?: unknown[] };
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String(p.additionalProperty)})`
        : e.keyword === 'enum'
          ? `: ${(p.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`
          : '';
    const message = `${pathWords(path)} ${e.message ?? 'is not valid'}${extra}`;
    if (seen.has(message)) continue;
    seen.add(message);
    const { line, col } = valuePos(src, path);
    out.push({
      severity: 'error',
      fault: 'user',
      where: sourceAt(file, { line, col }),
      message: `not a valid nestctl plan: ${message}`,
      hint: PLAN_AGAIN,
    });
  }
  return out;
}
