// Text that came from outside nestctl (a container's files, config values set by hand, names and
// messages read back, a nested client's stderr, a world or plan file) is data, never instructions
// to the operator's terminal. Before a renderer shows it, every character that would act instead
// of print is written as an escape a reader can see: C0 and C1 controls and DEL (ESC starts every
// terminal sequence: clear screen, set title, OSC 8 links), format characters (bidi overrides and
// isolates such as U+202E, zero-width and invisible characters, the BOM), line and paragraph
// separators, and lone surrogates. `--json` output keeps the exact text; this is for people.

import { OWN_SEQUENCES } from './colour.js';

/** Every character that is not shown as itself. */
const ACTING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
/** As ACTING, but newlines and tabs keep their meaning (a file's lines, a multi-line message). */
const ACTING_IN_LINES = /[^\P{Cc}\n\t]|[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** `\x1b` for a C0/C1 control, `\u202e` for others in the BMP, `\u{e0001}` beyond. */
export function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** One line's worth of outside text (a value, a name): nothing in it acts, not even a newline. */
export function visible(text: string): string {
  return text.replace(ACTING, escapeChar);
}

/** Outside text of several lines (a file, a message): newlines and tabs kept, nothing else acts. */
export function visibleLines(text: string): string {
  return text.replace(ACTING_IN_LINES, escapeChar);
}

/** A value as the plan text quotes it: JSON's quoting, then nothing that acts (JSON leaves C1, DEL and bidi raw). */
export const quoted = (value: unknown): string => visible(JSON.stringify(value) ?? String(value));

const SGR_OR_ACTING = /\x1b\[[0-9;]*m|[^\P{Cc}\n\t]|[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * The last guard before a terminal: whatever a renderer built, nothing in it acts but newlines,
 * tabs and, when colours are on, nestctl's own colour sequences (render/colour.ts). With colours
 * off (NO_COLOR, --no-color, not a terminal) not one ESC byte gets through.
 */
export function terminalText(text: string, coloursOn: boolean): string {
  return text.replace(SGR_OR_ACTING, (m) =>
    m.length === 1 ? escapeChar(m) : coloursOn && OWN_SEQUENCES.has(m) ? m : `\\x1b${m.slice(1)}`,
  );
}
