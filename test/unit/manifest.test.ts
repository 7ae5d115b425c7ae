import { readdirSync, readFileSync } from 'node:fs';
import { lineCol, placed } from './helpers/placed.js';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostics.js';
import { configKeyProblem } from '../../src/core/manifest/config-keys.js';
import { type LoadResult, loadManifest } from '../../src/core/manifest/load.js';
import type { ContainerSpec, Manifest } from '../../src/core/manifest/model.js';
import { nameProblem } from '../../src/core/manifest/names.js';

const ROOT = join(import.meta.dirname, '../..');
const SCHEMA_FILE = join(ROOT, 'schemas/manifest.schema.json');
const EXAMPLES = join(ROOT, 'examples');

/** Lines joined, so each test shows the line numbers it asserts. */
const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

function loaded(r: LoadResult): Manifest {
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${lineCol(d)} ${d.message}`).join('\n'));
  return r.manifest;
}

function diagnostics(text: string): Diagnostic[] {
  const r = loadManifest(text, 'm.yaml');
  if (r.ok) throw new Error('expected the manifest to be rejected');
  return r.diagnostics;
}

/** The one diagnostic whose message matches, with its position. */
function only(ds: Diagnostic[], match: RegExp): Diagnostic {
  const hits = ds.filter((d) => match.test(d.message));
  if (hits.length !== 1) throw new Error(`expected one diagnostic matching ${match}, got:\n${ds.map((d) => d.message).join('\n')}`);
  return hits[0] as Diagnostic;
}

const at = (d: Diagnostic): string => lineCol(d);

const container = (over: Partial<ContainerSpec> & Pick<ContainerSpec, 'name' | 'path' | 'image' | 'pos'>): ContainerSpec => ({
  profiles: ['default'],
  config: {},
  ignoreChanges: [],
  adopt: false,
  idmap: null,
  docker: false,
  dockerRemap: null,
  flavour: null,
  files: [],
  setup: [],
  host: 'local',
  target: null,
  containers: [],
  insideProfiles: [],
  copyOf: null,
  lxc: [],
  ...over,
});

describe('loadManifest: examples', () => {
  it('loads seed.yaml into exactly the expected manifest', () => {
    const text = readFileSync(join(EXAMPLES, 'seed.yaml'), 'utf8');
    const r = loadManifest(text, 'examples/seed.yaml');
    expect(r.ok && r.warnings).toEqual([]);
    expect(loaded(r)).toEqual({
      apiVersion: 'nestctl/v1',
      file: 'examples/seed.yaml',
      host: {
        name: 'local',
        section: 'host',
        place: { kind: 'local' },
        owner: 'root',
        base: 500000,
        restart: null,
        flavour: null,
        profiles: [],
        pos: { line: 10, col: 1 },
      },
      hosts: [
        {
          name: 'local',
          section: 'host',
          place: { kind: 'local' },
          owner: 'root',
          base: 500000,
          restart: null,
          flavour: null,
          profiles: [],
          pos: { line: 10, col: 1 },
        },
      ],
      hostPos: { line: 10, col: 1 },
      moves: [],
      lxc: [],
      containers: [
        container({
          name: 'c1',
          path: 'c1',
          image: 'nest',
          pos: { line: 13, col: 5 },
          containers: [
            container({
              name: 'c2',
              path: 'c1/c2',
              image: 'nest',
              pos: { line: 16, col: 9 },
              containers: [container({ name: 'c3', path: 'c1/c2/c3', image: 'busybox', pos: { line: 19, col: 13 } })],
            }),
          ],
        }),
      ],
    } satisfies Manifest);
  });

  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it('has the examples the README and ARCHITECTURE.md name', () => {
    expect(files).toEqual(expect.arrayContaining(['seed.yaml', 'isolated.yaml', 'docker.yaml']));
  });

  it.each(files)('%s loads with no errors or warnings and starts with the schema modeline', (f) => {
    const text = readFileSync(join(EXAMPLES, f), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/manifest.schema.json');
    const r = loadManifest(text, f);
    expect(r.ok ? r.warnings : r.diagnostics).toEqual([]);
  });

  it('isolated.yaml has a level with two isolated children and one shared, docker.yaml a docker child of a nesting parent', () => {
    const iso = loaded(loadManifest(readFileSync(join(EXAMPLES, 'isolated.yaml'), 'utf8'), 'isolated.yaml'));
    const kids = iso.containers[0]?.containers ?? [];
    expect(kids.map((c) => c.idmap?.isolated ?? false).sort()).toEqual([false, true, true]);
    const dock = loaded(loadManifest(readFileSync(join(EXAMPLES, 'docker.yaml'), 'utf8'), 'docker.yaml'));
    expect(dock.containers[0]?.containers.map((c) => c.docker)).toEqual([true]);
  });
});

describe('loadManifest: building the manifest', () => {
  const text = doc(
    'apiVersion: nestctl/v1', //                         1
    'host:', //                                          2
    '  owner: lxd-admin', //                             3
    '  base: 65536', //                                  4
    '  restart: [systemctl, restart, snap.lxd.daemon]', // 5
    '  flavour: snap', //                                6
    'defaults:', //                                      7
    '  image: base-img', //                              8
    '  profiles: [default, fast]', //                    9
    '  config:', //                                     10
    '    limits.cpu: 2', //                             11
    '    boot.autostart: true', //                      12
    '    user.tier: gold', //                           13
    'containers:', //                                   14
    '  - name: a', //                                   15
    '    config:', //                                   16
    '      limits.cpu: 4', //                           17
    '      limits.memory: 2GiB', //                     18
    '      security.nesting: false', //                 19
    '      limits.cpu.allowance: 1.5', //               20
    '    containers:', //                               21
    '      - {name: b, image: own, profiles: [], flavour: incus, idmap: {isolated: true, size: 131072}}', // 22
    '      - name: c', //                               23
    '        docker: true', //                          24
    '        idmap: {}', //                             25
  );
  const r = loadManifest(text, 'x.yaml');
  const m = loaded(r);
  const [a] = m.containers;
  const [b, c] = a?.containers ?? [];

  it('keeps the host section as written', () => {
    expect(m.host).toEqual({
      name: 'local',
      section: 'host',
      place: { kind: 'local' },
      owner: 'lxd-admin',
      base: 65536,
      restart: ['systemctl', 'restart', 'snap.lxd.daemon'],
      flavour: 'snap',
      profiles: [],
      pos: { line: 2, col: 1 },
    });
    expect(m.hostPos).toEqual({ line: 2, col: 1 });
  });

  it('takes image and profiles from defaults unless the container says', () => {
    expect([a?.image, b?.image, c?.image]).toEqual(['base-img', 'own', 'base-img']);
    expect([a?.profiles, b?.profiles, c?.profiles]).toEqual([['default', 'fast'], [], ['default', 'fast']]);
  });

  it('overlays the container config on defaults.config and stores every value as LXD does, as a string', () => {
    expect(a?.config).toEqual({
      'limits.cpu': '4',
      'boot.autostart': 'true',
      'user.tier': 'gold',
      'limits.memory': '2GiB',
      'security.nesting': 'false',
      'limits.cpu.allowance': '1.5',
    });
    expect(c?.config).toEqual({ 'limits.cpu': '2', 'boot.autostart': 'true', 'user.tier': 'gold' });
  });

  it('fills idmap, docker, flavour, path and pos', () => {
    expect([a?.idmap, b?.idmap, c?.idmap]).toEqual([null, { isolated: true, size: 131072 }, { isolated: false, size: null }]);
    expect([a?.docker, b?.docker, c?.docker]).toEqual([false, false, true]);
    expect([a?.flavour, b?.flavour, c?.flavour]).toEqual([null, 'incus', null]);
    expect([a?.path, b?.path, c?.path]).toEqual(['a', 'a/b', 'a/c']);
    expect([a?.pos, b?.pos, c?.pos]).toEqual([
      { line: 15, col: 5 },
      { line: 22, col: 9 },
      { line: 23, col: 9 },
    ]);
  });

  it('warns, without failing, that nesting=false is overridden for a container with children', () => {
    expect(r.ok && r.warnings.map((w) => [at(w), w.severity, w.message])).toEqual([
      ['19:25', 'warning', 'security.nesting is false in container a, but it holds containers'],
    ]);
  });

  it('gives each container its own profiles list (no shared arrays)', () => {
    expect(a?.profiles).not.toBe(c?.profiles);
  });

  it('uses the defaults for the host and points hostPos at the start of the document content', () => {
    const plain = loaded(loadManifest(doc('# comment', 'apiVersion: nestctl/v1', 'containers:', '  - {name: x, image: y}'), 'p.yaml'));
    expect(plain.host).toEqual({
      name: 'local',
      section: 'host',
      place: { kind: 'local' },
      owner: 'root',
      base: null,
      restart: null,
      flavour: null,
      profiles: [],
      pos: { line: 2, col: 1 },
    });
    expect(plain.hostPos).toEqual({ line: 2, col: 1 });
    expect(plain.containers[0]?.profiles).toEqual(['default']);
  });

  it('accepts merge keys and aliases for shared blocks', () => {
    const shared = loaded(
      loadManifest(
        doc(
          'apiVersion: nestctl/v1',
          'containers:',
          '  - &tpl {name: one, image: nest, config: {limits.cpu: 1}}',
          '  - <<: *tpl',
          '    name: two',
        ),
        's.yaml',
      ),
    );
    expect(shared.containers.map((c) => [c.path, c.image, c.config])).toEqual([
      ['one', 'nest', { 'limits.cpu': '1' }],
      ['two', 'nest', { 'limits.cpu': '1' }],
    ]);
  });
});

describe('loadManifest: YAML problems', () => {
  it('reports a syntax error at its position, with a hint', () => {
    const d = only(diagnostics(doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '\timage: x')), /Tabs/);
    expect(at(d)).toBe('4:1');
    expect(d).toMatchObject({ severity: 'error', where: { file: 'm.yaml' }, hint: expect.stringContaining('spaces') });
  });

  it('reports an unclosed flow list', () => {
    const ds = diagnostics(doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    profiles: [a, b', '    image: x'));
    expect(ds.length).toBeGreaterThan(0);
    expect(ds.every((d) => d.severity === 'error' && d.message.startsWith('YAML: '))).toBe(true);
  });

  it('refuses a second document', () => {
    const d = only(
      diagnostics(doc('apiVersion: nestctl/v1', 'containers: [{name: a, image: b}]', '---', 'x: 1')),
      /more than one YAML document/,
    );
    expect(at(d)).toBe('3:1');
  });

  it('reports a duplicate key at the duplicate, naming the first line', () => {
    const ds = diagnostics(doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    image: a', '    image: b'));
    expect(ds.map((d) => [at(d), d.message])).toEqual([['5:5', 'duplicate key "image" (first at line 4)']]);
  });

  it('reports an empty file and a file that is not a mapping at 1:1', () => {
    expect(diagnostics('').map((d) => [at(d), d.message])).toEqual([['1:1', 'the manifest is empty']]);
    expect(diagnostics('- a\n').map((d) => [at(d), d.message])).toEqual([
      ['1:1', 'the manifest must be a mapping (key: value lines), not a list'],
    ]);
  });
});

describe('loadManifest: schema problems', () => {
  it('points at an unknown key, lists the allowed keys and suggests the closest', () => {
    const d = only(diagnostics(doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    imgae: nest')), /imgae/);
    expect(at(d)).toBe('4:5');
    expect(d.message).toBe('unknown key "imgae" in container c1');
    expect(d.hint).toBe(
      'did you mean "image"? allowed keys here: name, copy_of, image, profiles, config, ignore_changes, idmap, docker, flavour, adopt, files, setup, host, target, inside, runtime, user, template, template_args, bridge, containers',
    );
  });

  it('names the place of unknown keys in host, idmap and at the top level', () => {
    const ds = diagnostics(
      doc(
        'apiVersion: nestctl/v1',
        'colour: blue',
        'host: {base: 65536, flavor: snap}',
        'containers:',
        '  - name: c1',
        '    image: x',
        '    idmap: {isolated: true, sise: 65536}',
      ),
    );
    expect(ds.map((d) => [at(d), d.message, d.hint?.split('?')[0]])).toEqual([
      ['2:1', 'unknown key "colour" in the manifest', 'allowed keys here: apiVersion, host, hosts, defaults, containers, moved'],
      ['3:21', 'unknown key "flavor" in host', 'did you mean "flavour"'],
      ['7:29', 'unknown key "sise" in idmap of container c1', 'did you mean "size"'],
    ]);
  });

  it('points at the value for wrong types and enums', () => {
    const ds = diagnostics(
      doc(
        'apiVersion: nestctl/v1',
        'host:',
        '  base: "500000"',
        'containers:',
        '  - name: c1',
        '    image: x',
        '    docker: yes',
        '    flavour: debain',
        '    config: {limits.cpu: [1]}',
      ),
    );
    expect(ds.map((d) => [at(d), d.message])).toEqual([
      ['3:9', '"host.base" must be a whole number, not "500000"'],
      ['7:13', '"docker" in container c1 must be true/false or a mapping (key: value lines), not "yes"'],
      ['8:14', '"flavour" in container c1 must be one of debian, incus, snap, not "debain"'],
      ['9:26', 'config key "limits.cpu" in container c1 must be text, a number or true/false, not a list'],
    ]);
    expect(ds[2]?.hint).toBe('did you mean "debian"?');
    expect(ds[0]?.hint).toMatch(/^First host id of the range/);
  });

  it('points at the key when the value is left empty', () => {
    const d = only(diagnostics(doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    image:')), /image/);
    expect([at(d), d.message]).toEqual(['4:5', '"image" in container c1 must be text, not empty']);
  });

  it('points at the mapping that lacks a required key', () => {
    const ds = diagnostics(
      doc('# no version', 'host: {}', 'containers:', '  - image: x', '  - name: c2', '    containers:', '      - name: c3'),
    );
    expect(ds.map((d) => [at(d), d.message])).toEqual([
      ['2:1', 'the manifest is missing the required key "apiVersion"'],
      ['4:5', 'container #1 is missing the required key "name"'],
      ['5:5', 'container c2 is missing the required key "image"'],
      ['7:9', 'container c2/c3 is missing the required key "image"'],
    ]);
    expect(ds[2]?.hint).toContain('defaults.image');
  });

  it('needs no image on containers when defaults.image is set', () => {
    const m = loaded(
      loadManifest(
        doc('apiVersion: nestctl/v1', 'defaults: {image: d}', 'containers:', '  - name: c1', '    containers: [{name: c2}]'),
        'd.yaml',
      ),
    );
    expect(m.containers[0]?.containers[0]?.image).toBe('d');
  });

  it('requires at least one container', () => {
    const ds = diagnostics(doc('apiVersion: nestctl/v1', 'containers: []'));
    expect(ds.map((d) => [at(d), d.message])).toEqual([['2:13', '"containers" must not be empty']]);
    expect(diagnostics(doc('apiVersion: nestctl/v1')).map((d) => [at(d), d.message])).toEqual([
      ['1:1', 'the manifest is missing the required key "containers"'],
    ]);
  });

  it('rejects another apiVersion, with the hint', () => {
    const d = only(diagnostics(doc('apiVersion: nestctl/v2', 'containers: [{name: a, image: b}]')), /apiVersion/);
    expect([at(d), d.message]).toEqual(['1:13', '"apiVersion" must be "nestctl/v1", not "nestctl/v2"']);
    expect(d.hint).toContain('apiVersion: nestctl/v1');
  });

  it('checks ranges: base ≥ 65536, idmap.size ≥ 65536, a non-empty restart argv, unique profiles', () => {
    const ds = diagnostics(
      doc(
        'apiVersion: nestctl/v1',
        'host: {base: -1, restart: []}',
        'containers:',
        '  - name: c1',
        '    image: x',
        '    idmap: {isolated: true, size: 1000}',
        '    profiles: [default, big, default]',
      ),
    );
    expect(ds.map((d) => [at(d), d.message])).toEqual([
      ['2:14', '"host.base" must be at least 65536, not -1'],
      ['2:27', '"host.restart" must not be empty'],
      ['6:35', '"idmap.size" in container c1 must be at least 65536, not 1000'],
      ['7:30', '"profiles" in container c1 lists "default" more than once'],
    ]);
  });
});

describe('loadManifest: names', () => {
  const named = (name: string): string => doc('apiVersion: nestctl/v1', 'containers:', '  - image: x', `    name: ${name}`);

  it.each([
    ['1abc', 'it must start with a letter'],
    ['web-', 'it must not end with "-"'],
    ['my_box', '"_" is not allowed'],
    ['"caf\u00e9"', '"\u00e9" is not allowed'],
    ['""', 'it is empty'],
    [`a${'b'.repeat(63)}`, 'it is 64 characters long (at most 63)'],
  ])('rejects %s at the name value, with the rule', (name, reason) => {
    const d = only(diagnostics(named(name)), /invalid container name/);
    expect(at(d)).toBe('4:11');
    expect(d.message).toContain(reason);
    expect(d.hint).toBe('container names are 1-63 ASCII letters, digits and "-", start with a letter and do not end with "-"');
  });

  it.each(['a', 'C1', 'web-01', `a${'b'.repeat(62)}`])('accepts %s', (name) => {
    expect(loadManifest(named(name), 'n.yaml').ok).toBe(true);
  });

  it('reports a duplicate sibling at the second one, naming the first line; equal names at other levels are fine', () => {
    const ds = diagnostics(
      doc(
        'apiVersion: nestctl/v1',
        'defaults: {image: x}',
        'containers:',
        '  - name: c1',
        '    containers:',
        '      - name: c1',
        '      - name: web',
        '      - name: web',
        '  - name: c1',
      ),
    );
    expect(ds.map((d) => [at(d), d.message])).toEqual([
      ['8:15', 'duplicate container name "web" inside c1 (first at line 7)'],
      ['9:11', 'duplicate container name "c1" at the top level (first at line 4)'],
    ]);
  });

  it('points at the alias when a repeated container comes from one', () => {
    const ds = diagnostics(doc('apiVersion: nestctl/v1', 'containers:', '  - &c {name: c1, image: x}', '  - *c'));
    expect(ds.map((d) => [at(d), d.message])).toEqual([['4:5', 'duplicate container name "c1" at the top level (first at line 3)']]);
  });
});

describe('loadManifest: config keys and values', () => {
  const withConfig = (...lines: string[]): string =>
    doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    image: x', '    config:', ...lines.map((l) => `      ${l}`));

  it('accepts LXD keys, free-form user.* and environment.* keys', () => {
    const m = loaded(
      loadManifest(
        withConfig(
          'limits.cpu: 2',
          'security.syscalls.intercept.mknod: true',
          'cloud-init.user-data: x',
          'user.MyKey: v',
          'environment.PATH: /bin',
        ),
        'k.yaml',
      ),
    );
    expect(Object.keys(m.containers[0]?.config ?? {})).toEqual([
      'limits.cpu',
      'security.syscalls.intercept.mknod',
      'cloud-init.user-data',
      'user.MyKey',
      'environment.PATH',
    ]);
  });

  it('rejects malformed keys and the reserved user.nestctl.* keys at the key', () => {
    const ds = diagnostics(withConfig('Limits.CPU: 2', 'limits..cpu: 2', 'user.nestctl.managed: "true"', 'security.idmap.isolated: true'));
    expect(ds.map((d) => [at(d), d.message])).toEqual([
      ['6:7', 'invalid config key "Limits.CPU" in container c1'],
      ['7:7', 'invalid config key "limits..cpu" in container c1'],
      ['8:7', 'config key "user.nestctl.managed" in container c1 is reserved for nestctl'],
      ['9:7', 'config key "security.idmap.isolated" in container c1 would change the id map behind nestctl\'s back'],
    ]);
    expect(ds[0]?.hint).toContain('lowercase');
    expect(ds[2]?.hint).toContain('user.nestctl.*');
    expect(ds[3]?.hint).toContain('idmap: {isolated: true}');
    const spaced = diagnostics(withConfig('user.My Key: v', 'user.a=b: v'));
    expect(spaced.map((d) => [at(d), d.message])).toEqual([
      ['6:7', 'invalid config key "user.My Key" in container c1'],
      ['7:7', 'invalid config key "user.a=b" in container c1'],
    ]);
  });

  it('checks defaults.config too', () => {
    const ds = diagnostics(
      doc('apiVersion: nestctl/v1', 'defaults:', '  config: {user.nestctl.path: x}', 'containers: [{name: a, image: b}]'),
    );
    expect(ds.map((d) => [at(d), d.message])).toEqual([['3:12', 'config key "user.nestctl.path" in defaults is reserved for nestctl']]);
  });

  it('refuses security.privileged in any spelling: it maps the container root to its parent root', () => {
    for (const v of ['true', '"1"', 'yes', 'On', 'false']) {
      const ds = diagnostics(withConfig(`security.privileged: ${v}`));
      expect(ds.map((d) => [d.severity, at(d), d.message])).toEqual([
        ['error', '6:7', 'config key "security.privileged" in container c1 would change the id map behind nestctl\'s back'],
      ]);
      expect(ds[0]?.hint).toContain('idmap: {isolated: true, size: N}');
    }
  });

  it('warns when a number would not be stored as written', () => {
    const r = loadManifest(withConfig('user.version: 1.10', 'limits.cpu: 2', 'user.mask: 0x1F', 'user.ok: "1.10"'), 'n.yaml');
    const m = loaded(r);
    expect(m.containers[0]?.config).toEqual({ 'user.version': '1.1', 'limits.cpu': '2', 'user.mask': '31', 'user.ok': '1.10' });
    expect(r.ok && r.warnings.map((w) => [at(w), w.message, w.hint])).toEqual([
      [
        '6:21',
        'config key "user.version" in container c1 is the number 1.10, which LXD will store as "1.1"',
        'quote it ("1.10") to keep the text as written',
      ],
      [
        '8:18',
        'config key "user.mask" in container c1 is the number 0x1F, which LXD will store as "31"',
        'quote it ("0x1F") to keep the text as written',
      ],
    ]);
  });

  it('warns that idmap.size needs isolated', () => {
    const r = loadManifest(
      doc('apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    image: x', '    idmap: {size: 131072}'),
      'i.yaml',
    );
    expect(r.ok && r.warnings.map((w) => [at(w), w.message])).toEqual([
      ['5:13', 'idmap.size in container c1 has no effect without idmap.isolated: true'],
    ]);
  });
});

describe('loadManifest: every problem at once', () => {
  it('reports YAML, schema and semantic problems of one file together, in file order', () => {
    const ds = diagnostics(
      doc(
        'apiVersion: nestctl/v1', //            1
        'host:', //                             2
        '  base: -5', //                        3
        '  base: 70000', //                     4
        'containers:', //                       5
        '  - name: 1c', //                      6
        '    imgae: nest', //                   7
        '    config:', //                       8
        '      user.nestctl.x: y', //           9
        '      security.privileged: true', //  10
        '  - name: ok', //                     11
        '    image: x', //                     12
        '    flavour: ubuntu', //              13
        '  - name: ok', //                     14
        '    image: x', //                     15
      ),
    );
    expect(ds.map((d) => [d.severity, at(d), d.message])).toEqual([
      ['error', '4:3', 'duplicate key "base" (first at line 3)'],
      ['error', '6:5', 'container 1c is missing the required key "image"'],
      ['error', '6:11', 'invalid container name "1c": it must start with a letter'],
      ['error', '7:5', 'unknown key "imgae" in container 1c'],
      ['error', '9:7', 'config key "user.nestctl.x" in container 1c is reserved for nestctl'],
      ['error', '10:7', 'config key "security.privileged" in container 1c would change the id map behind nestctl\'s back'],
      ['error', '13:14', '"flavour" in container ok must be one of debian, incus, snap, not "ubuntu"'],
      ['error', '14:11', 'duplicate container name "ok" at the top level (first at line 11)'],
    ]);
    expect(ds.every((d) => placed(d).file === 'm.yaml' && typeof d.hint === 'string' && d.hint.length > 0)).toBe(true);
  });

  it('never throws, and always places what it reports inside the text', () => {
    const pieces = [
      'apiVersion: nestctl/v1\n',
      'containers:\n',
      '  - name: c1\n',
      '    image: x\n',
      '  - ',
      '[',
      '{',
      '"',
      ':',
      '\t',
      '*a',
      '&a ',
      '<<: ',
      '---\n',
      'x: 1\n',
      '\n',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 20 }), fc.string(), (parts, noise) => {
        const text = parts.join('') + noise;
        const r = loadManifest(text, 'f.yaml');
        const ds = r.ok ? r.warnings : r.diagnostics;
        if (!r.ok) expect(ds.some((d) => d.severity === 'error')).toBe(true);
        const lines = text.split('\n').length;
        for (const d of ds) {
          expect(placed(d).line).toBeGreaterThanOrEqual(1);
          expect(placed(d).line).toBeLessThanOrEqual(lines);
          expect(placed(d).column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('schemas/manifest.schema.json', () => {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  type Obj = Record<string, unknown>;
  const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

  it('is a draft-07 schema with an $id that compiles in ajv strict mode', () => {
    expect(schema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    expect(typeof schema['$id']).toBe('string');
    const ajv = new Ajv({ strict: true, allowUnionTypes: true, keywords: ['patternErrorMessage'] });
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  const definitions = schema['definitions'] as Obj;
  const resolve = (s: Obj): Obj => {
    const ref = s['$ref'];
    return typeof ref === 'string' ? (definitions[ref.replace('#/definitions/', '')] as Obj) : s;
  };

  /** Every schema object that describes a value, with where it is. */
  function* described(s: Obj, where: string): Generator<[string, Obj]> {
    for (const [k, sub] of Object.entries(isObj(s['properties']) ? s['properties'] : {})) {
      if (isObj(sub)) yield [`${where}.${k}`, resolve(sub)];
    }
    if (isObj(s['items'])) yield [`${where}[]`, resolve(s['items'])];
  }

  it('gives every property a title and a description, and closes every object', () => {
    const roots: [string, Obj][] = [['(root)', schema], ...Object.entries(definitions).map(([k, v]) => [k, v as Obj] as [string, Obj])];
    const seen: string[] = [];
    const done = new Set<Obj>(); // containers recurse
    const visit = (where: string, s: Obj): void => {
      if (done.has(s)) return;
      done.add(s);
      expect(typeof s['title'], `${where} title`).toBe('string');
      expect(typeof s['description'], `${where} description`).toBe('string');
      // The open mappings: config (any LXD key, each value checked by configValue), a level's
      // profiles, their devices and each device's keys (names chosen by the user, checked by the
      // loader), and hosts (any host name, checked in code; each entry a closed hostEntry).
      const open = ['config', 'levelProfiles', 'profileDevices', 'profileDevice'].map((k) => definitions[k]);
      if (s['type'] === 'object' && !open.includes(s) && where !== '(root).hosts')
        expect(s['additionalProperties'], `${where} additionalProperties`).toBe(false);
      for (const [w, sub] of described(s, where)) {
        seen.push(w);
        visit(w, sub);
      }
    };
    for (const [where, s] of roots) visit(where, s);
    expect(seen).toEqual(expect.arrayContaining(['(root).host.base', 'container.idmap', 'idmap.size', '(root).host.restart[]']));
  });

  it('agrees with the loader on container names and config keys (editors and nestctl say the same)', () => {
    const namePattern = new RegExp((definitions['containerName'] as Obj)['pattern'] as string);
    // ajv compiles patterns with the "u" flag (unicodeRegExp), as editors do.
    const keyPattern = new RegExp((definitions['configKey'] as Obj)['pattern'] as string, 'u');
    const names = ['a', 'A1', 'a-b', '1a', '-a', 'a-', 'a_b', 'a b', '', 'a'.repeat(63), 'a'.repeat(64), 'é'];
    for (const n of names) expect(namePattern.test(n), n).toBe(nameProblem(n) === null);
    const keys = [
      'limits.cpu',
      'Limits.cpu',
      'limits..cpu',
      '.a',
      'a.',
      'user.X Y',
      'user.',
      'environment.PATH',
      'boot.host_shutdown_timeout',
      '9a',
      'user.a=b',
      'user.a\tb',
      'limits.hugepages.1GB',
      'limits.HUGEPAGES.1gb',
    ];
    for (const k of keys) expect(keyPattern.test(k), k).toBe(configKeyProblem(k, 'x')?.message.startsWith('invalid') !== true);
  });
});
