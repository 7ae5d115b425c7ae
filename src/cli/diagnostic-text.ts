// How the CLI shows a diagnostic: `file:line:col: severity: message`, the offending source line
// with a caret (as Terraform shows it), then the hint. Only the CLI formats diagnostics.

import type { Diagnostic } from '../core/diagnostics.js';

/** The input a command read: diagnostics without a place point at its start. */
export interface InputFile {
  file: string;
  text?: string;
}

/** file:line:column of a diagnostic; one without a source position is the input file's 1:1. */
export function rangeOf(d: Diagnostic, file: string): { file: string; line: number; column: number } {
  return d.where.kind === 'source' ? { file: d.where.file, line: d.where.line, column: d.where.column } : { file, line: 1, column: 1 };
}

/**
 * `file:line:col: severity: message`, then (given the file's text) the offending line with a
 * caret under the column, then the hint. A diagnostic without a position shows no source line.
 */
export function formatDiagnostic(d: Diagnostic, input?: InputFile): string {
  const r = rangeOf(d, input?.file ?? '');
  const text = d.where.kind === 'source' && input?.file === d.where.file ? input.text : undefined;
  const snippet = text === undefined ? '' : sourceSnippet(text, r.line, r.column);
  const hint = d.hint ? `\n  ${d.hint}` : '';
  return `${r.file}:${r.line}:${r.column}: ${d.severity}: ${d.message}${snippet ? `\n${snippet}` : ''}${hint}`;
}

/** The widest source line shown; longer lines are cut around the column. */
export const SNIPPET_WIDTH = 80;
const TAB_STOP = 8;

/**
 * Two lines, `  12 |     image: nest` and `     |     ^`, or '' when the position is not in
 * the text. Tabs are expanded so the caret stays under its character, control characters are
 * shown as U+FFFD (the line is hostile input reaching a terminal), and a long line is cut to a
 * window around the column.
 */
export function sourceSnippet(text: string, line: number, column: number): string {
  if (!Number.isSafeInteger(line) || !Number.isSafeInteger(column) || line < 1 || column < 1) return '';
  const lines = linesOf(text);
  if (line > lines.length) return '';
  const raw = lines[line - 1]!.replace(/\r$/, '');
  if (column > raw.length + 1) return '';
  const cells: string[] = [];
  let caret = 0;
  for (let i = 0; i < raw.length; i += 1) {
    if (i === column - 1) caret = cells.length;
    const ch = raw[i]!;
    if (ch === '\t') cells.push(...' '.repeat(TAB_STOP - (cells.length % TAB_STOP)));
    else cells.push(isControl(ch) ? '\uFFFD' : ch);
  }
  if (column - 1 >= raw.length) caret = cells.length;
  let from = 0;
  let to = cells.length;
  if (cells.length > SNIPPET_WIDTH) {
    from = Math.max(0, Math.min(caret - Math.floor(SNIPPET_WIDTH / 2), cells.length - SNIPPET_WIDTH));
    to = from + SNIPPET_WIDTH;
  }
  const before = from > 0 ? '…' : '';
  const after = to < cells.length ? '…' : '';
  const shown = `${before}${cells.slice(from, to).join('')}${after}`.trimEnd();
  const number = String(line);
  const gutter = ' '.repeat(number.length);
  return `  ${number} | ${shown}\n  ${gutter} | ${' '.repeat(before.length + caret - from)}^`;
}

// A file's diagnostics all come with the same text; splitting it once keeps thousands of them
// (a hostile 1 MiB manifest) linear. Remembering the last text changes no result.
let split: { text: string; lines: string[] } | null = null;
function linesOf(text: string): string[] {
  if (split?.text !== text) split = { text, lines: text.split('\n') };
  return split.lines;
}

// C0 (tab handled apart), DEL, C1, and the bidirectional overrides that reorder what is shown.
const isControl = (ch: string): boolean => /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(ch);
