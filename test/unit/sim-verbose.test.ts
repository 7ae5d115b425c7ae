// --simulate --verbose shows the commands the run executes: a simulation runs the real client
// (ExecLevel) over a simulated machine, so the trace is the client's own, and the machine receives
// the argv a real host would run, nested through `lxc exec` for every level above.

import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { hostWith, nestInside, ours } from './helpers/sim-worlds.js';
import { nestctl } from './helpers/cli.js';

describe('--simulate --verbose', () => {
  it('instance calls inside c1 reach the simulated host as the nested argv a real host runs', async () => {
    const world = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([ours('c1/c2', 'busybox', { status: 'Stopped' })]) })]));
    const ran: string[][] = [];
    const traced: string[] = [];
    const machine = world.machine();
    const host = new ExecLevel(
      (argv, options) => (ran.push([...argv]), machine(argv, options)),
      '',
      { trace: (path, argv) => traced.push(`[${path}] ${argv.join(' ')}`) },
      'debian',
    );
    const c1 = host.child('c1', 'debian');
    await c1.updateInstance('c2', { set: { 'limits.cpu': '2' }, profiles: ['default'] });
    await c1.startInstance('c2', false);
    expect(ran).toEqual([
      ['lxc', 'exec', 'c1', '-T', '--', 'lxc', 'config', 'set', 'c2', 'limits.cpu=2'],
      ['lxc', 'exec', 'c1', '-T', '--', 'lxc', 'profile', 'assign', 'c2', 'default'],
      ['lxc', 'exec', 'c1', '-T', '--', 'lxc', 'start', '-q', 'c2'],
    ]);
    expect(traced).toEqual(['[c1] lxc config set c2 limits.cpu=2', '[c1] lxc profile assign c2 default', '[c1] lxc start -q c2']);
    expect(world.state().host.lxd?.instances[0]?.inside.lxd?.instances[0]?.status).toBe('Running');
  });

  it('the CLI prints them on stderr, one per line with the level, scripts by name', async () => {
    const r = await nestctl(['apply', '--simulate', '-v', '--auto-approve', 'examples/seed.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[host] sh -c <restart> systemd systemctl restart lxd\n');
    expect(r.stderr).toMatch(/\n\[c1\/c2\] lxc init -q [0-9a-f]{64} c3 -p default /);
    expect(r.stderr).toContain('[c1/c2] sh -c <probe> probe lxc lxd\n');
    expect(r.stdout).not.toContain('lxc exec');
  });
});
