// The simulator must agree with real classic LXC as it does with real LXD (agreement.e2e.test.ts):
// agr-lxc.yaml (a user's busybox LXC container at the host beside an LXD busybox, and a
// root-owned one inside an LXD container from the lab's nest-tools image) is applied by the real
// CLI on this host and by the engine on a simulated world that describes it, LXC included (the
// account and its home, lxc-usernet, default.conf and existing containers, read by nestctl's own
// LXC probe: agreement-lib.ts, agreement-lxc-world.ts). Both are observed with the same code and
// compared level by level: the LXC containers' state, config text and init's uid_map too. Then
// destroy --restore-ids plans the same on both and puts /etc/subuid, /etc/subgid and lxc-usernet
// back exactly, on both.
//
// The account is made here (useradd -m) before the host is described, and removed after
// (userdel -r), also after a failure. The host needs Debian's lxc package and the nest-tools
// image (test/lab/setup-host.sh). Real LXD is shared with the other e2e files: run under
// `flock /tmp/nestctl-lab.lock`.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfPath, USERNET, USERNET_ORIGINAL } from '../../src/core/lxc/paths.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { deleteOn, load, manifestAgreement, realHost, type RealDaemon } from './agreement-lib.js';
import { RESTART, labUnavailable, nestctl, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();

const MANIFEST = 'test/e2e/manifests/agr-lxc.yaml';
const LXD: RealDaemon = { flavour: 'debian', restart: RESTART };
/** The account agr-lxc.yaml names (its `user:`), made and removed by this suite. */
const USER = 'nestagr1';
const HOME = `/home/${USER}`;
const USER_BOX = 'agrlxu';

const read = (file: string): string | null => (existsSync(file) ? readFileSync(file, 'utf8') : null);

/** Put a file back as it was (null: it was absent). */
function putBack(file: string, text: string | null): void {
  if (text === null) rmSync(file, { force: true });
  else if (read(file) !== text) writeFileSync(file, text);
}

async function must(argv: string[]): Promise<void> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/** The files destroy --restore-ids must put back, and the user's default.conf nestctl wrote. */
const FILES = ['/etc/subuid', '/etc/subgid', USERNET, defaultConfPath(HOME)];

const destroyPlan = async (host: LxdLevel, m: ReturnType<typeof load>): Promise<Plan> => {
  const r = await planManifest(m.manifest, host, {
    mode: 'destroy',
    restoreIds: true,
    hostRestart: [LXD.restart],
    tool: 'agreement',
    manifestText: m.text,
  });
  if (!r.ok) throw new Error(`the destroy plan was refused: ${JSON.stringify(r.problems)}`);
  return r.plan;
};

describe.skipIf(why !== null)(`the simulator agrees with real classic LXC${why ? ` (skipped: ${why})` : ''}`, () => {
  const m = load(MANIFEST);
  const tops = m.manifest.containers.map((s) => s.name);
  let files: ReturnType<typeof saveSubidFiles> | null = null;
  let usernet: { text: string | null; original: string | null } | null = null;
  /** FILES once the account exists, before nestctl edits them: what both must come back to. */
  let before: Array<string | null> = [];

  const removeUser = async (): Promise<void> => {
    await run(['lxc-stop', '-P', `${HOME}/.local/share/lxc`, '-n', USER_BOX, '-k']);
    await run(['userdel', '-r', USER]);
  };

  beforeAll(async () => {
    await deleteOn(LXD, tops); // a crashed earlier run must not decide this one
    await removeUser();
    // Saved before useradd, which gives the user subid lines of its own: they go with the user.
    files = saveSubidFiles();
    usernet = { text: read(USERNET), original: read(USERNET_ORIGINAL) };
    await must(['useradd', '-m', USER]);
    before = FILES.map(read);
  });

  afterAll(async () => {
    await deleteOn(LXD, tops);
    await removeUser();
    if (usernet) {
      putBack(USERNET, usernet.text);
      putBack(USERNET_ORIGINAL, usernet.original);
    }
    await files?.restore();
  });

  describe(MANIFEST, () => {
    const { world } = manifestAgreement(MANIFEST, LXD, async () => {
      await files?.restore();
    });

    it('plans the same destroy --restore-ids on both, and both put /etc/subuid, /etc/subgid and lxc-usernet back exactly', async () => {
      const simulated = await destroyPlan(world().host(), m);
      const real = await destroyPlan(realHost(LXD), m);
      expect(simulated.steps, 'simulated destroy plan vs real destroy plan').toEqual(real.steps);
      const summary = await startApply(simulated, world().host()).finished;
      expect(
        summary.failed.map((f) => `${f.step.id}: ${f.error.message}`),
        'simulated destroy',
      ).toEqual([]);
      const r = await nestctl(['destroy', '--auto-approve', '--restore-ids', '--host-restart', LXD.restart, MANIFEST]);
      expect(r.code, `real destroy:\n${r.stdout}\n${r.stderr}`).toBe(0);
      const realAfter = FILES.map(read);
      const simAfter = FILES.map((f) => world().file('', f));
      expect(simAfter, 'simulated files after destroy vs real').toEqual(realAfter);
      // An lxc-usernet that was absent comes back empty (nestctl kept its original as an empty file).
      const asBefore = (texts: Array<string | null>) => texts.slice(0, 3).map((t) => t ?? '');
      expect(asBefore(realAfter), 'real /etc/subuid, /etc/subgid and lxc-usernet as before the apply').toEqual(asBefore(before));
      expect((await run(['lxc-info', '-P', `${HOME}/.local/share/lxc`, '-n', USER_BOX])).code, `${USER_BOX} is gone`).not.toBe(0);
    });
  });
});
