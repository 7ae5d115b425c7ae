// A hostile corpus: manifests written to get something past the loader (an extra subid line,
// ids of the host's root, an lxc option, a stack overflow). Each is refused at the exact place
// with the exact words, or loaded exactly right, and always quickly.

import { lineCol, placed } from './helpers/placed.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CheckResult, checkManifest } from '../../src/core/manifest/check.js';
import { MAX_BYTES } from '../../src/core/manifest/hostile.js';
import { cpuMs } from './helpers/cpu-time.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;
const HEAD = ['apiVersion: nestctl/v1', 'containers:', '  - name: c1', '    image: nest']; // lines 1-4
const withLines = (...lines: string[]): string => doc(...HEAD, ...lines);
const withConfig = (...lines: string[]): string => withLines('    config:', ...lines.map((l) => `      ${l}`)); // config at 6+
const withHost = (...lines: string[]): string =>
  doc('apiVersion: nestctl/v1', 'host:', ...lines.map((l) => `  ${l}`), 'containers: [{name: c1, image: nest}]');

/** CPU-time bound for any single load: generous, far below what a blow-up would take. */
const BOUND_MS = 2000;

function check(text: string): CheckResult {
  const { value, ms } = cpuMs(() => checkManifest(text, 'm.yaml'));
  expect(ms).toBeLessThan(BOUND_MS);
  return value;
}

/** [line:col, message substring] of the first error. */
function firstError(text: string): [string, string] {
  const r = check(text);
  if (r.ok) throw new Error('expected the manifest to be refused');
  const e = r.diagnostics.find((d) => d.severity === 'error');
  if (!e) throw new Error('refused without an error');
  return [lineCol(e), e.message];
}

function accepted(text: string): Extract<CheckResult, { ok: true }> {
  const r = check(text);
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${lineCol(d)} ${d.message}`).join('\n'));
  return r;
}

const nested = (depth: number): string => {
  const lines = ['apiVersion: nestctl/v1', 'containers:'];
  for (let i = 1; i <= depth; i++) {
    const pad = '    '.repeat(i - 1);
    lines.push(`${pad}  - name: c${i}`, `${pad}    image: nest`);
    if (i < depth) lines.push(`${pad}    containers:`);
  }
  return doc(...lines);
};

const bomb = doc(
  'apiVersion: nestctl/v1',
  'x1: &a [x, x, x, x, x, x, x, x, x, x]',
  'x2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'x3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'x4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
  'x5: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
  'x6: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]',
  'containers: [{name: c1, image: nest}]',
);

/** Input class → [line:col, message substring] of the error it must get. */
const REFUSED: Array<[string, string, [string, string]]> = [
  // host.owner ends up as a line in /etc/subuid and /etc/subgid
  [
    'owner with a newline (an extra subid line)',
    withHost('owner: "root:0:65536\\nroot"'),
    ['3:10', 'invalid host.owner "root:0:65536\\nroot": ":" is not allowed'],
  ],
  ['owner in capitals', withHost('owner: Root'), ['3:10', 'invalid host.owner "Root": "R" is not allowed']],
  [
    'owner starting with a digit',
    withHost('owner: 0day'),
    ['3:10', 'invalid host.owner "0day": it must start with a lowercase letter or "_"'],
  ],
  ['owner longer than 32', withHost(`owner: ${'a'.repeat(33)}`), ['3:10', 'it is 33 characters long (at most 32)']],
  ['owner with a space', withHost('owner: "ro ot"'), ['3:10', 'U+0020 is not allowed']],
  // id-affecting config keys
  [
    'raw.idmap',
    withConfig('raw.idmap: both 0 0'),
    ['6:7', 'config key "raw.idmap" in container c1 would change the id map behind nestctl\'s back'],
  ],
  [
    'security.idmap.base',
    withConfig('security.idmap.base: 0'),
    ['6:7', 'config key "security.idmap.base" in container c1 would change the id map'],
  ],
  [
    'security.idmap.isolated in config',
    withConfig('security.idmap.isolated: true'),
    ['6:7', 'config key "security.idmap.isolated" in container c1'],
  ],
  ['security.idmap.size in config', withConfig('security.idmap.size: 65536'), ['6:7', 'config key "security.idmap.size" in container c1']],
  ['security.privileged', withConfig('security.privileged: "true"'), ['6:7', 'config key "security.privileged" in container c1']],
  [
    'id keys in defaults.config',
    doc('apiVersion: nestctl/v1', 'defaults:', '  config: {raw.idmap: "uid 0 0"}', 'containers: [{name: c1, image: nest}]'),
    ['3:12', 'config key "raw.idmap" in defaults'],
  ],
  // the host range
  ['base 0 (root and the real users)', withHost('base: 0'), ['3:9', '"host.base" must be at least 65536, not 0']],
  ['base 65535', withHost('base: 65535'), ['3:9', '"host.base" must be at least 65536, not 65535']],
  ['base 1e300', withHost('base: 1e300'), ['3:9', '"host.base" must be at most 4294901759, not 1e+300']],
  ['base above 2^53', withHost('base: 9007199254740993'), ['3:9', '"host.base" must be at most 4294901759']],
  ['base as text', withHost('base: "500000"'), ['3:9', '"host.base" must be a whole number, not "500000"']],
  ['base with a fraction', withHost('base: 65536.5'), ['3:9', '"host.base" must be a whole number']],
  [
    'idmap.size 1e300',
    withLines('    idmap: {isolated: true, size: 1e300}'),
    ['5:35', '"idmap.size" in container c1 must be at most 4294901759, not 1e+300'],
  ],
  [
    'idmap.size past 2^32',
    withLines('    idmap: {isolated: true, size: 4294967296}'),
    ['5:35', 'must be at most 4294901759, not 4294967296'],
  ],
  [
    'a range ending exactly at 2^32 - 1',
    doc(
      'apiVersion: nestctl/v1',
      'host: {base: 4294836224}',
      'containers:',
      '  - {name: c1, image: nest, containers: [{name: c2, image: nest}]}',
    ),
    ['2:1', 'the tree needs 131072 host ids, which from host.base 4294836224 run past the last usable id 4294967294'],
  ],
  [
    'slices too big for any base',
    withLines('    idmap: {isolated: true, size: 4294901759}'),
    ['1:1', 'even from the lowest base 65536 run past the last usable id'],
  ],
  [
    'an isolated slice too small for its children (plan refuses it, so validate does)',
    withLines('    idmap: {isolated: true, size: 65536}', '    containers: [{name: c2, image: nest}]'),
    ['3:5', 'c1 is isolated with idmap.size 65536, but it and its children need 131072 ids'],
  ],
  // config keys and values
  ['config key with "="', withConfig('"user.a=b": x'), ['6:7', 'invalid config key "user.a=b" in container c1']],
  ['config key with a space', withConfig('"limits. cpu": 1'), ['6:7', 'invalid config key "limits. cpu" in container c1']],
  ['config key with a tab', withConfig('"user.a\\tb": x'), ['6:7', 'invalid config key "user.a\\tb"']],
  ['unknown LXD key, with a suggestion', withConfig('limits.memroy: 1GiB'), ['6:7', 'unknown config key "limits.memroy" in container c1']],
  [
    'volatile.* (LXD-owned)',
    withConfig('volatile.idmap.next: "[]"'),
    ['6:7', 'config key "volatile.idmap.next" in container c1 is set by LXD itself'],
  ],
  ['image.* (LXD-owned)', withConfig('image.os: debian'), ['6:7', 'config key "image.os" in container c1 is set by LXD itself']],
  ['a look-alike Cyrillic letter in a key', withConfig('limits.сpu: 2'), ['6:7', 'invalid config key "limits.сpu"']],
  [
    'a control character in a value',
    withConfig('limits.cpu: "2\\a"'),
    ['6:19', 'has a value LXD cannot take: it contains the control character U+0007'],
  ],
  ['a newline in a one-line value', withConfig('limits.memory: "1GiB\\nraw.lxc=x"'), ['6:22', 'it spans several lines']],
  [
    'an infinite number',
    withConfig('limits.cpu: .inf'),
    ['6:19', 'config key "limits.cpu" in container c1 must be text, a number or true/false, not Infinity'],
  ],
  ['a mapping as a value', withConfig('limits.cpu: {a: 1}'), ['6:19', 'must be text, a number or true/false']],
  // words on lxc's command line
  [
    'image starting with "-"',
    withLines('  - {name: c2, image: --force}'),
    ['5:23', 'invalid image "--force" in container c2: it starts with "-"'],
  ],
  ['image "remote:" (empty alias)', withLines('  - {name: c2, image: "images:"}'), ['5:23', 'the alias after ":" is empty']],
  ['image ":alias" (empty remote)', withLines('  - {name: c2, image: ":debian"}'), ['5:23', 'the remote before ":" is empty']],
  ['image with whitespace', withLines('  - {name: c2, image: "debian 12"}'), ['5:23', 'U+0020 is not allowed']],
  ['image with two remotes', withLines('  - {name: c2, image: "a:b:c"}'), ['5:23', 'it has more than one ":"']],
  ['image alias starting with "-"', withLines('  - {name: c2, image: "images:-x"}'), ['5:23', 'the alias starts with "-"']],
  [
    'defaults.image starting with "-"',
    doc('apiVersion: nestctl/v1', 'defaults: {image: -rf}', 'containers: [{name: c1}]'),
    ['2:19', 'invalid image "-rf" in defaults'],
  ],
  [
    'profile starting with "-"',
    withLines('    profiles: [default, --force]'),
    ['5:25', 'invalid profile name "--force" in container c1: it starts with "-"'],
  ],
  ['profile with "/"', withLines('    profiles: [a/b]'), ['5:16', '"/" is not allowed']],
  ['restart program starting with "-"', withHost('restart: [-x, y]'), ['3:13', 'invalid word "-x" in host.restart']],
  ['restart word with a NUL escape', withHost('restart: [systemctl, "a\\0b"]'), ['3:24', 'U+0000 is not allowed']],
  [
    'a container name in Cyrillic',
    withLines('  - name: с1', '    image: nest'),
    ['5:11', 'invalid container name "с1": it must start with a letter'],
  ],
  // YAML
  [
    'self-referencing alias',
    doc('apiVersion: nestctl/v1', 'containers: &a [{name: c1, image: nest, containers: *a}]'),
    ['2:53', 'alias *a refers to the block that contains it'],
  ],
  ['alias bomb', bomb, ['3:9', 'YAML: Excessive alias count']],
  ['33 container levels', nested(33), ['99:133', 'containers are nested 33 levels deep here; at most 32 levels can run']],
  [
    'deep nesting of block mappings',
    doc('apiVersion: nestctl/v1', ...Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}a:`), `${' '.repeat(200)}x`),
    ['162:161', 'the manifest nests lists and mappings more than 160 levels deep'],
  ],
  [
    'flow mappings nested 200 deep',
    doc('apiVersion: nestctl/v1', `x: ${'{a: '.repeat(200)}1${'}'.repeat(200)}`),
    ['2:644', 'YAML: the manifest nests brackets more than 160 deep'],
  ],
  ['brackets nested a million deep', `x: ${'['.repeat(MAX_BYTES - 10)}`, ['1:164', 'YAML: the manifest nests brackets more than 160 deep']],
  ['more than 1 MiB', withConfig(`user.big: ${'a'.repeat(MAX_BYTES)}`), ['1:1', 'more than the 1048576 nestctl reads']],
  ['two documents', `${withLines()}---\n${withLines()}`, ['5:1', 'YAML: the file holds more than one YAML document']],
  ['!!binary tag', withLines('    profiles: !!binary ZGVmYXVsdA=='), ['5:24', 'YAML tag !!binary is not used in manifests']],
  ['custom tag on the owner', withHost('owner: !shell root'), ['3:17', 'YAML tag !shell is not used in manifests']],
  ['custom tag on a value', withLines('    profiles: !foo [default]'), ['5:20', 'YAML tag !foo is not used in manifests']],
  ['bytes that are not UTF-8', withLines('    profiles: [caf\ufffd]'), ['5:19', 'the manifest is not valid UTF-8']],
  ['a NUL byte', withLines('    profiles: [a\u0000b]'), ['5:17', 'the manifest holds the control character U+0000 (NUL)']],
  ['an escape character', withLines('    profiles: [a\u001bb]'), ['5:17', 'control character U+001B']],
  ['tab indentation', withLines('\tprofiles: [a]'), ['5:1', 'YAML: Tabs are not allowed as indentation']],
  ['duplicate keys', withLines('    image: other'), ['5:5', 'duplicate key "image" (first at line 4)']],
  ['a key differing only in case', withLines('    Profiles: [a]'), ['5:5', 'unknown key "Profiles" in container c1']],
  ['a list as a key', withLines('    ? [a, b]', '    : x'), ['5:7', 'a key is a list or mapping']],
  ['an empty file', '', ['1:1', 'the manifest is empty']],
  ['a bare scalar', 'nestctl\n', ['1:1', 'the manifest must be a mapping']],
  [
    'an empty container item',
    doc('apiVersion: nestctl/v1', 'containers:', '  -'),
    ['3:4', 'container #1 must be a mapping (key: value lines), not empty'],
  ],
  ['unclosed quote', withLines('    profiles: ["a]'), ['6:1', 'YAML: Missing closing "quote']],
];

describe('hostile manifests are refused at the exact place', () => {
  it.each(REFUSED)('%s', (_, text, [pos, message]) => {
    const [at, got] = firstError(text);
    expect(at.startsWith(pos), `${at} ${got}`).toBe(true);
    expect(got).toContain(message);
  });

  it('has at least 40 classes of input', () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(40);
  });
});

describe('hostile-looking manifests that are fine load exactly right', () => {
  it('accepts an owner by shadow rules, "_" first and "$" last', () => {
    expect(accepted(withHost('owner: _lxd-admin$')).manifest.host.owner).toBe('_lxd-admin$');
  });

  it('accepts a range ending at 4294967294, the last id the kernel maps', () => {
    const r = accepted(withHost('base: 4294901759'));
    expect(r.manifest.host.base! + r.allocation.hostNeed - 1).toBe(4294967294);
  });

  it('accepts 32 container levels, the kernel limit', () => {
    const r = accepted(nested(32));
    let depth = 0;
    for (let c = r.manifest.containers[0]; c; c = c.containers[0]) depth++;
    expect(depth).toBe(32);
  });

  it('keeps newlines where LXD reads multi-line text, and free-form user.*, environment.*, limits.kernel.* and linux.sysctl.* keys', () => {
    const r = accepted(
      withConfig(
        'raw.lxc: "lxc.a = 1\\nlxc.b = 2"',
        'cloud-init.user-data: |',
        '  #cloud-config',
        '  packages: [git]',
        'user.Note_1: x',
        'environment.HTTP_PROXY: http://p:3128',
        'limits.kernel.nofile: 1024',
        'linux.sysctl.net.ipv4.ip_forward: 1',
        'limits.hugepages.2MB: 1GiB',
      ),
    );
    expect(r.manifest.containers[0]?.config).toEqual({
      'raw.lxc': 'lxc.a = 1\nlxc.b = 2',
      'cloud-init.user-data': '#cloud-config\npackages: [git]\n',
      'user.Note_1': 'x',
      'environment.HTTP_PROXY': 'http://p:3128',
      'limits.kernel.nofile': '1024',
      'linux.sysctl.net.ipv4.ip_forward': '1',
      'limits.hugepages.2MB': '1GiB',
    });
  });

  it('accepts remote:alias, aliases with "/" and fingerprints', () => {
    const r = accepted(
      withLines(
        '  - {name: c2, image: "images:debian/12"}',
        '  - {name: c3, image: 0123456789abcdef}',
        '  - {name: c4, image: ubuntu/22.04+x}',
      ),
    );
    expect(r.manifest.containers.map((c) => c.image)).toEqual(['nest', 'images:debian/12', '0123456789abcdef', 'ubuntu/22.04+x']);
  });

  it('accepts merge keys <<, and !!str to keep a number as text', () => {
    const r = accepted(
      doc(
        'apiVersion: nestctl/v1',
        'containers:',
        '  - &base {name: c1, image: nest, config: {limits.cpu: !!str 2}}',
        '  - <<: *base',
        '    name: c2',
      ),
    );
    expect(r.manifest.containers.map((c) => [c.name, c.image, c.config['limits.cpu']])).toEqual([
      ['c1', 'nest', '2'],
      ['c2', 'nest', '2'],
    ]);
  });

  it('reads a BOM and CRLF line ends, with positions as the user sees them', () => {
    const text = `\ufeff${withLines('    imgae: x')}`.replace(/\n/g, '\r\n');
    expect(firstError(text)).toEqual(['5:5', 'unknown key "imgae" in container c1']);
    expect(accepted(`\ufeff${withLines()}`.replace(/\n/g, '\r\n')).manifest.containers[0]?.name).toBe('c1');
  });

  it('loads a very long line (a 500 KiB user.* value) in bounded time', () => {
    const long = 'x'.repeat(500 * 1024);
    expect(accepted(withConfig(`user.blob: ${long}`)).manifest.containers[0]?.config['user.blob']).toBe(long);
  });

  it('stops checking a config mapping after 100 problems, so 30000 unknown keys load in bounded time', () => {
    const r = check(withConfig(...Array.from({ length: 30000 }, (_, i) => `limits.memroy${i}: 1`)));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics).toHaveLength(101);
    expect(r.diagnostics[100]).toMatchObject({
      where: { line: 106, column: 7 },
      message: '29900 more config keys in container c1 not checked after 100 problems',
    });
  });

  it('loads a wide tree (2000 siblings) in bounded time', () => {
    const lines = ['apiVersion: nestctl/v1', 'containers:', ...Array.from({ length: 2000 }, (_, i) => `  - {name: c${i}, image: nest}`)];
    expect(accepted(doc(...lines)).manifest.containers).toHaveLength(2000);
  });
});

describe('fuzzing the loader', () => {
  const examples = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => readFileSync(join(EXAMPLES, f), 'utf8'));

  /** Never a throw: a manifest, or diagnostics placed inside the text. */
  function wellBehaved(text: string): boolean {
    const r = check(text);
    if (r.ok) return true;
    const lines = text.split('\n').length;
    return (
      r.diagnostics.length > 0 &&
      r.diagnostics.every((d) => placed(d).line >= 1 && placed(d).column >= 1 && placed(d).line <= lines + 1 && d.message !== '')
    );
  }

  const yamlish = fc
    .array(
      fc.constantFrom(
        'apiVersion: nestctl/v1\n',
        'containers:\n',
        '  - ',
        'name: c1\n',
        'image: nest\n',
        '{',
        '}',
        '[',
        ']',
        ', ',
        ': ',
        '&a ',
        '*a',
        '<<: ',
        '!!binary ',
        '!x ',
        '"',
        "'",
        '\t',
        '\r\n',
        '\n',
        '---\n',
        '    ',
        '-',
        'user.a: ',
        'raw.idmap: ',
        '? ',
        '#',
        '\0',
        '\ufffd',
        '\ufeff',
        'с',
        'base: ',
        '1e300',
        '65536',
        'host:\n',
        '  owner: ',
        'idmap: {isolated: true, size: ',
        'config:\n',
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join(''));

  it('never throws on random YAML-ish text', () => {
    fc.assert(fc.property(yamlish, wellBehaved), { numRuns: 400 });
  });

  it('never throws on random mutations of the examples', () => {
    const mutation = fc.record({
      example: fc.integer({ min: 0, max: examples.length - 1 }),
      at: fc.nat(),
      cut: fc.nat({ max: 40 }),
      insert: fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('*a', '&a ', '- ', ':', '\n  ', '\t', '[', '{', '!!binary ', '<<: *a\n', '-x', 'raw.idmap: both 0 0\n'),
      ),
    });
    fc.assert(
      fc.property(mutation, ({ example, at, cut, insert }) => {
        const text = examples[example] ?? '';
        const i = at % (text.length + 1);
        return wellBehaved(text.slice(0, i) + insert + text.slice(i + cut));
      }),
      { numRuns: 400 },
    );
  });
});
