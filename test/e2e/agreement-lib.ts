// The agreement e2e's machinery, shared by the LXD suite (agreement.e2e.test.ts), the Incus
// one (agreement-incus.e2e.test.ts) and the classic LXC one (agreement-lxc.e2e.test.ts): describe
// the real host to the simulator, observe both with the same code, compare level by level. Each
// function takes the daemon flavour it talks to.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { processExec } from '../../src/adapters/process-exec.js';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { parseWorld, type ImageDescription, type InstanceDescription, type WorldDescription } from '../../src/sim/index.js';
import { clientOf } from '../../src/core/flavour/index.js';
import { parseLxdIdmap } from '../../src/core/ids/idmap.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { hostsContainers, type ContainerSpec, type LxcSpec, type Manifest } from '../../src/core/manifest/model.js';
import { ownerKey } from '../../src/core/lxc/paths.js';
import type { ObservedInstance, ObservedLevel, ObservedLxc, ObservedTree } from '../../src/core/observed.js';
import type { Plan } from '../../src/core/plan/model.js';
import { deferredPart } from '../../src/core/plan/target.js';
import { startApply } from '../../src/engine/apply.js';
import { observeTree } from '../../src/engine/observe.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { lxcWorldPart } from './agreement-lxc-world.js';
import { ROOT, nestctl, run } from './lab.js';

/** The real daemon a suite compares with: its flavour and the lab's restart script for it. */
export interface RealDaemon {
  flavour: 'debian' | 'incus';
  restart: string;
}

const LAB_CACHE = process.env.NESTCTL_LAB_CACHE ?? '/var/cache/nestctl-lab';

/** The description of the real host given to the simulator, kept for a look after a failure. */
export const worldFile = (d: RealDaemon): string =>
  d.flavour === 'debian' ? '/tmp/nestctl-agreement-world.yaml' : `/tmp/nestctl-agreement-${d.flavour}-world.yaml`;

export function load(file: string): { manifest: Manifest; text: string } {
  const text = readFileSync(resolve(ROOT, file), 'utf8');
  const r = loadManifest(text, file);
  if (!r.ok) throw new Error(`${file}: ${JSON.stringify(r.diagnostics)}`);
  return { manifest: r.manifest, text };
}

export const allSpecs = (specs: ContainerSpec[]): ContainerSpec[] => specs.flatMap((s) => [s, ...allSpecs(s.containers)]);

/** The lab host runs LXD and Incus side by side: every suite names the daemon it compares. */
export const realHost = (d: RealDaemon): LxdLevel => new ExecLevel(processExec, '', {}, d.flavour);

/** `lxc delete --force` (or `incus delete --force`) of each name at the host; a missing one is fine. */
export async function deleteOn(d: RealDaemon, names: string[]): Promise<void> {
  for (const n of names) await run([clientOf(d.flavour), 'delete', '--force', n]);
}

/** /proc/self/uid_map of the container at `path`, through `lxc exec a -- lxc exec b -- …` (or incus). */
export async function realUidMap(d: RealDaemon, path: string[]): Promise<string> {
  const client = clientOf(d.flavour);
  const argv = path.reduceRight<string[]>((inner, name) => [client, 'exec', name, '-T', '--', ...inner], ['cat', '/proc/self/uid_map']);
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`reading uid_map in ${path.join('/')}: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/).join(' ');
}

/** What a lab image ships, read from the lab's cached build (null: not found): /etc/subuid, /etc/subgid, and whether it has LXC (lxc-create). */
async function imageFiles(fingerprint: string): Promise<{ subuid: string; subgid: string; lxc: boolean } | null> {
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
    const lxc = (await run(['tar', '-tzf', join(LAB_CACHE, dir, 'rootfs.tar.gz'), './usr/bin/lxc-create'])).code === 0;
    return subuid !== null && subgid !== null ? { subuid, subgid, lxc } : null;
  }
  return null;
}

/** An instance as a world describes it: its stored config (maps included), and its member on a cluster. */
export function describeInstance(i: ObservedInstance): InstanceDescription {
  return {
    name: i.name,
    image: i.config['volatile.base_image'] ?? '',
    status: i.status === 'Running' ? 'Running' : 'Stopped',
    profiles: i.profiles,
    config: Object.fromEntries(Object.entries(i.config).filter(([k]) => !k.startsWith('image.'))),
    ...(i.location ? { location: i.location } : {}),
  };
}

/**
 * A world description of this host's daemon `d` as it is now: the simulator's starting point.
 * Images whose alias is in `hostingImages` carry the same daemon (with the files the lab image
 * really ships, LXC where it has it); instances already there are described with their stored
 * config (maps included). `lxcOwners` (root and user names): the host's classic LXC as nestctl's
 * own LXC probe sees it for these owners (accounts, homes, default.conf, lxc-usernet, containers).
 */
export async function describeRealHost(d: RealDaemon, hostingImages: string[], lxcOwners: string[] = []): Promise<WorldDescription> {
  const host = await realHost(d).probe();
  if (host.daemon.kind !== 'up' || !host.flavour)
    throw new Error(`the host's ${d.flavour} daemon is not up: ${JSON.stringify(host.daemon)}`);
  const bridge = host.networks.find((n) => n.managed && n.ipv4);
  const images: ImageDescription[] = await Promise.all(
    host.images.map(async (i): Promise<ImageDescription> => {
      if (!i.aliases.some((a) => hostingImages.includes(a))) return { fingerprint: i.fingerprint, aliases: i.aliases, lxd: false };
      const files = await imageFiles(i.fingerprint);
      const shipped = files ? { subuid: files.subuid, subgid: files.subgid } : {};
      return {
        fingerprint: i.fingerprint,
        aliases: i.aliases,
        lxd: { flavour: d.flavour, ...shipped },
        ...(files?.lxc ? { lxc: true } : {}),
      };
    }),
  );
  const instances = host.instances.map(describeInstance);
  const lxc = lxcOwners.length > 0 ? lxcWorldPart(await realHost(d).probeLxc(lxcOwners)) : null;
  const desc: WorldDescription = {
    host: {
      lxd: {
        flavour: host.flavour,
        version: host.daemon.version,
        daemon: 'up',
        initialised:
          host.storagePools.length > 0 && bridge ? { pool: host.storagePools[0]!, bridge: bridge.name, ipv4: bridge.ipv4! } : false,
      },
      systemd: host.systemd,
      uidmapTools: existsSync('/usr/bin/newuidmap') && existsSync('/usr/bin/newgidmap'),
      uidMap: host.uidMap.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`).join('\n'),
      subuid: host.subuid.text,
      subgid: host.subgid.text,
      images,
      ...(instances.length > 0 ? { instances } : {}),
      ...(lxc ? { lxc: lxc.lxc, ...(Object.keys(lxc.files).length > 0 ? { files: lxc.files } : {}) } : {}),
    },
  };
  // Through the same reader as `--world FILE`, so the description is one a user could write.
  const text = stringify(desc);
  writeFileSync(worldFile(d), text);
  return parseWorld(text, worldFile(d));
}

export async function simPlan(world: SimWorld, m: { manifest: Manifest; text: string }, d: RealDaemon): Promise<Plan> {
  const r = await planManifest(m.manifest, world.host(), { hostRestart: [d.restart], tool: 'agreement', manifestText: m.text });
  if (!r.ok) throw new Error(`the simulator's plan was refused: ${JSON.stringify(r.problems)}`);
  return r.plan;
}

// ---------------------------------------------------------------------------------------------
// What is compared: per level, the facts both daemons must agree on.

/** A daemon's map entries as comparable lines ("u 0 1065536 65536"), a uid+gid entry split in two. */
export function idmapLines(json: string | undefined): string[] {
  return parseLxdIdmap(json)
    .flatMap((e) => [
      ...(e.isuid ? [`u ${e.nsid} ${e.hostid} ${e.maprange}`] : []),
      ...(e.isgid ? [`g ${e.nsid} ${e.hostid} ${e.maprange}`] : []),
    ])
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

/** A classic LXC container of ours: what lxc-info, its config file and init's /proc/PID/uid_map say. */
interface LxcContainerFacts {
  state: string;
  config: string;
  uidMap: string;
}

interface LxcFacts {
  version: string | null;
  /** The kernel's, read at every level (a user's default.conf depends on it). */
  apparmor: boolean;
  usernet: string | null;
  owners: Record<string, { home: string | null; defaultConf: string | null; containers: Record<string, LxcContainerFacts> }>;
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
  /** Only at a level where the manifest has classic LXC containers (the LXC probe runs there). */
  lxc?: LxcFacts;
}

function lxcFacts(lxc: ObservedLxc, names: Set<string>): LxcFacts {
  const owners: LxcFacts['owners'] = {};
  for (const [key, o] of Object.entries(lxc.owners).sort(([a], [b]) => a.localeCompare(b))) {
    const containers: Record<string, LxcContainerFacts> = {};
    for (const c of [...o.containers].sort((a, b) => a.name.localeCompare(b.name))) {
      if (!names.has(c.name)) continue;
      containers[c.name] = {
        state: c.state,
        config: c.config.text,
        uidMap: c.uidMap.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`).join('\n'),
      };
    }
    owners[key] = { home: o.home, defaultConf: o.defaultConf?.text ?? null, containers };
  }
  return { version: lxc.version, apparmor: lxc.apparmor, usernet: lxc.usernet.text, owners };
}

function levelFacts(level: ObservedLevel, names: Set<string>): LevelFacts {
  const instances: Record<string, InstanceFacts> = {};
  for (const i of [...level.instances].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!names.has(i.name)) continue; // the host may hold containers that are not ours
    instances[i.name] = {
      status: i.status,
      profiles: i.profiles,
      config: Object.fromEntries(
        Object.entries(i.config)
          .filter(([k]) => !k.startsWith('volatile.') && !k.startsWith('image.'))
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
      idmap: idmapLines(i.config['volatile.idmap.current']),
    };
  }
  return {
    flavour: level.flavour,
    uidMap: level.uidMap.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`).join('\n'),
    subuidRoot: rootLines(level.subuid.text),
    subgidRoot: rootLines(level.subgid.text),
    pools: [...level.storagePools].sort(),
    bridges: level.networks
      .filter((n) => n.managed)
      .map((n) => `${n.name} ${n.ipv4 ?? '-'}`)
      .sort(),
    images: level.images.map((i) => `${i.fingerprint.slice(0, 12)} ${[...i.aliases].sort().join(',')}`).sort(),
    instances,
    ...(level.lxc ? { lxc: lxcFacts(level.lxc, names) } : {}),
  };
}

/** The manifest's classic LXC containers, at any depth (beside LXD ones or inside them). */
const allLxcSpecs = (manifest: Manifest): LxcSpec[] => {
  const inLxc = (specs: LxcSpec[]): LxcSpec[] => specs.flatMap((s) => [s, ...inLxc(s.containers)]);
  return [...inLxc(manifest.lxc), ...allSpecs(manifest.containers).flatMap((s) => inLxc(s.lxc))];
};

function treeFacts(tree: ObservedTree, manifest: Manifest): Record<string, LevelFacts | string> {
  const names = new Set([...allSpecs(manifest.containers), ...allLxcSpecs(manifest)].map((s) => s.name));
  const out: Record<string, LevelFacts | string> = {};
  for (const path of Object.keys(tree.levels).sort()) {
    const o = tree.levels[path]!;
    out[path || 'host'] = o.kind === 'observed' ? levelFacts(o.level, names) : `absent: ${o.reason}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Registers, inside the caller's `describe` for `file`, the manifest comparison: the same plan,
 * a clean apply on both, nothing left to do, the same observed levels, the maps the plan
 * predicted, the same uid_map in every container. `restoreIds` runs after it (the host's
 * /etc/subuid and /etc/subgid as found). Returns the simulated world, for further cases.
 */
export function manifestAgreement(file: string, d: RealDaemon, restoreIds: () => Promise<void>): { world: () => SimWorld } {
  const m = load(file);
  const hostingImages = [
    ...new Set(
      allSpecs(m.manifest.containers)
        .filter(hostsContainers)
        .map((s) => s.image),
    ),
  ];
  // The host's LXC owners the manifest names, and root (whose containers are described too).
  const lxcOwners = m.manifest.lxc.length > 0 ? [...new Set(['root', ...m.manifest.lxc.map((s) => ownerKey(s.user))])].sort() : [];
  const tops = m.manifest.containers.map((s) => s.name);
  let world: SimWorld | null = null;
  let realPlan: Plan;
  let plan: Plan;

  beforeAll(async () => {
    await deleteOn(d, tops);
    world = createSimWorld(await describeRealHost(d, hostingImages, lxcOwners));
  });

  afterAll(async () => {
    // Each manifest starts from the host as it was found.
    await deleteOn(d, tops);
    await restoreIds();
  });

  const sim = (): SimWorld => {
    if (!world) throw new Error('the simulated world was not described (see beforeAll)');
    return world;
  };

  it('plans the same steps on both (same observations, same plan)', async () => {
    const r = await nestctl(['plan', '--json', '--host-restart', d.restart, file]);
    expect(r.code, r.stderr).toBe(0);
    realPlan = JSON.parse(r.stdout) as Plan;
    plan = await simPlan(sim(), m, d);
    // Every step in full: kinds, order, dependencies, reasons, file diffs and preconditions.
    expect(plan.steps, `simulated plan vs real plan (world: ${worldFile(d)})`).toEqual(realPlan.steps);
    expect(plan.levels, 'predicted ranges').toEqual(realPlan.levels);
    expect(plan.warnings).toEqual(realPlan.warnings);
  });

  it('applies on both without a failed step', async () => {
    const summary = await startApply(plan, sim().host()).finished;
    expect(
      summary.failed.map((f) => `${f.step.id}: ${f.error.message}`),
      'simulated apply',
    ).toEqual([]);
    // Copies that waited for their source, in a second round as the CLI's apply makes them.
    if (plan.deferred) {
      const again = deferredPart(await simPlan(sim(), m, d), plan.deferred);
      const second = await startApply(again, sim().host()).finished;
      expect(
        second.failed.map((f) => `${f.step.id}: ${f.error.message}`),
        'simulated apply, second round',
      ).toEqual([]);
    }
    const r = await nestctl(['apply', '--auto-approve', '--host-restart', d.restart, file]);
    expect(r.code, `real apply:\n${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('has nothing left to do on both', async () => {
    expect(
      (await simPlan(sim(), m, d)).steps.map((s) => s.id),
      'simulated',
    ).toEqual([]);
    const r = await nestctl(['plan', '--json', '--host-restart', d.restart, file]);
    expect(r.code, r.stderr).toBe(0);
    expect(
      (JSON.parse(r.stdout) as Plan).steps.map((s) => s.id),
      'real',
    ).toEqual([]);
  });

  it('observes the same levels: uid maps, root entries, pools, bridges, images, instances', async () => {
    const [real, simulated] = await Promise.all([observeTree(realHost(d), m.manifest), observeTree(sim().host(), m.manifest)]);
    const r = treeFacts(real, m.manifest);
    const s = treeFacts(simulated, m.manifest);
    expect(Object.keys(s), 'levels observed').toEqual(Object.keys(r));
    for (const path of Object.keys(r)) expect(s[path], `level ${path}: simulated vs real`).toEqual(r[path]);
  });

  it(`puts every map where the plan predicted, on the real daemon too`, async () => {
    const real = await observeTree(realHost(d), m.manifest);
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

  it('gives every container the same /proc/self/uid_map', async () => {
    for (const spec of allSpecs(m.manifest.containers)) {
      const real = await realUidMap(d, spec.path.split('/'));
      const simulated = (sim().uidMap(spec.path) ?? '(no such level)').split(/\s+/).join(' ');
      expect(simulated, `${spec.path}: simulated vs real`).toBe(real);
    }
  });

  return { world: sim };
}
