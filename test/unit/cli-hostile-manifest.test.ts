// Hostile manifests through the built CLI (npm test builds first): exit 1, the diagnostic at
// file:line:col on stderr, no stack trace; validate and plan refuse the same manifests.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nestctl } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'nestctl-hostile-manifest-'));

const CASES: Array<[string, string, string]> = [
  [
    'owner',
    'apiVersion: nestctl/v1\nhost:\n  owner: "root:0:65536\\nroot"\ncontainers: [{name: c1, image: nest}]\n',
    '3:10: error: invalid host.owner',
  ],
  [
    'raw-idmap',
    'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    config: {raw.idmap: both 0 0}\n',
    '5:14: error: config key "raw.idmap" in container c1 would change the id map',
  ],
  ['option', 'apiVersion: nestctl/v1\ncontainers:\n  - {name: c1, image: --force}\n', '3:23: error: invalid image "--force"'],
  [
    'self-alias',
    'apiVersion: nestctl/v1\ncontainers: &a [{name: c1, image: nest, containers: *a}]\n',
    '2:53: error: alias *a refers to the block that contains it',
  ],
  [
    'range-end',
    'apiVersion: nestctl/v1\nhost: {base: 4294836224}\ncontainers:\n  - {name: c1, image: nest, containers: [{name: c2, image: nest}]}\n',
    '2:1: error: the tree needs 131072 host ids',
  ],
  [
    'deep',
    `apiVersion: nestctl/v1\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
    '2:164: error: YAML: the manifest nests brackets more than 160 deep',
  ],
];

describe('hostile manifests through the CLI', () => {
  it.each(CASES)('%s: validate and plan --simulate both exit 1 with the diagnostic and no stack trace', async (name, text, expected) => {
    const file = join(tmp, `${name}.yaml`);
    writeFileSync(file, text);
    const [validate, plan] = await Promise.all([nestctl(['validate', file]), nestctl(['plan', '--simulate', file])]);
    for (const r of [validate, plan]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: `));
      expect(r.stderr).toContain(expected);
      expect(r.stderr.split('\n').some((l) => l.startsWith('    at '))).toBe(false);
    }
  });
});
