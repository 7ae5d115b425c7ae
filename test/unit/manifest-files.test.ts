// The manifest's files: and setup: keys: what is refused, where, and what a valid entry becomes;
// sources read by the CLI relative to the manifest.

import { lineCol } from './helpers/placed.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostics.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { nestctl } from './helpers/cli.js';

const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;
const HEAD = ['apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    image: busybox'];

function errors(text: string): string[] {
  const r = loadManifest(text, 'm.yaml');
  const ds: Diagnostic[] = r.ok ? r.warnings : r.diagnostics;
  return ds.filter((d) => d.severity === 'error').map((d) => `${lineCol(d)} ${d.message}`);
}

describe('files: in the manifest', () => {
  it('refuses a relative path, a .. component, a bad mode, both or neither content and source, a path twice', () => {
    const text = doc(
      ...HEAD,
      '    files:',
      '      - path: etc/motd',
      '        content: hi',
      '      - path: /etc/../shadow',
      '        content: hi',
      '      - path: /etc/a',
      '        content: hi',
      '        mode: "0999"',
      '      - path: /etc/b',
      '        content: hi',
      '        source: b.txt',
      '      - path: /etc/c',
      '      - path: /etc/a',
      '        content: again',
    );
    expect(errors(text)).toEqual([
      '6:15 file path "etc/motd" in container c1: it is not absolute',
      '8:15 file path "/etc/../shadow" in container c1: it has a ".." component',
      '12:15 mode "0999" of /etc/a in container c1 is not an octal mode',
      '13:9 file /etc/b in container c1 has both content and source',
      '16:9 file /etc/c in container c1 has neither content nor source',
      '17:15 file /etc/a is listed twice in container c1 (first at line 10)',
    ]);
  });

  it('refuses unknown keys and negative ids by the schema, at their place', () => {
    const text = doc(...HEAD, '    files:', '      - path: /etc/a', '        content: hi', '        owner: root', '        uid: -1');
    expect(errors(text)).toEqual([
      '8:9 unknown key "owner" in files[0] of container c1',
      '9:14 "files[0].uid" in container c1 must be at least 0, not -1',
    ]);
  });

  it('reads modes as octal however YAML wrote them, defaults 0644 and root, keeps content as bytes', () => {
    const text = doc(
      ...HEAD,
      '    files:',
      '      - { path: /a, content: "x" }',
      '      - { path: /b, content: "x", mode: "0755" }',
      '      - { path: /c, content: "x", mode: 0600 }',
      '      - { path: /d, content: "x", mode: 0o640, uid: 1000, gid: 100 }',
    );
    const r = loadManifest(text, 'm.yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    expect(r.manifest.containers[0]!.files.map((f) => [f.path, f.mode.toString(8), f.uid, f.gid, f.data])).toEqual([
      ['/a', '644', 0, 0, 'eA=='],
      ['/b', '755', 0, 0, 'eA=='],
      ['/c', '600', 0, 0, 'eA=='],
      ['/d', '640', 1000, 100, 'eA=='],
    ]);
  });

  it('refuses a setup command with an empty program and a setup that is not a list of lists', () => {
    expect(errors(doc(...HEAD, '    setup:', '      - ["", x]'))).toEqual([
      '6:10 setup command 1 of container c1 has an empty program name',
    ]);
    expect(errors(doc(...HEAD, '    setup:', '      - touch /x'))).toEqual([
      '6:9 "setup[0]" in container c1 must be a list (- item lines), not "touch /x"',
    ]);
  });
});

describe('files: sources, read by the CLI', () => {
  const manifest = (dir: string, source: string): string => {
    const file = join(dir, 'm.yaml');
    writeFileSync(file, doc(...HEAD, '    files:', '      - path: /etc/motd', `        source: ${source}`));
    return file;
  };

  it('reads a source relative to the manifest and plans its bytes; the saved plan applies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-src-'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'motd'), 'from a source file\n');
    const file = manifest(dir, 'files/motd');
    const r = await nestctl(['plan', '--simulate', '--json', file]);
    expect(r.code).toBe(0);
    const push = (JSON.parse(r.stdout) as { steps: Array<{ kind: string; data?: string }> }).steps.find((s) => s.kind === 'push-file');
    expect(Buffer.from(push!.data!, 'base64').toString()).toBe('from a source file\n');
    // A saved plan with push-file and run-setup steps passes the plan schema and re-derives equal.
    const out = join(dir, 'p.json');
    expect((await nestctl(['plan', '--simulate', '--out', out, file])).code).toBe(0);
    const applied = await nestctl(['apply', '--ci', out]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
  });

  it('refuses a missing source, a directory and one over 1 MiB, at the source line, changing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-src-'));
    mkdirSync(join(dir, 'adir'));
    writeFileSync(join(dir, 'big'), Buffer.alloc(1024 * 1024 + 1));
    for (const [source, words] of [
      ['nope.txt', 'does not exist'],
      ['adir', 'is not a regular file'],
      ['big', 'is 1048577 bytes, more than 1 MiB'],
    ] as const) {
      const file = manifest(dir, source);
      const r = await nestctl(['validate', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${file}:7:17`);
      expect(r.stderr).toContain(words);
      const p = await nestctl(['plan', '--simulate', file]);
      expect(p.code).toBe(1);
      expect(p.stderr).toContain(words);
    }
  });
});

describe('files: owners inside the container', () => {
  it('refuses a uid the container does not map, at the file, before anything is changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-owner-'));
    const file = join(dir, 'm.yaml');
    writeFileSync(
      file,
      doc(...HEAD, '    idmap: { isolated: true, size: 65536 }', '    files:', '      - { path: /etc/x, content: "x", uid: 65536 }'),
    );
    const r = await nestctl(['plan', '--simulate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:7:9: error: /etc/x in c1 is owned by 65536:0, but c1 maps only ids 0-65535`);
    writeFileSync(
      file,
      doc(...HEAD, '    idmap: { isolated: true, size: 65536 }', '    files:', '      - { path: /etc/x, content: "x", uid: 65535 }'),
    );
    expect((await nestctl(['plan', '--simulate', file])).code).toBe(0);
  });
});
