// The sim side of the classic LXC agreement e2e (test/e2e/agreement-lxc.e2e.test.ts), without a
// real host: a recorded answer of the real LXC probe, read by ExecLevel.probeLxc as the e2e reads
// it, becomes the simulator's world (test/e2e/agreement-lxc-world.ts); agr-lxc.yaml then plans,
// applies, converges and is destroyed on it, leaving the host's files as they were.

import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { parseWorld, type WorldDescription } from '../../src/sim/index.js';
import type { ObservedLxc } from '../../src/core/observed.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { Exec } from '../../src/ports/exec.js';
import { lxcWorldPart } from '../e2e/agreement-lxc-world.js';
import { loadFile } from './helpers/engine.js';

const line = (name: string, status: string, body = ''): string => `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`;

/** Someone else's root-owned container already on the host: described, never touched. */
const OTHER_CONFIG = 'lxc.rootfs.path = dir:/var/lib/lxc/other/rootfs\nlxc.uts.name = other\n';

/** What the LXC probe printed on a Debian 12 lab host right after `useradd -m nestagr1` (owners nestagr1 and root). */
const RECORDED = [
  line('version', 'ok', '5.0.2\n'),
  line('apparmor', 'yes'),
  line('usernet', 'absent'),
  line('usernet_orig', 'absent'),
  line('owner', 'ok', 'nestagr1'),
  line('home', 'ok', '/home/nestagr1'),
  line('default_conf', 'absent'),
  line('owner', 'ok', 'root'),
  line('home', 'ok', '/root'),
  line('container', 'ok', 'other'),
  line('state', 'ok', 'RUNNING\n'),
  line('uid_map', '1700000000.000000000', '         0          0 4294967295\n'),
  line('config', '1700000000.000000000', OTHER_CONFIG),
].join('\n');

async function recordedProbe(): Promise<ObservedLxc> {
  const exec: Exec = async (argv) => ({ code: 0, stdout: argv.includes('lxc-probe') ? `${RECORDED}\n` : '', stderr: '' });
  return new ExecLevel(exec, '', {}, 'debian').probeLxc(['nestagr1', 'root']);
}

const SUBID = 'root:100000:10000001\nnestagr1:10100001:65536\n';

/** The host as describeRealHost gives it: LXD up and initialised, busybox and nest-tools (LXD and LXC in it). */
async function labHost(): Promise<WorldDescription> {
  const lxc = lxcWorldPart(await recordedProbe());
  if (!lxc) throw new Error('the recorded probe has LXC');
  const desc: WorldDescription = {
    host: {
      lxd: { flavour: 'debian', version: '5.0.2', daemon: 'up', initialised: { pool: 'default', bridge: 'lxdbr0', ipv4: '10.66.0.1/24' } },
      systemd: true,
      uidmapTools: true,
      uidMap: '0 0 4294967295',
      subuid: SUBID,
      subgid: SUBID,
      images: [
        { fingerprint: 'a'.repeat(64), aliases: ['busybox'], lxd: false },
        {
          fingerprint: 'b'.repeat(64),
          aliases: ['nest-tools'],
          lxd: { flavour: 'debian', subuid: 'root:100000:10000001\n', subgid: 'root:100000:10000001\n' },
          lxc: true,
        },
      ],
      lxc: lxc.lxc,
      ...(Object.keys(lxc.files).length > 0 ? { files: lxc.files } : {}),
    },
  };
  // Through the same reader as `--world FILE`, as the e2e does.
  return parseWorld(stringify(desc), 'agreement-lxc-world.yaml');
}

const M = loadFile('test/e2e/manifests/agr-lxc.yaml');
const options = { hostRestart: ['/bin/true'], tool: 'agreement', manifestText: M.text };

describe('the classic LXC agreement, simulator side (recorded real probe)', () => {
  it('describes the probed accounts, homes and containers, and nothing for a host without LXC', async () => {
    const part = lxcWorldPart(await recordedProbe());
    expect(part).toEqual({
      lxc: {
        version: '5.0.2',
        apparmor: true,
        users: { nestagr1: '/home/nestagr1' },
        containers: [{ owner: 'root', name: 'other', state: 'RUNNING', config: OTHER_CONFIG, uidMap: '0 0 4294967295' }],
      },
      files: {},
    });
    expect(
      lxcWorldPart({ version: null, apparmor: false, usernet: { text: null, sha256: null }, usernetOriginal: null, owners: {} }),
    ).toBeNull();
    const frozen: ObservedLxc = { ...(await recordedProbe()) };
    frozen.owners.root!.containers[0]!.state = 'FROZEN';
    expect(() => lxcWorldPart(frozen)).toThrow(/other is FROZEN/);
  });

  it('plans agr-lxc.yaml on the world built from it, applies, converges, and destroy --restore-ids puts the files back', async () => {
    const world = createSimWorld(await labHost());
    const first = await planManifest(M.manifest, world.host(), options);
    if (!first.ok) throw new Error(JSON.stringify(first.problems));
    const lxcSteps = first.plan.steps.filter((s) => s.kind.includes('lxc')).map((s) => s.id);
    expect(lxcSteps).toEqual([
      'host:write-lxc-file:/etc/lxc/lxc-usernet',
      'host:write-lxc-file:/home/nestagr1/.config/lxc/default.conf',
      'agrlxu:create-lxc',
      'agrlxu:configure-lxc',
      'agrlxu:start-lxc',
      'agrlxo/agrlxr:create-lxc',
      'agrlxo/agrlxr:configure-lxc',
      'agrlxo/agrlxr:start-lxc',
    ]);
    const applied = await startApply(first.plan, world.host()).finished;
    expect(applied.failed.map((f) => `${f.step.id}: ${f.error.message}`)).toEqual([]);
    // nestagr1's useradd range lies clear of LXD's at 20000000: kept, and init runs on it
    expect(world.lxcUidMap('', 'nestagr1', 'agrlxu')).toBe('0 10100001 65536');
    expect(world.lxcUidMap('agrlxo', 'root', 'agrlxr')).toMatch(/^0 \d+ 65536$/);
    expect(world.lxcUidMap('', 'root', 'other')).toBe('0 0 4294967295');
    const again = await planManifest(M.manifest, world.host(), options);
    expect(again.ok && again.plan.steps.map((s) => s.id)).toEqual([]);

    const destroy = await planManifest(M.manifest, world.host(), { ...options, mode: 'destroy', restoreIds: true });
    if (!destroy.ok) throw new Error(JSON.stringify(destroy.problems));
    expect((await startApply(destroy.plan, world.host()).finished).failed).toEqual([]);
    expect([world.file('', '/etc/subuid'), world.file('', '/etc/subgid'), world.file('', '/etc/lxc/lxc-usernet') ?? '']).toEqual([
      SUBID,
      SUBID,
      '',
    ]);
    expect(world.lxcUidMap('', 'nestagr1', 'agrlxu')).toBeNull();
    expect(world.lxcUidMap('', 'root', 'other')).toBe('0 0 4294967295');
  });
});
