import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { Plan } from '../../src/core/plan/model.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { createSimWorld, defaultWorld } from '../../src/adapters/sim/index.js';

const SEED = readFileSync('examples/seed.yaml', 'utf8');
const FLEET = ['apiVersion: nestctl/v1', 'containers:', ...Array.from({ length: 10 }, (_, i) => `  - { name: nf${i}, image: busybox }`), ''].join('\n');

function load(text: string): Manifest {
  const r = loadManifest(text, 'm.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.manifest;
}

async function run(text: string) {
  const manifest = load(text);
  const world = createSimWorld(defaultWorld([{ alias: 'nest', hostsLxd: true }, { alias: 'busybox', hostsLxd: false }]));
  let current = '';
  const log: Array<{ step: string; argv: readonly string[] }> = [];
  const host = world.host(null, (_p, argv) => log.push({ step: current, argv }));
  const phase = async (mode: 'apply' | 'destroy') => {
    current = 'plan';
    const r = await planManifest(manifest, host, { hostRestart: null, tool: 't', manifestText: text, mode, restoreIds: true });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const start = log.length;
    const perStep = new Map<string, number>();
    const run = startApply(r.plan, host, (e) => { if (e.type === 'step-start') current = e.step.id; });
    const s = await run.finished;
    expect(s.failed.map((f) => f.error.message)).toEqual([]);
    for (const l of log.slice(start)) perStep.set(l.step, (perStep.get(l.step) ?? 0) + 1);
    return { plan: r.plan, observe: start, exec: log.length - start, perStep, critical: critical(r.plan, perStep) };
  };
  const applied = await phase('apply');
  const destroyed = await phase('destroy');
  return { applied, destroyed, log };
}

function critical(plan: Plan, cost: Map<string, number>): number {
  const memo = new Map<string, number>();
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const f = (id: string): number => {
    if (memo.has(id)) return memo.get(id)!;
    const s = byId.get(id)!;
    const v = (cost.get(id) ?? 0) + Math.max(0, ...s.dependsOn.map(f));
    memo.set(id, v);
    return v;
  };
  return Math.max(0, ...plan.steps.map((s) => f(s.id)));
}

describe('cost', () => {
  it('prints', async () => {
    for (const [name, text] of [['seed', SEED], ['fleet', FLEET]] as const) {
      const r = await run(text);
      for (const [ph, x] of [['apply', r.applied], ['destroy', r.destroyed]] as const) {
        console.log(`${name} ${ph}: observe ${x.observe} exec ${x.exec} critical ${x.critical}\n` + [...x.perStep].map(([k, v]) => `   ${v} ${k}`).join('\n'));
      }
      if (process.env.SHOWLOG) console.log(r.log.map((l) => `${l.step}: ${l.argv.join(' ').slice(0, 160)}`).join('\n'));
    }
  });
});
