// The simulated LXD must agree with real LXD (ARCHITECTURE.md, "The simulated LXD"). The same manifests are applied by the
// real CLI on this host and by the engine on a simulated world that describes this host's
// starting point (its /etc/subuid and /etc/subgid, images, pool and bridge); both are then
// observed with the same code (engine/observe.ts) and compared level by level. A negative case
// checks that both refuse an unprivileged child in a nested LXD that still has Debian's default
// root:100000:10000001, with the same error.
//
// Real LXD is shared with the other e2e files: run under `flock /tmp/nestctl-lab.lock`.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { processExec } from '../../src/adapters/process-exec.js';
import { createSimWorld, parseWorld, type ImageDescription, type InstanceDescription, type SimWorld, type WorldDescription } from '../../src/adapters/sim/index.js';
import { CommandError, NestctlError } from '../../src/core/errors.js';
import { parseLxdIdmap } from '../../src/core/ids/idmap.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { ContainerSpec, Manifest } from '../../src/core/manifest/model.js';
import type { ObservedLevel, ObservedTree } from '../../src/core/observed.js';
import type { Plan } from '../../src/core/plan/model.js';
import { buildPreseed } from '../../src/core/plan/preseed.js';
import { bridgeName } from '../../src/core/flavour/index.js';
import { startApply } from '../../src/engine/apply.js';
import { observeTree } from '../../src/engine/observe.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { RESTART, ROOT, deleteInstances, labUnavailable, nestctl, run, saveSubidFiles, uidMapOf } from './lab.js';

const why = labUnavailable();

const MANIFESTS = ['test/e2e/manifests/agr-two-level.yaml', 'test/e2e/manifests/agr-kept.yaml'];
/** The negative case's container at the host, and the child it tries to create inside it. */
const NEG = 'agrneg';
const NEG_CHILD = 'agrnegc';
/** The description of the real host given to the simulator, kept for a look after a failure. */
const WORLD_FILE = '/tmp/nestctl-agreement-world.yaml';
const LAB_CACHE = process.env.NESTCTL_LAB_CACHE ?? '/var/cache/nestctl-lab';

// ---------------------------------------------------------------------------------------------
// Manifests and the two hosts.

function load(file: string): { manifest: Manifest; text: string } {
  const text = readFileSync(resolve(ROOT, file), 'utf8');
  const r = loadManifest(text, file);
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.diagnostics)}`);
  return { manifest: r.manifest, text };
}

const allSpecs = (specs: ContainerSpec[]): ContainerSpec[] => specs.flatMap((s) => [s, ...allSpecs(s.containers)]);

// The lab host may run Incus beside LXD: this suite compares LXD, as its manifests say.
const realHost = (): LxdLevel => new ExecLevel(processExec, '', {}, 'debian');

/** /etc/subuid and /etc/subgid inside a lab image, read from the lab's cached build (null: not found). */
async function imageSubid(fingerprint: string): Promise<{ subuid: string; subgid: string } | null> {
  if (!existsSync(LAB_CACHE)) return null;
  for (const dir of readdirSync(LAB_CACHE)) {
    const fp = join(LAB_CACHE, dir, 'fingerprint');
    if (!existsSync(fp) || readFileSync(fp, 'utf8').trim() !== fingerprint) continue;
    const read = async (name: string): Promise<string | null> => {
      const r = await run(['tar', '-xzOf', join(LAB_CACHE, dir, 'rootfs.tar.gz'), `./etc/${name}`]);
      return r.code === 0 ? r.stdout : null;
    };
    const subuid = await read('subuid');
    const subgid = await read('subgid');
    return subuid !== null && subgid !== null ? { subuid, subgid } : null;
  }
  return null;
}

/**
 * A world description of this host as it is now: the simulator's starting point. Images whose
 * alias is in `lxdImages` carry Debian's LXD (with the files the lab image really ships);
 * instances already there are described with their stored config (maps included).
 */
async function describeRealHost(lxdImages: string[]): Promise<WorldDescription> {
  const host = await realHost().probe();
  if (host.daemon.kind !== 'up' || !host.flavour) throw new Error(`the host LXD is not up: ${JSON.stringify(host.daemon)}`);
  const bridge = host.networks.find((n) => n.managed && n.ipv4);
  const images: ImageDescription[] = await Promise.all(
    host.images.map(async (i): Promise<ImageDescription> => {
      if (!i.aliases.some((a) => lxdImages.includes(a))) return { fingerprint: i.fingerprint, aliases: i.aliases, lxd: false };
      const files = await imageSubid(i.fingerprint);
      return { fingerprint: i.fingerprint, aliases: i.aliases, lxd: { flavour: 'debian', ...(files ?? {}) } };
    }),
  );
  const instances: InstanceDescription[] = host.instances.map((i) => ({
    name: i.name,
    image: i.config['volatile.base_image'] ?? '',
    status: i.status === 'Running' ? 'Running' : 'Stopped',
    profiles: i.profiles,
    config: Object.fromEntries(Object.entries(i.config).filter(([k]) => !k.startsWith('image.'))),
  }));
  const desc: WorldDescription = {
    host: {
      lxd: {
        flavour: host.flavour,
        version: host.daemon.version,
        daemon: 'up',
        initialised: host.storagePools.length > 0 && bridge ? { pool: host.storagePools[0]!, bridge: bridge.name, ipv4: bridge.ipv4! } : false,
      },
      systemd: host.systemd,
      uidmapTools: existsSync('/usr/bin/newuidmap') && existsSync('/usr/bin/newgidmap'),
      uidMap: host.uidMap.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`).join('\n'),
      subuid: host.subuid.text,
      subgid: host.subgid.text,
      images,
      ...(instances.length > 0 ? { instances } : {}),
    },
  };
  // Through the same reader as `--world FILE`, so the description is one a user could write.
  const text = stringify(desc);
  writeFileSync(WORLD_FILE, text);
  return parseWorld(text, WORLD_FILE);
}

async function simPlan(world: SimWorld, m: { manifest: Manifest; text: string }): Promise<Plan> {
  const r = await planManifest(m.manifest, world.host(), { hostRestart: [RESTART], tool: 'agreement', manifestText: m.text });
  if (!r.ok) throw new Error(`the simulator's plan was refused: ${JSON.stringify(r.problems)}`);
  return r.plan;
}

// ---------------------------------------------------------------------------------------------
// What is compared: per level, the facts both LXDs must agree on.

/** LXD's map entries as comparable lines ("u 0 1065536 65536"), a uid+gid entry split in two. */
function idmapLines(json: string | undefined): string[] {
  return parseLxdIdmap(json)
    .flatMap((e) => [...(e.isuid ? [`u ${e.nsid} ${e.hostid} ${e.maprange}`] : []), ...(e.isgid ? [`g ${e.nsid} ${e.hostid} ${e.maprange}`] : [])])
    .sort();
}

const rootLines = (text: string | null): string[] => (text ?? '').split('\n').filter((l) => l.startsWith('root:'));

interface InstanceFacts {
  status: string;
  profiles: string[];
  /** Every key but volatile.* and image.* (what nestctl and the user set). */
  config: Record<string, string>;
  /** volatile.idmap.current, normalised. */
  idmap: string[];
}

interface LevelFacts {
  flavour: string | null;
  uidMap: string;
  subuidRoot: string[];
  subgidRoot: string[];
  pools: string[];
  bridges: string[];
  images: string[];
  instances: Record<string, InstanceFacts>;
}

function levelFacts(level: ObservedLevel, names: Set<string>): LevelFacts {
  const instances: Record<string, InstanceFacts> = {};
  for (const i of [...level.instances].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!names.has(i.name)) continue; // the host may hold containers that are not ours
    instances[i.name] = {
      status: i.status,
      profiles: i.profiles,
      config: Object.fromEntries(Object.entries(i.config).filter(([k]) => !k.startsWith('volatile.') && !k.startsWith('image.')).sort(([a], [b]) => a.localeCompare(b))),
      idmap: idmapLines(i.config['volatile.idmap.current']),
    };
  }
  return {
    flavour: level.flavour,
    uidMap: level.uidMap.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`).join('\n'),
    subuidRoot: rootLines(level.subuid.text),
    subgidRoot: rootLines(level.subgid.text),
    pools: [...level.storagePools].sort(),
    bridges: level.networks.filter((n) => n.managed).map((n) => `${n.name} ${n.ipv4 ?? '-'}`).sort(),
    images: level.images.map((i) => `${i.fingerprint.slice(0, 12)} ${[...i.aliases].sort().join(',')}`).sort(),
    instances,
  };
}

function treeFacts(tree: ObservedTree, manifest: Manifest): Record<string, LevelFacts | string> {
  const names = new Set(allSpecs(manifest.containers).map((s) => s.name));
  const out: Record<string, LevelFacts | string> = {};
  for (const path of Object.keys(tree.levels).sort()) {
    const o = tree.levels[path]!;
    out[path || 'host'] = o.kind === 'observed' ? levelFacts(o.level, names) : `absent: ${o.reason}`;
  }
  return out;
}

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

async function negativeCase(host: LxdLevel, fingerprints: { nest: string; busybox: string }): Promise<{ uninitialised: Attempt; initialised: Attempt }> {
  await host.createInstance({ name: NEG, fingerprint: fingerprints.nest, profiles: ['default'], config: { 'security.nesting': 'true' } });
  await host.startInstance(NEG, true);
  const inside = host.child(NEG, null);
  // The leaf image, copied down as apply would.
  const bundle = await host.exportImage(fingerprints.busybox);
  const pushed = await host.pushBundle(bundle, NEG);
  await inside.importImage(pushed, ['busybox']);
  await inside.discardBundle(pushed);
  await host.discardBundle(bundle);
  const create = (): Promise<void> => inside.createInstance({ name: NEG_CHILD, fingerprint: fingerprints.busybox, profiles: ['default'], config: {} });
  const uninitialised = await attempt(create);
  await inside.initDaemon(buildPreseed({ pool: true, bridge: true, profile: true }, '10.77.9.1/24', bridgeName('debian')));
  const initialised = await attempt(create);
  return { uninitialised, initialised };
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(why !== null)(`the simulated LXD agrees with real LXD${why ? ` (skipped: ${why})` : ''}`, () => {
  const ours = [...new Set([...MANIFESTS.flatMap((f) => load(f).manifest.containers.map((s) => s.name)), NEG])];
  let files: ReturnType<typeof saveSubidFiles> | null = null;

  beforeAll(async () => {
    await deleteInstances(ours); // a crashed earlier run must not decide this one
    files = saveSubidFiles();
  });

  afterAll(async () => {
    await deleteInstances(ours);
    await files?.restore();
  });

  describe('negative: an unprivileged child in a nested LXD on Debian default root:100000:10000001', () => {
    let real: { uninitialised: Attempt; initialised: Attempt } | null = null;
    let sim: { uninitialised: Attempt; initialised: Attempt } | null = null;

    beforeAll(async () => {
      const host = await realHost().probe();
      const fp = (alias: string): string => {
        const img = host.images.find((i) => i.aliases.includes(alias));
        if (!img) throw new Error(`image ${alias} is not on the host (test/lab/setup-host.sh imports it)`);
        return img.fingerprint;
      };
      const fingerprints = { nest: fp('nest'), busybox: fp('busybox') };
      const world = createSimWorld(await describeRealHost(['nest']));
      sim = await negativeCase(world.host(), fingerprints);
      try {
        real = await negativeCase(realHost(), fingerprints);
      } finally {
        await deleteInstances([NEG]);
      }
    });

    it('both refuse once the nested LXD is initialised, with the same error class and the uid/gid allocation message', async () => {
      expect(real!.initialised.error, 'real LXD').toMatch(/uid\/gid allocation/);
      expect(sim!.initialised.error, 'simulated LXD').toMatch(/uid\/gid allocation/);
      expect({ kind: sim!.initialised.kind, fault: sim!.initialised.fault }).toEqual({ kind: real!.initialised.kind, fault: real!.initialised.fault });
    });

    it('both refuse the same way before the nested LXD is initialised (no storage pool yet)', async () => {
      expect(real!.uninitialised.error, 'real LXD').toMatch(/uid\/gid allocation/);
      expect(sim!.uninitialised.error, 'simulated LXD').toMatch(/uid\/gid allocation/);
      expect({ kind: sim!.uninitialised.kind, fault: sim!.uninitialised.fault }).toEqual({ kind: real!.uninitialised.kind, fault: real!.uninitialised.fault });
    });

    it("both say it in LXD's own words (the whole `Error: …` line)", async () => {
      const words = (r: { uninitialised: Attempt; initialised: Attempt }) => ({ uninitialised: r.uninitialised.lxd, initialised: r.initialised.lxd });
      expect(words(sim!), 'simulated LXD vs real LXD').toEqual(words(real!));
    });
  });

  describe.each(MANIFESTS)('%s', (file) => {
    const m = load(file);
    const hostingImages = [...new Set(allSpecs(m.manifest.containers).filter((s) => s.containers.length > 0).map((s) => s.image))];
    let world: SimWorld;
    let realPlan: Plan;
    let plan: Plan;

    beforeAll(async () => {
      await deleteInstances(m.manifest.containers.map((s) => s.name));
      world = createSimWorld(await describeRealHost(hostingImages));
    });

    afterAll(async () => {
      // Each manifest starts from the host as it was found.
      await deleteInstances(m.manifest.containers.map((s) => s.name));
      await files?.restore();
    });

    it('plans the same steps on both (same observations, same plan)', async () => {
      const r = await nestctl(['plan', '--json', '--host-restart', RESTART, file]);
      expect(r.code, r.stderr).toBe(0);
      realPlan = JSON.parse(r.stdout) as Plan;
      plan = await simPlan(world, m);
      // Every step in full: kinds, order, dependencies, reasons, file diffs and preconditions.
      expect(plan.steps, `simulated plan vs real plan (world: ${WORLD_FILE})`).toEqual(realPlan.steps);
      expect(plan.levels, 'predicted ranges').toEqual(realPlan.levels);
      expect(plan.warnings).toEqual(realPlan.warnings);
    });

    it('applies on both without a failed step', async () => {
      const summary = await startApply(plan, world.host()).finished;
      expect(summary.failed.map((f) => `${f.step.id}: ${f.error.message}`), 'simulated apply').toEqual([]);
      const r = await nestctl(['apply', '--auto-approve', '--host-restart', RESTART, file]);
      expect(r.code, `real apply:\n${r.stdout}\n${r.stderr}`).toBe(0);
    });

    it('has nothing left to do on both', async () => {
      expect((await simPlan(world, m)).steps.map((s) => s.id), 'simulated').toEqual([]);
      const r = await nestctl(['plan', '--json', '--host-restart', RESTART, file]);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as Plan).steps.map((s) => s.id), 'real').toEqual([]);
    });

    it('observes the same levels: uid maps, root entries, pools, bridges, images, instances', async () => {
      const [real, sim] = await Promise.all([observeTree(realHost(), m.manifest), observeTree(world.host(), m.manifest)]);
      const r = treeFacts(real, m.manifest);
      const s = treeFacts(sim, m.manifest);
      expect(Object.keys(s), 'levels observed').toEqual(Object.keys(r));
      for (const path of Object.keys(r)) expect(s[path], `level ${path}: simulated vs real`).toEqual(r[path]);
    });

    it('puts every map where the plan predicted, on real LXD too', async () => {
      const real = await observeTree(realHost(), m.manifest);
      const got: string[] = [];
      const want: string[] = [];
      for (const level of realPlan.levels) {
        const o = real.levels[level.path];
        const instances = o?.kind === 'observed' ? o.level.instances : [];
        for (const child of level.children) {
          const name = child.path.split('/').pop()!;
          const uid = parseLxdIdmap(instances.find((i) => i.name === name)?.config['volatile.idmap.current']).find((e) => e.isuid);
          got.push(`${child.path}: ${uid ? `${uid.hostid}:${uid.maprange}` : 'no map'}`);
          want.push(`${child.path}: ${child.map.start}:${child.map.size}`);
        }
      }
      expect(got, 'real maps vs the plan').toEqual(want);
    });

    it("gives every container the same /proc/self/uid_map", async () => {
      for (const spec of allSpecs(m.manifest.containers)) {
        const real = await uidMapOf(spec.path.split('/'));
        const sim = (world.uidMap(spec.path) ?? '(no such level)').split(/\s+/).join(' ');
        expect(sim, `${spec.path}: simulated vs real`).toBe(real);
      }
    });
  });
});
