// reportError: what reaches the user's terminal for each kind of failure. No stack trace unless
// NESTCTL_DEBUG=1 asks for one.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../src/cli/report.js';
import { NestctlError } from '../../src/core/errors.js';
import { colours } from '../../src/render/colour.js';

function stderrOf(e: unknown): string {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    expect(reportError(e, colours(false))).toBe(1);
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe('reportError', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('an unexpected error: "internal error: MESSAGE", how to report it, and no stack trace', () => {
    vi.stubEnv('NESTCTL_DEBUG', '');
    const text = stderrOf(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(text).toContain("internal error: Cannot read properties of undefined (reading 'x')");
    expect(text).toContain('NESTCTL_DEBUG=1');
    expect(text).not.toMatch(/^\s+at /m);
  });

  it('with NESTCTL_DEBUG=1 the stack trace is printed too', () => {
    vi.stubEnv('NESTCTL_DEBUG', '1');
    const text = stderrOf(new TypeError('boom'));
    expect(text).toContain('internal error: boom');
    expect(text).toMatch(/^\s+at /m);
  });

  it('a thrown non-Error value is reported by its text', () => {
    vi.stubEnv('NESTCTL_DEBUG', '');
    expect(stderrOf('just a string')).toContain('internal error: just a string');
  });

  it('a typed error prints its message and hint, no stack', () => {
    vi.stubEnv('NESTCTL_DEBUG', '');
    const text = stderrOf(new NestctlError('user', 'bad flag', 'use a good one'));
    expect(text).toBe('Error: bad flag\n  use a good one\n');
  });
});
