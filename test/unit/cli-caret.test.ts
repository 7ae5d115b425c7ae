// Input errors on the terminal show the offending source line with a caret under the column
// (manifests, allocation problems, saved plans, worlds); --json output carries no snippet.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nestctl } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'nestctl-caret-'));
const file = (name: string, text: string): string => {
  const f = join(tmp, name);
  writeFileSync(f, text);
  return f;
};

// A bad key at line 12, column 5.
const BAD_KEY = [
  '# yaml-language-server: $schema=../schemas/manifest.schema.json',
  'apiVersion: nestctl/v1',
  'host:',
  '  base: 500000',
  'containers:',
  '  - name: c1',
  '    image: nest',
  '    containers:',
  '      - name: c2',
  '        image: nest',
  '  - name: c3',
  '    imgae: nest',
  '',
].join('\n');

describe('errors with a caret', () => {
  it('validate and plan show line 12 and a caret at column 5 under the message', async () => {
    const f = file('bad-key.yaml', BAD_KEY);
    for (const args of [
      ['validate', f],
      ['plan', '--simulate', f],
    ]) {
      const r = await nestctl(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${f}:12:5: error: unknown key "imgae"`);
      const lines = r.stderr.split('\n');
      const at = lines.findIndex((l) => l.startsWith(`${f}:12:5: error: unknown key "imgae"`));
      expect(lines.slice(at + 1, at + 3)).toEqual(['  12 |     imgae: nest', '     |     ^']);
    }
  });

  it('an allocation problem points at its container', async () => {
    const f = file(
      'tight.yaml',
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    idmap: { isolated: true, size: 65536 }\n    containers:\n      - { name: c2, image: busybox }\n',
    );
    const r = await nestctl(['validate', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}:3:5: error: c1 is isolated`);
    expect(r.stderr).toContain('\n  3 |   - name: c1\n    |     ^\n');
  });

  it('a saved plan that is not valid JSON shows where it breaks', async () => {
    const plan = (await nestctl(['plan', '--simulate', '--json', 'test/unit/fixtures/leaf.yaml'])).stdout;
    const f = file('cut.plan.json', plan.replace('"steps"', '"steps" "')); // a string where a colon belongs
    const r = await nestctl(['apply', f]);
    expect(r.code).toBe(1);
    const m = /:(\d+):(\d+): error: not valid JSON/.exec(r.stderr);
    expect(m).not.toBeNull();
    const line = Number(m![1]);
    expect(r.stderr).toContain(`\n  ${line} |`);
    expect(r.stderr).toMatch(/\n +\| +\^\n/);
    expect(readFileSync(f, 'utf8').split('\n')[line - 1]).toContain('"steps" "');
  });

  it('a world file problem shows its line', async () => {
    const w = file('world.yaml', 'host:\n  lxd: { flavour: debian }\n  bogus: 1\n');
    const r = await nestctl(['plan', '--world', w, 'test/unit/fixtures/leaf.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/world\.yaml:3:10: error: unknown key "bogus".*\n  3 \|   bogus: 1\n    \|          \^\n/);
  });

  it('a warning shows its line too, from validate and from plan', async () => {
    const f = file('warn.yaml', 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n    idmap:\n      size: 65536\n');
    for (const args of [
      ['validate', f],
      ['plan', '--simulate', f],
    ]) {
      const r = await nestctl(args);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/:6:7: warning: idmap\.size in container c1 has no effect.*\n  6 \|       size: 65536\n    \|       \^\n/);
    }
  });

  it('an error without a position (a missing file) prints no snippet', async () => {
    const r = await nestctl(['validate', join(tmp, 'missing.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no such file');
    expect(r.stderr).not.toMatch(/ \| /);
  });

  it('--json output is unchanged: no snippet on stdout or stderr', async () => {
    const f = file('bad-key-json.yaml', BAD_KEY);
    const v = await nestctl(['validate', '--json', f]);
    expect(v.code).toBe(1);
    const doc = JSON.parse(v.stdout) as { diagnostics: { summary: string; range: unknown }[] };
    expect(doc.diagnostics).toContainEqual({
      severity: 'error',
      summary: 'unknown key "imgae" in container c3',
      detail: expect.any(String),
      range: { file: f, line: 12, column: 5 },
    });
    expect(`${v.stdout}${v.stderr}`).not.toContain('12 |');
    const p = await nestctl(['plan', '--simulate', '--json', f]);
    expect(p.code).toBe(1);
    expect(p.stdout).not.toContain('12 |');
  });
});
