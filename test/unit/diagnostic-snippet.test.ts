// formatDiagnostic (the CLI's): the offending source line and a caret under the column, as Terraform shows
// them; none when the diagnostic has no real position or the position is not in the text.

import { describe, expect, it } from 'vitest';
import { type Diagnostic, nodeAt } from '../../src/core/diagnostics.js';
import { SNIPPET_WIDTH, formatDiagnostic, rangeOf, sourceSnippet } from '../../src/cli/diagnostic-text.js';
import { cpuMs } from './helpers/cpu-time.js';

const at = (line: number, column: number, extra: Partial<Diagnostic> = {}): Diagnostic => ({
  severity: 'error',
  fault: 'user',
  where: { kind: 'source', file: 'm.yaml', line, column },
  message: 'unknown key "imgae"',
  ...extra,
});

describe('formatDiagnostic with the source text', () => {
  const text = Array.from({ length: 11 }, (_, i) => `# line ${i + 1}`)
    .concat(['    imgae: nest', ''])
    .join('\n');

  it('shows line 12 and a caret under column 5, between the message and the hint', () => {
    expect(formatDiagnostic(at(12, 5, { hint: 'did you mean "image"?' }), { file: 'm.yaml', text })).toBe(
      ['m.yaml:12:5: error: unknown key "imgae"', '  12 |     imgae: nest', '     |     ^', '  did you mean "image"?'].join('\n'),
    );
  });

  it('without the text, or for a diagnostic without a real position, prints no snippet', () => {
    expect(formatDiagnostic(at(12, 5), undefined)).toBe('m.yaml:12:5: error: unknown key "imgae"');
    expect(formatDiagnostic(at(12, 5), { file: 'm.yaml' })).toBe('m.yaml:12:5: error: unknown key "imgae"');
    expect(formatDiagnostic(at(1, 1, { where: { kind: 'none' } }), { file: 'm.yaml', text })).toBe(
      'm.yaml:1:1: error: unknown key "imgae"',
    );
  });

  it('shows the text only under a diagnostic that points into that file', () => {
    expect(formatDiagnostic(at(12, 5), { file: 'other.yaml', text })).toBe('m.yaml:12:5: error: unknown key "imgae"');
  });

  it('a position outside the text prints no snippet', () => {
    expect(sourceSnippet(text, 40, 1)).toBe('');
    expect(sourceSnippet(text, 12, 80)).toBe('');
    expect(sourceSnippet(text, 0, 1)).toBe('');
  });

  it('a caret just past the end of the line (JSON cut short) sits after its last character', () => {
    expect(sourceSnippet('{"a": 1', 1, 8)).toBe('  1 | {"a": 1\n    |        ^');
  });
});

describe('sourceSnippet: what the terminal gets', () => {
  it('expands tabs so the caret stays under its character', () => {
    expect(sourceSnippet('key:\t\tvalue\n', 1, 7)).toBe('  1 | key:            value\n    |                 ^');
  });

  it('drops the CR of CRLF line ends and shows control characters as U+FFFD', () => {
    expect(sourceSnippet('a: b\r\nname: x\u001b[31my\r\n', 2, 8)).toBe('  2 | name: x\uFFFD[31my\n    |        ^');
  });

  it('cuts a long line to a window around the column, marked with …', () => {
    const line = `${'a'.repeat(300)}X${'b'.repeat(300)}`;
    const [shown, caret] = sourceSnippet(line, 1, 301).split('\n') as [string, string];
    expect(shown.length).toBeLessThanOrEqual('  1 | '.length + SNIPPET_WIDTH + 2);
    expect(shown.startsWith('  1 | …a')).toBe(true);
    expect(shown.endsWith('b…')).toBe(true);
    expect(shown[caret.indexOf('^')]).toBe('X');
  });

  it('a long line with the column near its start or end keeps that end and one …', () => {
    const line = 'x'.repeat(200);
    const [startShown, startCaret] = sourceSnippet(line, 1, 3).split('\n') as [string, string];
    expect(startShown).toBe(`  1 | ${'x'.repeat(SNIPPET_WIDTH)}…`);
    expect(startCaret).toBe('    |   ^');
    const [endShown, endCaret] = sourceSnippet(line, 1, 200).split('\n') as [string, string];
    expect(endShown).toBe(`  1 | …${'x'.repeat(SNIPPET_WIDTH)}`);
    expect(endCaret.indexOf('^')).toBe(endShown.length - 1);
  });

  it('widens the gutter with the line number', () => {
    const text = `${'\n'.repeat(99)}  bad`;
    expect(sourceSnippet(text, 100, 3)).toBe('  100 |   bad\n      |   ^');
  });
});

describe('plan problems as diagnostics', () => {
  it("one known only by its node points at the manifest's start and prints no snippet; one with a position does", () => {
    const text = 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n';
    const unplaced: Diagnostic = { severity: 'error', fault: 'user', where: nodeAt('m.yaml', ''), message: 'the host range is too small' };
    const placed: Diagnostic = {
      severity: 'error',
      fault: 'user',
      where: nodeAt('m.yaml', 'c1', { line: 3, col: 5 }),
      message: 'c1 is wrong',
    };
    expect(formatDiagnostic(unplaced, { file: 'm.yaml', text })).toBe('m.yaml:1:1: error: the host range is too small');
    expect(formatDiagnostic(placed, { file: 'm.yaml', text })).toBe('m.yaml:3:5: error: c1 is wrong\n  3 |   - name: c1\n    |     ^');
    expect([rangeOf(unplaced, 'm.yaml'), rangeOf(placed, 'm.yaml')]).toEqual([
      { file: 'm.yaml', line: 1, column: 1 },
      { file: 'm.yaml', line: 3, column: 5 },
    ]);
  });
});

describe('many diagnostics in one large file', () => {
  it('are formatted in linear time (the text is split once, not once per diagnostic)', () => {
    const text = Array.from({ length: 40_000 }, (_, i) => `  - {name: 1bad${i}, image: nest}`).join('\n');
    const { value: shown, ms } = cpuMs(() => {
      let n = 0;
      for (let line = 1; line <= 40_000; line += 8) if (formatDiagnostic(at(line, 5), { file: 'm.yaml', text }).includes(' | ')) n += 1;
      return n;
    });
    expect(shown).toBe(5000);
    expect(ms).toBeLessThan(3000);
  });
});
