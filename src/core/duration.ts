// Durations on the command line (--lock-timeout): a number with a unit, like `30s` or `2m`.

import { NestctlError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds for `0`, `500ms`, `30s`, `2m`, `1h`; throws a user error naming the flag otherwise. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m || (m[2] === undefined && m[1] !== '0')) {
    throw new NestctlError('user', `${flag}: expected a duration like 30s, 2m or 0, got ${JSON.stringify(text)}`, 'units: ms, s, m, h');
  }
  return Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS];
}
