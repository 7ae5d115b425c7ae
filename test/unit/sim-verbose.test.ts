// --simulate --verbose shows the commands a real run would execute: the simulator's argv for each
// call equal what ExecLevel runs through nested `lxc exec` for the same call (scripts by name).

import { describe, expect, it } from 'vitest';
import { shownArgv } from '../../src/adapters/lxd/commands.js';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { PROBE_MARK, PROBE_SCRIPT } from '../../src/adapters/lxd/probe-script.js';
import { createSimWorld } from '../../src/sim/index.js';
import type { Exec } from '../../src/ports/exec.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { hostWith, nestInside, ours } from './helpers/sim-worlds.js';
import { nestctl } from './helpers/cli.js';

const F = 'f'.repeat(64);

/** The same calls on a real client over a recording Exec and on a simulated world that shows them. */
async function both(call: (level: LxdLevel) => Promise<unknown>): Promise<{ real: string[][]; shown: string[][] }> {
  const real: string[][] = [];
  const exec: Exec = async (argv) => {
    real.push(shownArgv(argv));
    // A probe answers with at least one fact (an empty answer is a lost one, and asked again).
    return { code: 0, stdout: argv.includes(PROBE_SCRIPT) ? `${PROBE_MARK} now 0 \n` : '', stderr: '' };
  };
  await call(new ExecLevel(exec, '', {}, 'debian').child('c1', 'debian'));
  const shown: string[][] = [];
  const world = createSimWorld(hostWith([ours('c1', 'nest', { inside: nestInside([ours('c1/c2', 'busybox', { status: 'Stopped' })]) })]));
  await call(world.host('debian', (_path, argv) => shown.push([...argv])).child('c1', 'debian'));
  return { real, shown };
}

describe('--simulate --verbose', () => {
  it('instance calls inside c1: the argv ExecLevel runs, prefixed as it nests them', async () => {
    const { real, shown } = await both(async (c1) => {
      await c1.createInstance({ name: 'c9', fingerprint: F, profiles: ['default'], config: { 'user.note': 'x' } }).catch(() => undefined);
      await c1.updateInstance('c2', { set: { 'limits.cpu': '2' }, profiles: ['default'] });
      await c1.startInstance('c2', false);
      await c1.stopInstance('c2');
      await c1.writeSubid('subuid', 'root:65536:65536\n', null).catch(() => undefined);
      await c1.probe().catch(() => undefined);
    });
    expect(shown).toEqual(real);
    expect(shown[0]).toEqual(['lxc', 'exec', 'c1', '-T', '--', 'lxc', 'init', '-q', F, 'c9', '-p', 'default', '-c', 'user.note=x']);
  });

  it('the CLI prints them on stderr, one per line with the level', async () => {
    const r = await nestctl(['apply', '--simulate', '-v', '--auto-approve', 'examples/seed.yaml']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[host] sh -c <restart> systemd systemctl restart lxd\n');
    expect(r.stderr).toMatch(/\n\[c1\/c2\] lxc exec c1 -T -- lxc exec c2 -T -- lxc init -q [0-9a-f]{64} c3 -p default /);
    expect(r.stdout).not.toContain('lxc exec');
  });
});
