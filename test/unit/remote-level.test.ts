// A remote's top level through the real client, over a recording Exec: its instances are named
// REMOTE:NAME in its project, the levels below are reached through `lxc exec REMOTE:c1`, its probe
// is put together from `lxc query REMOTE:/1.0/…` and the range its probe instance read, and
// nothing is ever run on that machine itself.

import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import type { Exec, ExecResult } from '../../src/ports/exec.js';

const RANGE = { uid: { start: 65536, size: 1_000_000 }, gid: { start: 65536, size: 1_000_000 } };

function remoteLevel(answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({}), project: string | null = 'trees') {
  const calls: Array<readonly string[]> = [];
  const exec: Exec = async (argv) => {
    calls.push(argv);
    return { code: 0, stdout: '', stderr: '', ...answer(argv) };
  };
  let probes = 0;
  const range = async () => (probes++, RANGE);
  const level = new ExecLevel(exec, '', {}, 'debian', { remote: 'nxr1', project, range });
  return { level, calls, probes: () => probes };
}

const QUERIES: Record<string, unknown> = {
  'nxr1:/1.0': { environment: { server_version: '5.0.2' } },
  'nxr1:/1.0/instances?recursion=1&all-projects=true': [
    { name: 'hr1', project: 'default', status: 'Running', profiles: ['default'], config: { 'user.nestctl.path': 'hr1' } },
  ],
  // The same instances with their state, read for their addresses (status).
  'nxr1:/1.0/instances?recursion=2&all-projects=true': [
    {
      name: 'hr1',
      project: 'default',
      status: 'Running',
      state: {
        network: {
          lo: { addresses: [{ family: 'inet', address: '127.0.0.1', netmask: '8', scope: 'local' }] },
          eth0: {
            addresses: [
              { family: 'inet', address: '10.78.1.20', netmask: '24', scope: 'global' },
              { family: 'inet6', address: 'fd42::20', netmask: '64', scope: 'global' },
            ],
          },
        },
      },
    },
  ],
  'nxr1:/1.0/images?recursion=1': [{ fingerprint: 'a'.repeat(64), aliases: [{ name: 'busybox' }], properties: {} }],
  'nxr1:/1.0/storage-pools?recursion=1': [{ name: 'default', driver: 'dir' }],
  'nxr1:/1.0/networks?recursion=1': [{ name: 'lxdbr0', managed: true, config: { 'ipv4.address': '10.78.1.1/24' } }],
  'nxr1:/1.0/profiles?recursion=1': [{ name: 'default', devices: { root: { type: 'disk', path: '/', pool: 'default' } }, config: {} }],
  // Asked in the same batch; read only when /1.0 says the server is clustered.
  'nxr1:/1.0/cluster/members?recursion=1': [],
};

describe("a remote's top level over the real client", () => {
  it('is observed through lxc query REMOTE:/1.0/…, its subid files being the range its probe instance read', async () => {
    const { level, calls } = remoteLevel((argv) => ({ stdout: JSON.stringify(QUERIES[argv.at(-1)!] ?? null) }));
    const obs = await level.probe({ addresses: true });
    for (const argv of calls) expect(argv.slice(0, 4)).toEqual(['lxc', '--project', 'trees', 'query']);
    expect(calls.map((a) => a.at(-1)).sort()).toEqual(Object.keys(QUERIES).sort());
    expect(obs.flavour).toBe('debian');
    expect(obs.daemon).toEqual({ kind: 'up', version: '5.0.2', startedAt: null });
    expect(obs.subuid.text).toBe('root:65536:1000000\n');
    expect(obs.subgid.text).toBe('root:65536:1000000\n');
    expect(obs.instances.map((i) => [i.name, i.status, i.ipv4])).toEqual([['hr1', 'Running', ['10.78.1.20']]]);
    expect(obs.images.map((i) => i.aliases)).toEqual([['busybox']]);
    expect(obs.storagePools).toEqual(['default']);
    expect(obs.networks).toEqual([{ name: 'lxdbr0', managed: true, ipv4: '10.78.1.1/24' }]);
    expect(obs.defaultProfileHasRoot).toBe(true);
    expect((await level.readSubid('subgid')).text).toBe('root:65536:1000000\n');
  });

  it("reads the instances' state (their addresses) only when asked: plan, apply and destroy never do", async () => {
    const { level, calls } = remoteLevel((argv) => ({ stdout: JSON.stringify(QUERIES[argv.at(-1)!] ?? null) }));
    const obs = await level.probe();
    expect(calls.map((a) => a.at(-1)).sort()).toEqual(
      Object.keys(QUERIES)
        .filter((q) => !q.includes('recursion=2'))
        .sort(),
    );
    expect(obs.instances.map((i) => [i.name, i.status, i.ipv4])).toEqual([['hr1', 'Running', undefined]]);
  });

  it('names its instances and profiles REMOTE:NAME in its project, and reaches the levels below through lxc exec REMOTE:c1', async () => {
    const { level, calls } = remoteLevel();
    await level.createInstance({ name: 'hr1', fingerprint: 'f'.repeat(64), profiles: ['default'], config: { 'security.nesting': 'true' } });
    await level.startInstance('hr1', false);
    await level.updateInstance('hr1', { set: { 'limits.cpu': '2' } });
    await level.createProfile('ci', { description: '', config: {}, devices: {} });
    await level.deleteInstance('hr1');
    expect(calls).toEqual([
      ['lxc', '--project', 'trees', 'init', '-q', `nxr1:${'f'.repeat(64)}`, 'nxr1:hr1', '-p', 'default', '-c', 'security.nesting=true'],
      ['lxc', '--project', 'trees', 'start', '-q', 'nxr1:hr1'],
      ['lxc', '--project', 'trees', 'config', 'set', 'nxr1:hr1', 'limits.cpu=2'],
      ['lxc', '--project', 'trees', 'profile', 'create', 'nxr1:ci'],
      ['lxc', '--project', 'trees', 'profile', 'edit', 'nxr1:ci'],
      ['lxc', '--project', 'trees', 'delete', '--force', '-q', 'nxr1:hr1'],
    ]);
    calls.length = 0;
    await level.child('hr1', 'debian').createInstance({ name: 'hr2', fingerprint: 'b'.repeat(64), profiles: ['default'], config: {} });
    await level.runIn('hr1', ['true']);
    expect(calls).toEqual([
      ['lxc', 'exec', '--project', 'trees', 'nxr1:hr1', '-T', '--', 'lxc', 'init', '-q', 'b'.repeat(64), 'hr2', '-p', 'default'],
      ['lxc', 'exec', '--project', 'trees', 'nxr1:hr1', '-T', '--', 'true'],
    ]);
  });

  it('never writes subid files, restarts or initialises the daemon of the remote machine', async () => {
    const { level, calls } = remoteLevel(undefined, null);
    await expect(level.writeSubid('subuid', 'root:65536:131072\n', null)).rejects.toThrow(
      "nestctl does not write /etc/subuid on remote nxr1's machine",
    );
    await expect(level.restartDaemon(null)).rejects.toThrow("nestctl does not restart the daemon on remote nxr1's machine");
    await expect(level.initDaemon('config: {}\n')).rejects.toThrow("nestctl does not initialise the daemon on remote nxr1's machine");
    expect(calls).toEqual([]);
  });
});
