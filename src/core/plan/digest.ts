// Digests of what a plan was computed from. Key order is normalised so the same state always
// hashes the same; the probe's own clock is left out (it changes on every probe).

import { createHash } from 'node:crypto';
import type { ObservedTree } from '../observed.js';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

export function observedDigest(tree: ObservedTree): string {
  const levels = Object.fromEntries(
    Object.entries(tree.levels).map(([path, obs]) => [path, obs.kind === 'observed' ? { ...obs, level: { ...obs.level, now: 0 } } : obs]),
  );
  return sha256(canonicalJson(levels));
}
