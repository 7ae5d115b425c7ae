// apply --snapshot and --rollback-on-failure: the snapshot steps a plan gets (before the first
// change of each existing container, everything about it or inside it after), and a failed apply
// rolled back in the simulator: the file the failed apply pushed is gone, the containers inside run
// again, and the next plan asks for the same changes; the CLI's rollback output (--state).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimWorld, type SimWorld } from '../../src/cli/sim-world.js';
import type { Plan } from '../../src/core/plan/model.js';
import { rollbackPlan } from '../../src/core/plan/snapshots.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import { load } from './helpers/sim-worlds.js';
import { nestctl } from './helpers/cli.js';

const BEFORE = `apiVersion: nestctl/v1
containers:
  - name: c1
    image: nest
    files:
      - { path: /etc/motd, content: "before\\n" }
    containers:
      - name: c2
        image: busybox
`;
const FAILING = BEFORE.replace(
  '      - { path: /etc/motd, content: "before\\n" }\n',
  '      - { path: /etc/motd, content: "before\\n" }\n      - { path: /etc/new.conf, content: "pushed by the failed apply\\n" }\n    setup:\n      - [sh, -c, "echo broken >&2; exit 7"]\n',
);

function files(): { dir: string; before: string; failing: string; state: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nestctl-snap-'));
  writeFileSync(join(dir, 'before.yaml'), BEFORE);
  writeFileSync(join(dir, 'failing.yaml'), FAILING);
  return { dir, before: join(dir, 'before.yaml'), failing: join(dir, 'failing.yaml'), state: join(dir, 'state.json') };
}

describe('apply --snapshot and --rollback-on-failure (simulated)', () => {
  it('plans one snapshot of the changed container, before its first change and before everything inside it', async () => {
    const f = files();
    expect((await nestctl(['apply', '--auto-approve', '--ci', '--state', f.state, f.before])).code).toBe(0);
    const r = await nestctl(['plan', '--json', '--snapshot', '--state', f.state, f.failing]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.options.snapshot).toBe(true);
    const snaps = plan.steps.filter((s) => s.kind === 'snapshot-instance');
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ level: '', name: 'c1', path: 'c1', inside: [{ path: 'c1/c2', waitBoot: false }] });
    expect((snaps[0] as { snapshot: string }).snapshot).toMatch(/^nestctl-pre-[0-9a-f]{12}$/);
    for (const s of plan.steps.filter((s) => s.kind !== 'snapshot-instance')) expect(s.dependsOn).toContain('c1:snapshot-instance');
    const text = await nestctl(['plan', '--snapshot', '--state', f.state, f.failing]);
    expect(text.stdout).toMatch(/\+ c1: snapshot nestctl-pre-[0-9a-f]{12} \(before this plan changes it\)/);
    // Without the flag, no snapshot.
    const plain = JSON.parse((await nestctl(['plan', '--json', '--state', f.state, f.failing])).stdout) as Plan;
    expect(plain.steps.some((s) => s.kind === 'snapshot-instance')).toBe(false);
  });

  it('through the CLI: a failed setup is followed by the rollback plan and its outcome', async () => {
    const f = files();
    expect((await nestctl(['apply', '--auto-approve', '--ci', '--state', f.state, f.before])).code).toBe(0);
    const r = await nestctl(['apply', '--auto-approve', '--ci', '--rollback-on-failure', '--state', f.state, f.failing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('setup command 1 of 1 in c1 failed (exit 7)');
    expect(r.stdout).toContain('Rolling back (--rollback-on-failure)');
    expect(r.stdout).toMatch(/~ c1: restore nestctl-pre-[0-9a-f]{12} \(restarts c1, then starts the container inside it\)/);
    expect(r.stdout).toContain('Rolled back 1 container to their snapshots.');
  });

  it('in the engine: the restore undoes the pushed file, the container inside runs again, and the next plan asks for the same', async () => {
    const w = createSimWorld(defaultWorld(manifestImages(load(BEFORE).manifest)));
    const first = await plan(w, BEFORE, false);
    expect((await startApply(first, w.host()).finished).failed).toEqual([]);
    const p = await plan(w, FAILING, true);
    const summary = await startApply(p, w.host()).finished;
    expect(summary.failed.map((x) => x.step.id)).toEqual(['c1:run-setup']);
    // The failed apply pushed the file.
    expect(await fileIn(w, '/etc/new.conf')).toBe('pushed by the failed apply\n');
    const unfinished = [...summary.failed.map((x) => x.step), ...summary.skipped.map((x) => x.step)];
    const back = rollbackPlan(p, ['c1:snapshot-instance'], unfinished);
    expect(back.steps.map((s) => s.id)).toEqual(['c1:restore-instance']);
    expect((await startApply(back, w.host()).finished).failed).toEqual([]);
    expect(await fileIn(w, '/etc/new.conf')).toBeNull();
    expect(await fileIn(w, '/etc/motd')).toBe('before\n');
    expect((await w.level('c1').probe()).instances.map((i) => [i.name, i.status])).toEqual([['c2', 'Running']]);
    expect((await plan(w, BEFORE, false)).steps).toEqual([]);
    // A container only inside the one restored is not restored on its own.
    expect(rollbackPlan(p, ['c1:snapshot-instance'], [{ ...unfinished[0]!, level: 'c1', path: 'c1/c2' } as never]).steps).toHaveLength(1);
    // Nothing snapshotted, nothing to restore.
    expect(rollbackPlan(p, [], unfinished).steps).toEqual([]);
  });
});

async function plan(w: SimWorld, text: string, snapshot: boolean): Promise<Plan> {
  const m = load(text);
  const r = await planManifest(m.manifest, w.host(), {
    hostRestart: null,
    tool: 'test',
    manifestText: m.text,
    ...(snapshot ? { snapshot } : {}),
  });
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

async function fileIn(w: SimWorld, file: string): Promise<string | null> {
  const got = (await w.host().readFiles('c1', [file]))[file];
  return got?.kind === 'file' && got.data !== null ? Buffer.from(got.data, 'base64').toString() : null;
}
