// --host-restart ARGV: the one place its value is parsed. Words, or a JSON array of strings; the
// result is run as argv (never through a shell), so argv[0] must name a program.

import { NestctlError } from '../core/errors.js';

const EXAMPLE = `e.g. --host-restart 'systemctl restart lxd' or --host-restart '["systemctl","restart","lxd"]'`;

function refuse(problem: string): never {
  throw new NestctlError('user', `--host-restart: ${problem}`, EXAMPLE);
}

export function parseHostRestart(value: string): string[] {
  const v = value.trim();
  let words: string[];
  if (v.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      refuse(`not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) refuse(`expected a JSON array of strings, got ${value}`);
    words = parsed;
    if (words.some((w) => w.length === 0)) refuse('empty word in the JSON array');
  } else {
    words = v.split(/\s+/).filter(Boolean);
  }
  if (words.length === 0) refuse('empty command');
  if (words[0]!.startsWith('-')) refuse(`"${words[0]}" is an option, not a program to run`);
  return words;
}
