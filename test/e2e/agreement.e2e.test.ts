// The simulated LXD must agree with real LXD (ARCHITECTURE.md, "The simulated LXD"). The same manifests are applied by the
// real CLI on this host and by the engine on a simulated world that describes this host's
// starting point (its /etc/subuid and /etc/subgid, images, pool and bridge); both are then
// observed with the same code (engine/observe.ts) and compared level by level. A negative case
// checks that both refuse an unprivileged child in a nested LXD that still has Debian's default
// root:100000:10000001, with the same error. The description, observation and comparison are
// in agreement-lib.ts, shared with the Incus suite (agreement-incus.e2e.test.ts).
//
// Real LXD is shared with the other e2e files: run under `flock /tmp/nestctl-lab.lock`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { CommandError, NestctlError } from '../../src/core/errors.js';
import { buildPreseed } from '../../src/core/plan/preseed.js';
import { bridgeName } from '../../src/core/flavour/index.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import type { Plan } from '../../src/core/plan/model.js';
import { deleteOn, describeRealHost, load, manifestAgreement, realHost, simPlan, type RealDaemon } from './agreement-lib.js';
import { RESTART, execIn, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();

const MANIFESTS = ['test/e2e/manifests/agr-two-level.yaml', 'test/e2e/manifests/agr-kept.yaml', 'test/e2e/manifests/agr-copies.yaml'];
/** Files, setup and a profile; a hand edit repaired alike. */
const PROVISION = 'test/e2e/manifests/agr-provision.yaml';
/** The negative case's container at the host, and the child it tries to create inside it. */
const NEG = 'agrneg';
const NEG_CHILD = 'agrnegc';
// The lab host may run Incus beside LXD: this suite compares LXD, as its manifests say
// (agreement-incus.e2e.test.ts compares Incus).
const LXD: RealDaemon = { flavour: 'debian', restart: RESTART };

// ---------------------------------------------------------------------------------------------
// The negative case, run identically on both: a nested LXD still on Debian's default entry.

interface Attempt {
  error: string | null;
  kind: string | null;
  fault: string | null;
  /** The LXD error line ("Error: …") of a failed command. */
  lxd: string | null;
}

async function attempt(action: () => Promise<void>): Promise<Attempt> {
  try {
    await action();
    return { error: null, kind: null, fault: null, lxd: null };
  } catch (e) {
    const err = e as Error;
    const stderr = e instanceof CommandError ? e.stderr : '';
    return {
      error: err.message,
      kind: err.constructor.name,
      fault: e instanceof NestctlError ? e.fault : null,
      lxd: /^Error: .*$/m.exec(stderr)?.[0] ?? null,
    };
  }
}

async function negativeCase(
  host: LxdLevel,
  fingerprints: { nest: string; busybox: string },
): Promise<{ uninitialised: Attempt; initialised: Attempt }> {
  await host.createInstance({ name: NEG, fingerprint: fingerprints.nest, profiles: ['default'], config: { 'security.nesting': 'true' } });
  await host.startInstance(NEG, true);
  const inside = host.child(NEG, null);
  // The leaf image, copied down as apply would.
  const bundle = await host.exportImage(fingerprints.busybox);
  const pushed = await host.pushBundle(bundle, NEG);
  await inside.importImage(pushed, ['busybox']);
  await inside.discardBundle(pushed);
  await host.discardBundle(bundle);
  const create = (): Promise<void> =>
    inside.createInstance({ name: NEG_CHILD, fingerprint: fingerprints.busybox, profiles: ['default'], config: {} });
  const uninitialised = await attempt(create);
  await inside.initDaemon(buildPreseed({ pool: true, bridge: true, profile: true }, '10.77.9.1/24', bridgeName('debian')));
  const initialised = await attempt(create);
  return { uninitialised, initialised };
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(why !== null)(`the simulated LXD agrees with real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  const ours = [...new Set([...[...MANIFESTS, PROVISION].flatMap((f) => load(f).manifest.containers.map((s) => s.name)), NEG])];
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteOn(LXD, ours); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
  });

  afterAll(async () => {
    await deleteOn(LXD, ours);
    await files?.restore();
  });

  describe('negative: an unprivileged child in a nested LXD on Debian default root:100000:10000001', () => {
    let real: { uninitialised: Attempt; initialised: Attempt } | null = null;
    let sim: { uninitialised: Attempt; initialised: Attempt } | null = null;

    beforeAll(async () => {
      const host = await realHost(LXD).probe();
      const fp = (alias: string): string => {
        const img = host.images.find((i) => i.aliases.includes(alias));
        if (!img) throw new Error(`image ${alias} is not on the host (test/lab/setup-host.sh imports it)`);
        return img.fingerprint;
      };
      const fingerprints = { nest: fp('nest'), busybox: fp('busybox') };
      const world = createSimWorld(await describeRealHost(LXD, ['nest']));
      sim = await negativeCase(world.host(), fingerprints);
      try {
        real = await negativeCase(realHost(LXD), fingerprints);
      } finally {
        await deleteOn(LXD, [NEG]);
      }
    });

    it('both refuse once the nested LXD is initialised, with the same error class and the uid/gid allocation message', async () => {
      expect(real!.initialised.error, 'real LXD').toMatch(/uid\/gid allocation/);
      expect(sim!.initialised.error, 'simulated LXD').toMatch(/uid\/gid allocation/);
      expect({ kind: sim!.initialised.kind, fault: sim!.initialised.fault }).toEqual({
        kind: real!.initialised.kind,
        fault: real!.initialised.fault,
      });
    });

    it('both refuse the same way before the nested LXD is initialised (no storage pool yet)', async () => {
      expect(real!.uninitialised.error, 'real LXD').toMatch(/uid\/gid allocation/);
      expect(sim!.uninitialised.error, 'simulated LXD').toMatch(/uid\/gid allocation/);
      expect({ kind: sim!.uninitialised.kind, fault: sim!.uninitialised.fault }).toEqual({
        kind: real!.uninitialised.kind,
        fault: real!.uninitialised.fault,
      });
    });

    it("both say it in LXD's own words (the whole `Error: …` line)", async () => {
      const words = (r: { uninitialised: Attempt; initialised: Attempt }) => ({
        uninitialised: r.uninitialised.lxd,
        initialised: r.initialised.lxd,
      });
      expect(words(sim!), 'simulated LXD vs real LXD').toEqual(words(real!));
    });
  });

  describe.each(MANIFESTS)('%s', (file) => {
    manifestAgreement(file, LXD, async () => {
      await files?.restore();
    });
  });

  describe(PROVISION, () => {
    const { world } = manifestAgreement(PROVISION, LXD, async () => {
      await files?.restore();
      await run(['lxc', 'profile', 'delete', 'agrprof']);
    });

    it('plans the same repair of a file edited by hand at level 2', async () => {
      const edited = 'listen = 9090\n';
      const r = await run(execIn(['agrp1', 'agrp2'], ['sh', '-c', 'printf "%s" "$1" > /etc/agr/app.conf', 'sh', edited]));
      expect(r.code, r.stderr).toBe(0);
      world().editFile('agrp1/agrp2', '/etc/agr/app.conf', edited);
      const real = await nestctl(['plan', '--json', '--host-restart', LXD.restart, PROVISION]);
      expect(real.code, real.stderr).toBe(0);
      const realSteps = (JSON.parse(real.stdout) as Plan).steps;
      expect(realSteps.map((s) => s.id)).toEqual(['agrp1/agrp2:push-file:/etc/agr/app.conf']);
      expect((await simPlan(world(), load(PROVISION), LXD)).steps, 'simulated repair vs real repair').toEqual(realSteps);
    });
  });
});
