import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/core/duration.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('--lock-timeout durations', () => {
  it('reads 0, ms, s, m and h', () => {
    expect(['0', '500ms', '30s', '2m', '1h'].map((t) => parseDuration('--lock-timeout', t))).toEqual([0, 500, 30_000, 120_000, 3_600_000]);
  });

  it('refuses a number without unit, a negative or a word, naming the flag and the right form', () => {
    for (const bad of ['30', '-1s', 'soon', '1.5m', '']) {
      expect(() => parseDuration('--lock-timeout', bad)).toThrow(
        `--lock-timeout: expected a duration like 30s, 2m or 0, got ${JSON.stringify(bad)}`,
      );
    }
  });

  it('apply with a bad --lock-timeout exits 1 before planning anything', async () => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist/src/cli/main.js'),
        'apply',
        '--simulate',
        '--auto-approve',
        '--lock-timeout',
        'soon',
        'test/unit/fixtures/leaf.yaml',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((ok) => child.on('exit', ok));
    expect(code).toBe(1);
    expect(out).toContain('--lock-timeout: expected a duration like 30s, 2m or 0, got "soon"');
    expect(out).not.toContain('nestctl will perform');
  });
});
