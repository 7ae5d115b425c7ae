// `hosts:`: several hosts by name, remotes of the client's configuration, and the root
// containers' `host:` and `target:`; checked by validate's one pipeline (checkManifest).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostics.js';
import { checkManifest } from '../../src/core/manifest/check.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { nestctl } from './helpers/cli.js';
import { parseWorld } from '../../src/sim/index.js';
import { simHostsOf } from '../../src/cli/sim-hosts.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { lineCol } from './helpers/placed.js';

const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

function accepted(text: string): { manifest: Manifest; hostNeeds: Record<string, number> } {
  const r = checkManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${lineCol(d)} ${d.message}`).join('\n'));
  return { manifest: r.manifest, hostNeeds: r.allocation.hostNeeds };
}

function errors(text: string): Diagnostic[] {
  const r = checkManifest(text, 'm.yaml');
  if (r.ok) throw new Error('expected the manifest to be rejected');
  return r.diagnostics.filter((d) => d.severity === 'error');
}

/** The one error whose message matches: its position, message and hint. */
function only(text: string, match: RegExp): { at: string; message: string; hint: string } {
  const ds = errors(text);
  const hits = ds.filter((d) => match.test(d.message));
  if (hits.length !== 1)
    throw new Error(`expected one error matching ${match}, got:\n${ds.map((d) => `${lineCol(d)} ${d.message}`).join('\n')}`);
  const d = hits[0]!;
  return { at: lineCol(d), message: d.message, hint: d.hint ?? '' };
}

const TWO_HOSTS = doc(
  'apiVersion: nestctl/v1',
  'hosts:',
  '  here:',
  '    base: 500000',
  '  lab1:',
  '    remote: lab1',
  '    project: trees',
  '  labc:',
  '    remote: labc',
  '    cli: incus',
  '    shell: [ssh, root@labc1, --]',
  '    base: 700000',
  'containers:',
  '  - name: c1',
  '    host: here',
  '    image: nest',
  '    containers: [{name: c2, image: busybox}]',
  '  - name: c1',
  '    host: lab1',
  '    image: busybox',
  '  - name: m',
  '    host: labc',
  '    target: "@fast"',
  '    image: busybox',
);

describe('hosts: building the manifest', () => {
  it('builds every host with its place, and gives each root container and what it holds its host', () => {
    const { manifest, hostNeeds } = accepted(TWO_HOSTS);
    expect(manifest.hosts.map((h) => [h.name, h.section, h.place, h.base])).toEqual([
      ['here', 'hosts.here', { kind: 'local' }, 500000],
      [
        'lab1',
        'hosts.lab1',
        { kind: 'remote', remote: 'lab1', cli: null, client: 'lxc', flavour: 'debian', project: 'trees', shell: null },
        null,
      ],
      [
        'labc',
        'hosts.labc',
        {
          kind: 'remote',
          remote: 'labc',
          cli: 'incus',
          client: 'incus',
          flavour: 'incus',
          project: null,
          shell: ['ssh', 'root@labc1', '--'],
        },
        700000,
      ],
    ]);
    expect(manifest.host.name).toBe('here');
    expect(manifest.containers.map((c) => [c.path, c.host, c.target?.value ?? null])).toEqual([
      ['c1', 'here', null],
      ['c1', 'lab1', null],
      ['m', 'labc', '@fast'],
    ]);
    expect(manifest.containers[0]!.containers[0]!.host).toBe('here');
    // Each host's daemon serves only its own root containers.
    expect(hostNeeds).toEqual({ here: 131072, lab1: 65536, labc: 65536 });
    // Two root containers of one name on two hosts keep their own allocations.
    const r = checkManifest(TWO_HOSTS, 'm.yaml');
    expect(r.ok && r.allocation.nodes.map((n) => [n.path, n.need])).toEqual([
      ['c1', 131072],
      ['c1', 65536],
      ['m', 65536],
    ]);
  });

  it('gives a remote the client and flavour it is reached with, each following the other, and keeps the flavour the manifest names', () => {
    const remote = (keys: string) =>
      accepted(doc('apiVersion: nestctl/v1', `hosts: {lab1: {remote: lab1${keys}}}`, 'containers: [{name: c1, image: busybox}]')).manifest
        .host;
    const reached = (keys: string) => {
      const h = remote(keys);
      return h.place.kind === 'remote' ? [h.place.client, h.place.flavour, h.flavour] : null;
    };
    expect(reached('')).toEqual(['lxc', 'debian', null]);
    expect(reached(', cli: lxc')).toEqual(['lxc', 'debian', null]);
    expect(reached(', cli: incus')).toEqual(['incus', 'incus', null]);
    expect(reached(', flavour: incus')).toEqual(['incus', 'incus', 'incus']);
    expect(reached(', flavour: snap')).toEqual(['lxc', 'snap', 'snap']);
    expect(reached(', cli: lxc, flavour: snap')).toEqual(['lxc', 'snap', 'snap']);
  });

  it('reads host: as one host named local, and a lone hosts: entry as the host of every root container', () => {
    const single = accepted(doc('apiVersion: nestctl/v1', 'host: {base: 500000}', 'containers: [{name: c1, image: busybox}]')).manifest;
    expect(single.hosts).toEqual([single.host]);
    expect([single.host.name, single.host.section, single.host.place, single.containers[0]!.host]).toEqual([
      'local',
      'host',
      { kind: 'local' },
      'local',
    ]);
    const lone = accepted(
      doc('apiVersion: nestctl/v1', 'hosts: {lab1: {remote: lab1}}', 'containers: [{name: c1, image: busybox}]'),
    ).manifest;
    expect(lone.containers[0]!.host).toBe('lab1');
  });

  it('sizes each host for its own root containers and places a range problem at that host', () => {
    const e = only(
      doc(
        'apiVersion: nestctl/v1',
        'hosts:',
        '  a: {}',
        '  b:',
        '    remote: b',
        '    shell: [ssh, root@b, --]',
        '    base: 4294900000',
        'containers:',
        '  - {name: c1, host: a, image: busybox}',
        '  - {name: c1, host: b, image: nest, containers: [{name: c2, image: busybox}]}',
      ),
      /host ids/,
    );
    expect(e.at).toBe('4:3');
    expect(e.message).toBe(
      'the tree on host b needs 131072 host ids, which from hosts.b.base 4294900000 run past the last usable id 4294967294',
    );
    expect(e.hint).toBe('choose hosts.b.base at most 4294836223');
  });
});

describe('hosts: refusals, each at its place', () => {
  it('refuses an empty hosts: and a key it does not know, in plain words', () => {
    expect(only(doc('apiVersion: nestctl/v1', 'hosts: {}', 'containers: [{name: c1, image: busybox}]'), /hosts/)).toEqual({
      at: '2:8',
      message: '"hosts" must not be empty',
      hint: 'name at least one host, e.g. "local: {}" for this machine, or leave hosts: out',
    });
    expect(
      only(
        doc('apiVersion: nestctl/v1', 'hosts:', '  lab1:', '    remote: lab1', '    bse: 5', 'containers: [{name: c1, image: busybox}]'),
        /unknown key/,
      ),
    ).toMatchObject({ at: '5:5', message: 'unknown key "bse" in hosts.lab1' });
    expect(
      only(doc('apiVersion: nestctl/v1', 'hosts: {lab1: {remote: lab1, shell: []}}', 'containers: [{name: c1, image: busybox}]'), /shell/)
        .hint,
    ).toBe(
      "The argv prefix that runs a command on the remote's machine itself, like [ssh, root@lab1, --]; nestctl uses it only to edit /etc/subuid and /etc/subgid and to restart the daemon there.",
    );
  });

  it('refuses host: beside hosts:', () => {
    expect(
      only(
        doc('apiVersion: nestctl/v1', 'host: {base: 500000}', 'hosts: {a: {}}', 'containers: [{name: c1, image: busybox}]'),
        /both describe/,
      ).at,
    ).toBe('3:1');
  });

  it('refuses a host name that is not a plain word', () => {
    const e = only(
      doc('apiVersion: nestctl/v1', 'hosts:', '  Lab_1: {remote: lab1}', 'containers: [{name: c1, image: busybox}]'),
      /invalid host name/,
    );
    expect(e.at).toBe('3:3');
    expect(e.hint).toMatch(/plain word/);
  });

  it('refuses two hosts without remote (both would be this machine)', () => {
    const e = only(
      doc('apiVersion: nestctl/v1', 'hosts:', '  a: {}', '  b: {}', 'containers: [{name: c1, host: a, image: busybox}]'),
      /both have no remote/,
    );
    expect(e.at).toBe('4:3');
  });

  it('refuses base, restart and owner on a remote without shell:, each with the way out', () => {
    const text = doc(
      'apiVersion: nestctl/v1',
      'hosts:',
      '  lab1:',
      '    remote: lab1',
      '    base: 500000',
      '    restart: [systemctl, restart, lxd]',
      '    owner: root',
      'containers: [{name: c1, image: busybox}]',
    );
    const ds = errors(text).filter((d) => /needs shell:/.test(d.message));
    expect(ds.map((d) => [lineCol(d), d.message.split(':')[0]])).toEqual([
      ['5:5', 'hosts.lab1.base needs shell'],
      ['6:5', 'hosts.lab1.restart needs shell'],
      ['7:5', 'hosts.lab1.owner needs shell'],
    ]);
    expect(ds[0]!.hint).toMatch(/read from its daemon.*shell: .*\[ssh, root@HOST, --\]/);
  });

  it('refuses cli, project and shell on this machine', () => {
    const e = only(
      doc('apiVersion: nestctl/v1', 'hosts:', '  a:', '    project: p', 'containers: [{name: c1, image: busybox}]'),
      /only for a remote/,
    );
    expect(e.at).toBe('4:5');
  });

  it('refuses remote, project, shell and target words that lxc would read as options', () => {
    expect(
      only(doc('apiVersion: nestctl/v1', 'hosts: {a: {remote: -x}}', 'containers: [{name: c1, image: busybox}]'), /invalid remote/).message,
    ).toMatch(/starts with "-"/);
    expect(
      only(
        doc('apiVersion: nestctl/v1', 'hosts: {a: {remote: r, project: --all}}', 'containers: [{name: c1, image: busybox}]'),
        /invalid project/,
      ).at,
    ).toBe('2:33');
    expect(
      only(
        doc('apiVersion: nestctl/v1', 'hosts: {a: {remote: r, shell: [-c, x]}}', 'containers: [{name: c1, image: busybox}]'),
        /hosts.a.shell/,
      ).message,
    ).toMatch(/program name/);
    expect(
      only(
        doc('apiVersion: nestctl/v1', 'hosts: {a: {remote: r}}', 'containers: [{name: c1, target: "@-x", image: busybox}]'),
        /invalid target/,
      ).message,
    ).toMatch(/starts with "-"/);
  });

  it("refuses a cli that is not the flavour's client", () => {
    expect(
      only(
        doc('apiVersion: nestctl/v1', 'hosts: {a: {remote: r, cli: lxc, flavour: incus}}', 'containers: [{name: c1, image: busybox}]'),
        /cli: lxc but flavour: incus/,
      ).hint,
    ).toBe('write cli: incus, or leave cli out (it follows the flavour)');
  });

  it('requires host: on root containers when there are several hosts, and a host that exists', () => {
    const head = ['apiVersion: nestctl/v1', 'hosts:', '  a: {}', '  lab1: {remote: lab1}', 'containers:'];
    expect(only(doc(...head, '  - {name: c1, image: busybox}'), /names no host/)).toEqual({
      at: '6:5',
      message: 'container c1 names no host, and hosts: has 2',
      hint: 'add "host: NAME" with one of: a, lab1',
    });
    expect(only(doc(...head, '  - {name: c1, host: lab2, image: busybox}'), /which hosts: does not have/).hint).toBe(
      'did you mean "lab1"? hosts here: a, lab1',
    );
    expect(only(doc('apiVersion: nestctl/v1', 'containers: [{name: c1, host: lab1, image: busybox}]'), /no hosts: map/).at).toBe('2:31');
  });

  it('refuses host: and target: on nested containers, and target: on this machine', () => {
    const nested = doc(
      'apiVersion: nestctl/v1',
      'hosts: {a: {remote: r}}',
      'containers:',
      '  - name: c1',
      '    image: nest',
      '    containers:',
      '      - {name: c2, image: busybox, target: m2}',
    );
    expect(only(nested, /only root containers/).at).toBe('7:36');
    expect(
      only(doc('apiVersion: nestctl/v1', 'containers: [{name: c1, image: busybox, target: m2}]'), /not a clustered remote/).message,
    ).toBe('container c1 has target: but its host local is this machine, not a clustered remote');
  });

  it('refuses the same root name twice on one host, and allows it on two', () => {
    const text = doc(
      'apiVersion: nestctl/v1',
      'hosts: {a: {}, b: {remote: b}}',
      'containers:',
      '  - {name: c1, host: a, image: busybox}',
      '  - {name: c1, host: b, image: busybox}',
      '  - {name: c1, host: b, image: busybox}',
    );
    expect(only(text, /duplicate container name/)).toMatchObject({
      at: '6:12',
      message: 'duplicate container name "c1" on host b (first at line 5)',
    });
  });
});

describe('hosts: through the CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'nestctl-hosts-'));
  const remote = join(tmp, 'remote.yaml');
  writeFileSync(
    remote,
    doc(
      'apiVersion: nestctl/v1',
      'hosts:',
      '  here: {}',
      '  lab1: {remote: lab1}',
      'containers:',
      '  - {name: c1, host: here, image: busybox}',
      '  - {name: c2, host: lab1, image: busybox}',
    ),
  );

  it('validate accepts a manifest with a remote; plan and apply run it in a simulation, one section per host', async () => {
    const v = await nestctl(['validate', remote]);
    expect(v.code).toBe(0);
    const p = await nestctl(['plan', '--simulate', remote]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('# host here (this machine)');
    expect(p.stdout).toMatch(/# host lab1 \(remote lab1 = server "lab1", fingerprint [0-9a-f]{8}…\)/);
    const a = await nestctl(['apply', '--simulate', '--auto-approve', remote]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('[lab1] c2: create from busybox');
    expect(a.stdout).toContain('Converged: planning again');
  });

  it('keeps a world of several machines in a state file: plan, apply, then plan says No changes', async () => {
    const state = join(tmp, 'state.yaml');
    const first = await nestctl(['plan', '--state', state, remote]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('# host lab1 (remote lab1 = server "lab1"');
    const applied = await nestctl(['apply', '--auto-approve', '--state', state, remote]);
    expect(applied.code, applied.stderr).toBe(0);
    const saved = readFileSync(state, 'utf8');
    expect(saved).toMatch(/^servers:\n {2}lab1:\n {4}serverName: lab1\n {4}fingerprint: [0-9a-f]{64}\n {4}host:\n/m);
    const again = await nestctl(['plan', '--state', state, remote]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes.');
    // The saved text reads back as the world it describes.
    const loaded = loadManifest(readFileSync(remote, 'utf8'), remote);
    if (!loaded.ok) throw new Error('the manifest did not load');
    expect(simHostsOf(loaded.manifest, parseWorld(saved, state), undefined).describe()).toBe(saved);
  });

  it('applies a saved plan of several hosts to the state it was made against, and refuses it once that state changed', async () => {
    const state = join(tmp, 'saved-state.yaml');
    const plan = join(tmp, 'saved-plan.json');
    const made = await nestctl(['plan', '--state', state, '--out', plan, remote]);
    expect(made.code, made.stderr).toBe(0);
    const applied = await nestctl(['apply', '--state', state, plan]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Converged: planning again');
    const stale = await nestctl(['apply', '--state', state, plan]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('plan is stale');
  });

  it("refuses a world file without a server for a remote of the manifest, at the host's line", async () => {
    const world = join(tmp, 'one-machine.yaml');
    writeFileSync(world, doc('host:', '  lxd: {flavour: debian}', '  images: [{alias: busybox}]'));
    const r = await nestctl(['plan', '--world', world, remote]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${remote}:4:3: error: the simulated world has no server for remote lab1`);
    expect(r.stderr).toContain('describe it under servers.lab1 in the world file');
  });

  it('plans a lone hosts: entry without remote exactly as host:', async () => {
    const hosts = join(tmp, 'hosts.yaml');
    const host = join(tmp, 'host.yaml');
    writeFileSync(hosts, doc('apiVersion: nestctl/v1', 'hosts:', '  here: {base: 500000}', 'containers: [{name: c1, image: busybox}]'));
    writeFileSync(host, doc('apiVersion: nestctl/v1', 'host:', '  base: 500000', 'containers: [{name: c1, image: busybox}]'));
    const [a, b] = await Promise.all([nestctl(['plan', '--simulate', hosts]), nestctl(['plan', '--simulate', host])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('root:500000:65536');
    expect(a.stdout).toBe(b.stdout);
  });
});
