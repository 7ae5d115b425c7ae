// Every word names the daemon that is really there: on an Incus tree no plan line, warning, banner
// or step title says LXD or lxc.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld, type WorldDescription } from '../../src/sim/index.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { type PipelineOptions, planManifest } from '../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { colours } from '../../src/render/colour.js';
import { load, ours } from './helpers/sim-worlds.js';
import { runCommand, CLI } from './helpers/cli.js';

const INCUS = load(readFileSync('examples/incus.yaml', 'utf8'));
/** A fresh Incus host whose subid files held a root line before nestctl (so --restore-ids has one to put back). */
function incusWorld() {
  const desc = defaultWorld(
    [
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ],
    'incus',
  );
  return createSimWorld({ ...desc, host: { ...desc.host, subuid: 'root:100000:65536\n', subgid: 'root:100000:65536\n' } });
}

async function plan(host: LxdLevel, extra: Partial<PipelineOptions> = {}): Promise<Plan> {
  const r = await planManifest(INCUS.manifest, host, { hostRestart: null, tool: 'test', manifestText: INCUS.text, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
async function apply(p: Plan, host: LxdLevel): Promise<void> {
  expect((await startApply(p, host).finished).failed).toEqual([]);
}
/** The plan as a user reads it, warnings included. */
const shown = (p: Plan): string => renderPlanText(p, colours(false));
const LXD_WORDS = /\bLXD\b|\blxc |lxdbr0|lxd init/;

describe('an Incus tree is told in Incus words', () => {
  it('destroy --restore-ids restarts "Incus", not "LXD", at every level it restores', async () => {
    const w = incusWorld();
    await apply(await plan(w.host('incus')), w.host('incus'));
    const d = await plan(w.host('incus'), { mode: 'destroy', restoreIds: true });
    expect(d.steps.some((s) => s.kind === 'restart-daemon')).toBe(true);
    expect(shown(d)).toContain('host: restart Incus');
    expect(shown(d)).not.toMatch(LXD_WORDS);
    expect(d.flavours).toEqual({ '': 'incus', c1: 'incus' });
  });

  it('a stopped container kept by destroy is to be deleted by hand with incus, not lxc', async () => {
    const w = incusWorld();
    await apply(await plan(w.host('incus')), w.host('incus'));
    await w.level('c1').stopInstance('c2');
    const d = await plan(w.host('incus'), { mode: 'destroy' });
    expect(d.warnings.join('\n')).toContain('(incus delete --force c2 inside c1)');
    expect(shown(d)).not.toMatch(LXD_WORDS);
  });

  it('a container whose Incus inside is down is kept because "the Incus inside it is not running"', async () => {
    const world: WorldDescription = {
      host: {
        lxd: { flavour: 'incus', initialised: true },
        subuid: 'root:500000:131072\n',
        subgid: 'root:500000:131072\n',
        images: [{ alias: 'nest', lxd: { flavour: 'incus' } }, { alias: 'busybox' }],
        instances: [
          ours('c1', 'nest', {
            inside: {
              lxd: { flavour: 'incus', initialised: true, daemon: 'down' },
              subuid: 'root:65536:65536\n',
              subgid: 'root:65536:65536\n',
            },
          }),
        ],
      },
    };
    const w = createSimWorld(world);
    const d = await plan(w.host('incus'), { mode: 'destroy' });
    expect(d.warnings).toEqual([
      'c1 is kept: the Incus inside it is not running, so its containers cannot be listed; start that Incus and run nestctl again, or delete it by hand (incus delete --force c1) if you are sure it holds nothing of value',
    ]);
    // Applying the manifest instead: what waits for that Incus says so.
    const p = await plan(w.host('incus'));
    expect(p.steps.find((s) => s.kind === 'copy-image')?.reason).toMatch(/once its Incus runs/);
    expect(shown(p)).not.toMatch(LXD_WORDS);
  });
});

describe('the CLI names the simulated daemon', () => {
  const nestctl = (args: string[]) => runCommand(['node', CLI, ...args], { timeoutMs: 30_000 });

  it('plan and destroy of an Incus host say "simulated Incus"', async () => {
    for (const cmd of ['plan', 'destroy']) {
      const r = await nestctl([cmd, '--simulate', 'examples/incus.yaml']);
      expect(r.code, r.stderr).toBe(cmd === 'plan' ? 0 : 0);
      expect(r.stdout.split('\n')[0]).toBe('(simulated Incus: nothing on this machine is read or changed)');
    }
  });

  it('apply on an Incus host converges "in the simulated Incus"', async () => {
    const r = await nestctl(['apply', '--simulate', '--auto-approve', 'examples/incus.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Converged: planning again in the simulated Incus finds no changes.');
    expect(r.stdout).not.toMatch(LXD_WORDS);
  });
});
