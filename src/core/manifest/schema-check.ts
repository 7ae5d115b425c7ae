// Validation against schemas/manifest.schema.json (the file editors use too), with ajv's errors
// turned into plain words at the place the user has to change.

import type { ErrorObject, ValidateFunction } from 'ajv';
import generated from '../generated/manifest-validator.js';
import { type Diagnostic, sourceAt } from '../diagnostics.js';
import type { SourcePos } from './model.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';
import { closest, dataAt, isRecord, place, subject, typeWords, valueWords } from './words.js';

// Compiled at build time (scripts/compile-schemas.mjs): strict, every error, with the schema and
// data kept on each error for the wording.
const validate = generated as unknown as ValidateFunction;

export function schemaFindings(data: unknown, src: Source): Diagnostic[] {
  if (validate(data)) return [];
  const found = (validate.errors ?? []).flatMap((e) => translate(e, data, src));
  const seen = new Set<string>();
  return found.filter((f) => {
    const key = `${JSON.stringify(f.where)}:${f.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function parsePointer(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Name, owner and config-key syntax are reported by checks.ts, which can say exactly what is wrong. */
function checkedInCode(e: ErrorObject, path: Path): boolean {
  if (e.keyword === 'propertyNames' || e.propertyName !== undefined) return true;
  if (
    (e.keyword === 'pattern' || e.keyword === 'maxLength') &&
    path[path.length - 1] === 'owner' &&
    (path[0] === 'host' || path[0] === 'hosts')
  )
    return true;
  if (e.keyword === 'pattern' && path[path.length - 2] === 'ignore_changes') return true;
  return e.keyword === 'pattern' && path[path.length - 1] === 'name' && path[path.length - 3] === 'containers';
}

/** First sentence of the schema's description of the value: what the key is for. */
function describe(e: ErrorObject): string | undefined {
  const d: unknown = e.parentSchema?.['description'];
  return typeof d === 'string' ? (/^.*?\.(?=\s|$)/.exec(d)?.[0] ?? d) : undefined;
}

const REQUIRED_HINTS: Record<string, string> = {
  apiVersion: 'start the manifest with "apiVersion: nestctl/v1", then list the containers under "containers:"',
  containers: 'list the containers under "containers:", each with at least a name and an image',
  name: 'give the container a name, e.g. "name: c1"',
  hosts: 'name at least one host, e.g. "local: {}" for this machine, or leave hosts: out',
  image: 'set image to an alias or fingerprint on its parent LXD (e.g. "image: busybox"), or set defaults.image for every container',
};

function translate(e: ErrorObject, data: unknown, src: Source): Diagnostic[] {
  const path = parsePointer(e.instancePath);
  if (e.keyword === 'if' || checkedInCode(e, path)) return [];
  const error = (pos: SourcePos, message: string, hint?: string): Diagnostic[] => [
    { severity: 'error', fault: 'user', where: sourceAt(src.file, pos), message, ...(hint ? { hint } : {}) },
  ];
  const what = subject(data, path);
  const value = dataAt(data, path);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p['additionalProperty']);
      const props: unknown = e.parentSchema?.['properties'];
      const allowed = isRecord(props) ? Object.keys(props) : [];
      const guess = closest(key, allowed);
      const list = `allowed keys here: ${allowed.join(', ')}`;
      return error(
        keyPos(src, [...path, key]),
        `unknown key "${key}" in ${place(data, path)}`,
        guess ? `did you mean "${guess}"? ${list}` : list,
      );
    }
    case 'required': {
      const key = String(p['missingProperty']);
      return error(valuePos(src, path), `${what} is missing the required key "${key}"`, REQUIRED_HINTS[key]);
    }
    case 'type':
      if (path.length === 0) {
        const message =
          value === null ? 'the manifest is empty' : `the manifest must be a mapping (key: value lines), not ${valueWords(value)}`;
        return error(valuePos(src, path), message, REQUIRED_HINTS['apiVersion']);
      }
      return error(
        valuePos(src, path),
        `${what} must be ${typeWords(p['type'] as string | string[])}, not ${valueWords(value)}`,
        describe(e),
      );
    case 'enum': {
      const allowed = (p['allowedValues'] as unknown[]).map(String);
      const guess = typeof value === 'string' ? closest(value, allowed) : null;
      return error(
        valuePos(src, path),
        `${what} must be one of ${allowed.join(', ')}, not ${valueWords(value)}`,
        guess ? `did you mean "${guess}"?` : describe(e),
      );
    }
    case 'const':
      return error(valuePos(src, path), `${what} must be ${valueWords(p['allowedValue'])}, not ${valueWords(value)}`, describe(e));
    case 'minimum':
      return error(valuePos(src, path), `${what} must be at least ${String(p['limit'])}, not ${valueWords(value)}`, describe(e));
    case 'maximum':
      return error(valuePos(src, path), `${what} must be at most ${String(p['limit'])}, not ${valueWords(value)}`, describe(e));
    case 'minItems':
    case 'minLength':
    case 'minProperties':
      return error(valuePos(src, path), `${what} must not be empty`, REQUIRED_HINTS[String(path[path.length - 1])] ?? describe(e));
    case 'uniqueItems': {
      const later = Math.max(Number(p['i']), Number(p['j']));
      const dup = Array.isArray(value) ? value[later] : undefined;
      return error(valuePos(src, [...path, later]), `${what} lists ${valueWords(dup)} more than once`, 'list each one once');
    }
    case 'pattern': {
      const rule: unknown = e.parentSchema?.['patternErrorMessage'];
      return error(valuePos(src, path), `${what} is not valid: ${valueWords(value)}`, typeof rule === 'string' ? rule : describe(e));
    }
    default:
      return error(valuePos(src, path), `${what} ${e.message ?? 'is not valid'}`, describe(e));
  }
}
