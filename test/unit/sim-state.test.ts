// A simulation saved and continued: describeWorld is the inverse of building a world, exactly
// enough that the saved text is a fixed point and a continued world plans as the saved one did.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, describeWorldText, parseWorld, manifestImages, manifestLxcUsers } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';

function load(file: string): { manifest: Manifest; text: string } {
  const text = readFileSync(file, 'utf8');
  const r = loadManifest(text, file);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

async function plan(world: SimWorld, m: { manifest: Manifest; text: string }, mode: 'apply' | 'destroy' = 'apply') {
  const r = await planManifest(m.manifest, world.host(m.manifest.host.flavour), {
    hostRestart: null,
    tool: 'test',
    manifestText: m.text,
    mode,
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

/** What a probe of the level reads, clock readings (file times, daemon start, now) left out. */
const facts = (world: SimWorld, path: string): Promise<string> =>
  world
    .level(path)
    .probe()
    .then(
      (o) => JSON.stringify(o, (k, v: unknown) => (['now', 'mtime', 'startedAt'].includes(k) ? undefined : v)),
      (e: Error) => `refused: ${e.message}`,
    );

/** What the LXC probe reads at a level, for root and every account there. */
const lxcFacts = (world: SimWorld, path: string): Promise<string> =>
  world
    .level(path)
    .probeLxc(['root', ...Object.keys(world.state().host.lxc?.users ?? {})])
    .then((o) => JSON.stringify(o));

/** Paths of the host and every running container with an LXD inside. */
function runningLevels(world: SimWorld): string[] {
  const out: string[] = [];
  const walk = (level: ReturnType<SimWorld['state']>['host']): void => {
    out.push(level.path);
    for (const i of level.lxd?.instances ?? []) if (i.status === 'Running' && i.inside.lxd) walk(i.inside);
  };
  walk(world.state().host);
  return out;
}

const reload = (text: string): SimWorld => createSimWorld(parseWorld(text, 'state.yaml'));

describe('describeWorld', () => {
  for (const file of [
    'examples/seed.yaml',
    'examples/isolated.yaml',
    'examples/docker.yaml',
    'examples/incus.yaml',
    'examples/lxc-user.yaml',
  ]) {
    it(`${file}: the saved world is a fixed point, and the continued world observes and plans the same`, async () => {
      const m = load(file);
      const world = createSimWorld(defaultWorld(manifestImages(m.manifest), m.manifest.host.flavour, manifestLxcUsers(m.manifest)));
      const summary = await startApply(await plan(world, m), world.host(m.manifest.host.flavour)).finished;
      expect(summary.failed).toEqual([]);
      const text = describeWorldText(world.state());
      const again = reload(text);
      expect(describeWorldText(again.state())).toBe(text);
      for (const path of ['', ...(await plan(world, m)).levels.map((l) => l.path)]) {
        expect(await facts(again, path)).toBe(await facts(world, path));
        expect(await lxcFacts(again, path)).toBe(await lxcFacts(world, path));
      }
      expect((await plan(again, m)).steps).toEqual([]);
      // A plan saved against the text is judged against a world built from it again: same digest.
      expect((await plan(reload(text), m)).observedSha256).toBe((await plan(again, m)).observedSha256);
      // What destroy --restore-ids needs survives too: the original subid files at every level.
      const destroyBefore = await plan(world, m, 'destroy');
      const destroyAfter = await plan(again, m, 'destroy');
      expect(destroyAfter.steps).toEqual(destroyBefore.steps);
      expect(again.file('', '/var/lib/nestctl/subuid.orig')).toBe(world.file('', '/var/lib/nestctl/subuid.orig'));
    });
  }

  for (const name of readdirSync('test/unit/fixtures/worlds')) {
    it(`fixtures/worlds/${name}: described again, it is a fixed point that observes the same`, async () => {
      const world = reload(readFileSync(`test/unit/fixtures/worlds/${name}`, 'utf8'));
      const saved = describeWorldText(world.state());
      const again = reload(saved);
      expect(describeWorldText(again.state())).toBe(saved);
      for (const path of runningLevels(world)) expect(await facts(again, path)).toBe(await facts(world, path));
    });
  }
});
