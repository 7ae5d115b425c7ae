// The simulator must agree with real Incus as it does with real LXD (agreement.e2e.test.ts): the
// same manifest is applied by the real CLI on this host's Incus and by the engine on a
// simulated world that describes it, both are observed with the same code and compared level by
// level (agreement-lib.ts). Then, inside the nested Incus, the two places where Incus's
// findIdmap differs from LXD's, created directly on both: an isolated slice that ends exactly at
// the end of the range (Incus accepts it, LXD would not), and a non-isolated container with
// security.idmap.size (Incus shortens its map, LXD would copy the whole range).
//
// The lab sets Incus up in beforeAll, as incus.e2e.test.ts does (test/lab/setup-host.sh with
// NESTCTL_LAB_INCUS=1 NESTCTL_LAB_LXD=0; about a second when the lab is warm).

import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { deleteOn, idmapLines, load, manifestAgreement, realHost, type RealDaemon } from './agreement-lib.js';
import { ROOT, labUnavailable, run, saveSubidFiles } from './lab.js';

const why = labUnavailable();

const MANIFEST = 'test/e2e/manifests/agi-two-level.yaml';
const INCUS: RealDaemon = { flavour: 'incus', restart: resolve(ROOT, 'test/lab/restart-incus.sh') };
/** Created directly inside agi1 (deleted with it). */
const EDGE = 'agi1edge';
const SIZED = 'agi1sized';

interface Made {
  base: string | null;
  idmap: string[];
}

/**
 * Inside agi1 (range root:65536:196608, agi1iso at 131072): an isolated container, whose slice
 * 196608..262143 ends at the range's end, and a shared one with security.idmap.size 65536.
 */
async function incusRules(agi1: LxdLevel): Promise<Record<string, Made>> {
  const busybox = (await agi1.probe()).images.find((i) => i.aliases.includes('busybox'));
  if (!busybox) throw new Error('agi1 has no busybox image (the manifest copies it there)');
  const spec = (name: string, config: Record<string, string>) => ({
    name,
    fingerprint: busybox.fingerprint,
    profiles: ['default'],
    config,
  });
  await agi1.createInstance(spec(EDGE, { 'security.idmap.isolated': 'true' }));
  await agi1.createInstance(spec(SIZED, { 'security.idmap.size': '65536' }));
  const instances = (await agi1.probe()).instances;
  const made = (name: string): Made => {
    const config = instances.find((i) => i.name === name)?.config ?? {};
    return { base: config['volatile.idmap.base'] ?? null, idmap: idmapLines(config['volatile.idmap.next']) };
  };
  return { [EDGE]: made(EDGE), [SIZED]: made(SIZED) };
}

describe.skipIf(why !== null)(`the simulated Incus agrees with real Incus${why ? ` (skipped: ${why})` : ''}`, () => {
  const ours = load(MANIFEST).manifest.containers.map((s) => s.name);
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    const setup = await run(['bash', resolve(ROOT, 'test/lab/setup-host.sh')], {
      timeoutMs: 40 * 60_000,
      env: { NESTCTL_LAB_INCUS: '1', NESTCTL_LAB_LXD: '0' },
    });
    if (setup.code !== 0) throw new Error(`Incus lab setup failed:\n${setup.stdout}\n${setup.stderr}`);
    await deleteOn(INCUS, ours); // a crashed earlier run must not decide this one
    files = saveSubidFiles(INCUS.restart);
  });

  afterAll(async () => {
    await deleteOn(INCUS, ours);
    await files?.restore();
  });

  describe(MANIFEST, () => {
    const { world } = manifestAgreement(MANIFEST, INCUS, async () => {
      await files?.restore();
    });

    it("follows Incus's own findIdmap inside agi1: the slice that ends at the range end, security.idmap.size on a shared container", async () => {
      const sim = await incusRules(world().host().child('agi1', 'incus'));
      const real = await incusRules(realHost(INCUS).child('agi1', 'incus'));
      expect(sim, 'simulated Incus vs real Incus').toEqual(real);
      expect(real[EDGE], 'the isolated slice 196608..262143 fits (Incus tests offset+size <= end)').toEqual({
        base: '196608',
        idmap: ['g 0 196608 65536', 'u 0 196608 65536'],
      });
      expect(real[SIZED], 'the shared copy of 65536:196608 is cut to 65536 ids').toEqual({
        base: '0',
        idmap: ['g 0 65536 65536', 'u 0 65536 65536'],
      });
    });
  });
});
