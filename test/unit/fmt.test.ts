// nestctl fmt: the canonical form (schema key order at every level, 2-space indentation, comments
// kept), idempotent, never a change of meaning; the CLI writes only what changes, atomically,
// and --check changes nothing.

import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, type Pair, parseDocument, visit } from 'yaml';
import { declaredKeys, formatManifest } from '../../src/core/manifest/format.js';
import schema from '../../schemas/manifest.schema.json' with { type: 'json' };
import { ROOT, nestctl } from './helpers/cli.js';

const manifests = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${dir}/${f}`);
const SHIPPED = [...manifests('examples'), ...manifests('test/e2e/manifests')];
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const data = (text: string): unknown => parseDocument(text, { merge: true }).toJS();

const scratch = (): string => mkdtempSync(join(tmpdir(), 'nestctl-fmt-'));

const CONTAINER = (schema as unknown as { definitions: { container: { properties: Record<string, unknown> } } }).definitions.container;
const containerKeys = Object.keys(CONTAINER.properties);

describe('formatManifest', () => {
  it('puts keys in the order the schema declares them, at the top level and in containers, hosts and files', () => {
    const text = [
      'containers:',
      '  - image: busybox',
      '    files:',
      '      - mode: 0o644',
      '        content: "hi\\n"',
      '        path: /etc/motd',
      '    name: c1',
      'host:',
      '  flavour: incus',
      '  base: 500000',
      'apiVersion: nestctl/v1',
      '',
    ].join('\n');
    expect(formatManifest(text)).toBe(
      [
        'apiVersion: nestctl/v1',
        'host:',
        '  base: 500000',
        '  flavour: incus',
        'containers:',
        '  - name: c1',
        '    image: busybox',
        '    files:',
        '      - path: /etc/motd',
        '        content: "hi\\n"',
        '        mode: 0o644',
        '',
      ].join('\n'),
    );
  });

  it('keeps comments, blank lines, the column of trailing comments and the order of config keys', () => {
    const text = [
      '# header',
      '',
      'containers:   # the tree',
      '  - image: nest        # LXD inside',
      '    # the name comes first',
      '    name: c1',
      '',
      '    config:',
      '      limits.memory: 4GiB',
      '      limits.cpu: 2',
      'apiVersion: nestctl/v1',
      '',
    ].join('\n');
    const out = formatManifest(text);
    expect(out).toBe(
      [
        '# header',
        '',
        'apiVersion: nestctl/v1',
        'containers:   # the tree',
        '  # the name comes first',
        '  - name: c1',
        '    image: nest        # LXD inside',
        '',
        '    config:',
        '      limits.memory: 4GiB',
        '      limits.cpu: 2',
        '',
      ].join('\n'),
    );
    expect(formatManifest(out)).toBe(out);
  });

  it('re-indents to 2 spaces', () => {
    const text =
      'apiVersion: nestctl/v1\ncontainers:\n    -   name: c1\n        image: busybox\n        config:\n            limits.cpu: 2\n';
    expect(formatManifest(text)).toBe(
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n    config:\n      limits.cpu: 2\n',
    );
  });

  it('refuses, rather than change the meaning, when an alias would come before its anchor', () => {
    const text = 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: &img busybox\ndefaults:\n  image: *img\n';
    expect(() => formatManifest(text)).toThrow(/without changing what it means/);
  });

  it('keeps a merge key first', () => {
    const text = 'apiVersion: nestctl/v1\ncontainers:\n  - image: busybox\n    <<: {config: {limits.cpu: "1"}}\n    name: c1\n';
    expect(formatManifest(text)).toBe(
      'apiVersion: nestctl/v1\ncontainers:\n  - <<: {config: {limits.cpu: "1"}}\n    name: c1\n    image: busybox\n',
    );
  });

  it.each(SHIPPED)('%s is canonical (what `fmt --check` checks)', (path) => {
    expect(formatManifest(read(path))).toBe(read(path));
  });

  // Any order of any mapping's keys of a shipped manifest (comments travel with their keys):
  // fmt gives the schema's order, the same data, and is a no-op on its own output.
  it('is idempotent and keeps the data, whatever the key order it is given', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SHIPPED), fc.infiniteStream(fc.nat()), (path, random) => {
        const doc = parseDocument(read(path), { merge: true });
        visit(doc, {
          Map(_k, map) {
            const items = [...map.items];
            const shuffled: typeof items = [];
            while (items.length > 0) shuffled.push(items.splice(random.next().value % items.length, 1)[0]!);
            map.items = shuffled;
          },
        });
        const shuffled = doc.toString();
        const once = formatManifest(shuffled);
        expect(formatManifest(once)).toBe(once);
        expect(data(once)).toEqual(data(read(path)));
        // Every container's keys in the schema's order.
        const canon = parseDocument(once);
        visit(canon, {
          Pair(_k, pair) {
            if (!isScalar(pair.key) || pair.key.value !== 'containers' || !isSeq(pair.value)) return;
            for (const c of pair.value.items) {
              if (!isMap(c)) continue;
              const keys = (c.items as Pair[]).map((p) => String((p.key as { value: unknown }).value));
              expect(keys).toEqual([...keys].sort((a, b) => containerKeys.indexOf(a) - containerKeys.indexOf(b)));
            }
          },
        });
      }),
      { numRuns: 40 },
    );
  });

  it('reads the key order from the schema (if/then/else branches included)', () => {
    expect(declaredKeys([schema as never])).toEqual(['apiVersion', 'host', 'hosts', 'defaults', 'containers', 'moved']);
  });
});

describe('nestctl fmt', () => {
  const unordered = 'containers:\n  - image: busybox\n    name: c1\napiVersion: nestctl/v1\n';
  const canonical = 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n';

  it('rewrites only the files that change, keeps their mode and lists them', async () => {
    const dir = scratch();
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, unordered);
    chmodSync(a, 0o640);
    writeFileSync(b, canonical);
    const bBefore = statSync(b).mtimeMs;
    const r = await nestctl(['fmt', a, b]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${a}\n`);
    expect(readFileSync(a, 'utf8')).toBe(canonical);
    expect(statSync(a).mode & 0o777).toBe(0o640);
    expect(statSync(b).mtimeMs).toBe(bBefore);
    expect(readdirSync(dir).sort()).toEqual(['a.yaml', 'b.yaml']);
    const again = await nestctl(['fmt', a, b]);
    expect([again.code, again.stdout]).toEqual([0, '']);
  });

  it('--check writes nothing, lists the files that are not canonical with a diff, exits 1', async () => {
    const dir = scratch();
    const a = join(dir, 'a.yaml');
    writeFileSync(a, unordered);
    const r = await nestctl(['fmt', '--check', a]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(a);
    expect(r.stdout).toContain(`--- ${a}\n+++ ${a} (canonical)\n`);
    expect(r.stdout).toContain('+  - name: c1\n');
    expect(readFileSync(a, 'utf8')).toBe(unordered);
  });

  it('--check passes on every example and e2e manifest', async () => {
    const r = await nestctl(['fmt', '--check', ...SHIPPED]);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it("refuses a manifest that does not validate with validate's diagnostics, and leaves it as it is", async () => {
    const dir = scratch();
    const bad = join(dir, 'bad.yaml');
    const text = 'containers:\n  - name: c1\n    imgae: busybox\napiVersion: nestctl/v1\n';
    writeFileSync(bad, text);
    const good = join(dir, 'good.yaml');
    copyFileSync(join(ROOT, 'examples/seed.yaml'), good);
    const r = await nestctl(['fmt', bad, good]);
    const v = await nestctl(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(v.stderr);
    expect(r.stderr).toContain(`${bad}:3:5: error: unknown key "imgae"`);
    expect(readFileSync(bad, 'utf8')).toBe(text);
  });
});
