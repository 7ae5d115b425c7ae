// What a level says about itself is data, and checked as such before anything is built from it:
// the shape of each record, names LXD itself would accept, no record given twice. A level that
// answers otherwise is refused (UntrustedAnswerError, naming it), never half believed.

import { UntrustedAnswerError } from '../errors.js';

/**
 * An instance name as LXD and Incus accept one (a hostname label: letters, digits and "-", at
 * most 63, not starting or ending with "-"; lxd/instance ValidName). Anything else, a "/" or
 * ".." above all, never comes from a real daemon and could pose as a path.
 */
const INSTANCE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function refuse(what: string, level: string): never {
  throw new UntrustedAnswerError(what, level);
}

/** `value` as an array of objects, or a refusal naming `what`. */
export function records<T>(value: unknown, what: string, level: string): T[] {
  if (!Array.isArray(value)) refuse(`${what} is not a list`, level);
  for (const r of value)
    if (r === null || typeof r !== 'object' || Array.isArray(r)) refuse(`${what} holds a record that is not an object`, level);
  return value as T[];
}

/** A map of strings (a config, a device), as a null-prototype copy: no key it brings can reach Object.prototype. */
export function stringMap(value: unknown, what: string, level: string): Record<string, string> {
  if (value === undefined || value === null) return Object.create(null) as Record<string, string>;
  if (typeof value !== 'object' || Array.isArray(value)) refuse(`${what} is not a map`, level);
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') refuse(`${what}: ${JSON.stringify(k)} is not a string`, level);
    out[k] = v;
  }
  return out;
}

export function instanceName(name: unknown, level: string): string {
  if (typeof name !== 'string' || !INSTANCE_NAME.test(name))
    refuse(`an instance is named ${JSON.stringify(name)}, which LXD never allows`, level);
  return name;
}

/** Refuses a second record with the same key. */
export function unique<T>(items: readonly T[], key: (item: T) => string, what: string, level: string): T[] {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) refuse(`${what} ${JSON.stringify(k)} is listed twice`, level);
    seen.add(k);
  }
  return [...items];
}
