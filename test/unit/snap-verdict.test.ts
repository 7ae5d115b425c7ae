// The snap LXD's verdict per level, predicted in the plan before anything runs. The snap ignores
// /etc/subuid: kernelDefaultMap (lxd/idmap/idmapset_linux.go) takes its range from its own
// namespace, fixed 1000000:1000000000 on a full host map, else from 100000 to the end of the
// container's map, and only when `Endid-Startid >= 65536` (at least 65537 ids); with fewer it has
// no allocation and LXD refuses unprivileged containers ("LXD doesn't have a uid/gid allocation").

import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import type { WorldDescription } from '../../src/sim/index.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { type PipelineOptions, planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { load, ours } from './helpers/sim-worlds.js';

const SNAP_NEST = load(
  'apiVersion: nestctl/v1\nhost:\n  base: 500000\ncontainers:\n  - name: c1\n    image: nest\n    flavour: snap\n    containers:\n      - { name: c2, image: busybox }\n',
);
const UNNAMED_NEST = load(
  'apiVersion: nestctl/v1\nhost:\n  base: 500000\ncontainers:\n  - name: c1\n    image: nest\n    containers:\n      - { name: c2, image: busybox }\n',
);

/** A Debian LXD host whose image `nest` carries the snap LXD; `c1Map`: c1 already made (and its map size). */
function world(c1Map: number | null = null): WorldDescription {
  const entry = `root:500000:${c1Map ?? 10000001}\n`;
  return {
    host: {
      lxd: { flavour: 'debian', initialised: true },
      subuid: entry,
      subgid: entry,
      images: [{ alias: 'nest', lxd: { flavour: 'snap' } }, { alias: 'busybox' }],
      instances: c1Map === null ? [] : [ours('c1', 'nest', { inside: { lxd: { flavour: 'snap', initialised: true } } })],
    },
  };
}

async function plan(host: LxdLevel, m: ReturnType<typeof load>, extra: Partial<PipelineOptions> = {}) {
  return planManifest(m.manifest, host, { hostRestart: null, tool: 'test', manifestText: m.text, ...extra });
}
async function planned(host: LxdLevel, m: ReturnType<typeof load>, extra: Partial<PipelineOptions> = {}): Promise<Plan> {
  const r = await plan(host, m, extra);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
async function apply(p: Plan, host: LxdLevel): Promise<void> {
  expect((await startApply(p, host).finished).failed.map((f) => f.error.message)).toEqual([]);
}

describe('the snap LXD verdict, per level, before anything runs (kernelDefaultMap, lxd/idmap/idmapset_linux.go)', () => {
  it('a named snap level gets a map the snap takes: the plan says its range and that it fits, and apply succeeds', async () => {
    const w = createSimWorld(world());
    const p = await planned(w.host(), SNAP_NEST);
    // 100000 + 65537: the one extra id kernelDefaultMap's `Endid-Startid < 65536` test demands.
    expect(p.warnings).toContain("c1 (snap LXD): ids 100000–165536 from its container's map; fits c1/c2 (65536)");
    await apply(p, w.host());
    expect((await planned(w.host(), SNAP_NEST)).steps).toEqual([]);
  });

  it('a snap host takes the kernel default range', async () => {
    const snapHost: WorldDescription = { host: { lxd: { flavour: 'snap', initialised: true }, images: [{ alias: 'busybox' }] } };
    const p = await planned(
      createSimWorld(snapHost).host(),
      load('apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox }\n'),
    );
    expect(p.warnings).toContain('host (snap LXD): ids 1000000–1000999999 from the kernel default; fits c1 (65536)');
  });

  it('an existing snap level whose map is too small is refused, with why and what to do; doing it converges', async () => {
    const w = createSimWorld(world(131072));
    const before = w.log().length;
    const r = await plan(w.host(), UNNAMED_NEST);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toMatchObject([
      {
        where: { path: 'c1' },
        message:
          "c1 (snap LXD): its container's map holds 131072 ids, and 165537 are needed: the snap takes ids from 100000 up and needs at least 65537 of them (kernelDefaultMap), so it could run privileged containers only",
        hint: "set flavour: snap on c1 so nestctl sizes its map for the snap; then recreate c1 (nestctl destroy --target c1, then apply): a container's map is computed only when it is created",
      },
    ]);
    expect(w.log().length).toBe(before);
    // The hint, followed: name the flavour, destroy c1, apply.
    await apply(await planned(w.host(), SNAP_NEST, { mode: 'destroy', target: 'c1' }), w.host());
    await apply(await planned(w.host(), SNAP_NEST), w.host());
    expect((await planned(w.host(), SNAP_NEST)).steps).toEqual([]);
  });

  it('an isolated one is not told to raise idmap.size (the level is refused from the map it has): recreating it converges', async () => {
    const iso = (flavour: string) =>
      load(
        `apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n${flavour}    idmap: { isolated: true }\n    containers:\n      - { name: c2, image: busybox }\n`,
      );
    const desc = world(10000001);
    desc.host.instances = [
      ours('c1', 'nest', {
        config: {
          'user.nestctl.managed': 'true',
          'user.nestctl.path': 'c1',
          'security.nesting': 'true',
          'security.idmap.isolated': 'true',
          'security.idmap.size': '131072',
        },
        inside: { lxd: { flavour: 'snap', initialised: true } },
      }),
    ];
    const w = createSimWorld(desc);
    const r = await plan(w.host(), iso(''));
    expect(r.ok ? [] : r.problems.map((p) => p.hint)).toEqual([
      "set flavour: snap on c1 so nestctl sizes its map for the snap; then recreate c1 (nestctl destroy --target c1, then apply): a container's map is computed only when it is created",
    ]);
    const named = iso('    flavour: snap\n');
    await apply(await planned(w.host(), named, { mode: 'destroy', target: 'c1' }), w.host());
    const p = await planned(w.host(), named);
    expect(p.warnings).toContain("c1 (snap LXD): ids 100000–196607 from its container's map; fits c1/c2 (65536)");
    await apply(p, w.host());
    expect((await planned(w.host(), named)).steps).toEqual([]);
  });
});
