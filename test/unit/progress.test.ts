// The terminal progress view (src/render/progress.ts) at scale, drawn to a stream instead of a
// terminal: it finishes, shows every level, collapses finished ones, and its cost does not grow
// with the square of the steps. And Ctrl-C during an apply drawn on a real pty.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { levelLabel } from '../../src/core/paths.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { terminalProgress } from '../../src/render/progress.js';
import { CLI, ROOT } from './helpers/cli.js';

/** N containers with LXD inside, each with one busybox child (9 steps each, plus the host's). */
function treeManifest(n: number): string {
  const lines = ['apiVersion: nestctl/v1', 'host:', '  base: 500000', 'containers:'];
  for (let i = 1; i <= n; i += 1)
    lines.push(`  - name: c${i}`, '    image: nest', '    containers:', `      - name: c${i}-1`, '        image: busybox');
  return `${lines.join('\n')}\n`;
}

async function planTree(n: number) {
  const loaded = loadManifest(treeManifest(n), 'tree.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const world = createSimWorld(
    defaultWorld([
      { alias: 'nest', hostsLxd: true },
      { alias: 'busybox', hostsLxd: false },
    ]),
  );
  const r = await planManifest(loaded.manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: 'tree' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { plan: r.plan, host: world.host() };
}

/** A stream that says it is a terminal, collecting what is drawn on it. */
function fakeTerminal(): NodeJS.WriteStream & { text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40, text: () => text });
  return stream;
}

const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('terminal progress', () => {
  it('draws a 60-container apply (540 steps) to the end, one collapsed line per finished level', async () => {
    const { plan, host } = await planTree(60);
    expect(plan.steps.length).toBeGreaterThanOrEqual(540);
    const out = fakeTerminal();
    const view = terminalProgress(plan, out);
    const t0 = Date.now();
    await view.start();
    const run = startApply(plan, host, view.onEvent);
    await view.follow(run);
    const summary = await run.finished;
    expect(summary.failed).toEqual([]);
    expect(summary.done).toBe(plan.steps.length);
    // The last frame: every level, each collapsed to its line with its step count.
    const last = stripAnsi(out.text())
      .split('\n')
      .filter((l) => l.trim() !== '');
    const levels = [...new Set(plan.steps.map((s) => s.level))];
    for (const level of levels) {
      const n = plan.steps.filter((s) => s.level === level).length;
      expect(
        last.filter((l) => l.endsWith(` ${levelLabel(level)} (${n} steps)`)),
        levelLabel(level),
      ).not.toEqual([]);
    }
    expect(last.slice(-levels.length).every((l) => /^✔ \S+ \(\d+ steps\)$/.test(l))).toBe(true);
    // Redraws are throttled: the whole run draws in seconds (the unthrottled view took minutes).
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 60_000);
});

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('Ctrl-C while the progress view draws', () => {
  it('stops starting steps, exits 1 and says which steps were not started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nestctl-sigint-'));
    try {
      const file = join(dir, 'tree.yaml');
      await writeFile(file, treeManifest(300));
      // A sized pty (util-linux script): the listr2 view draws; SIGINT goes to the node process.
      const cmd = `stty cols 120 rows 40; exec node ${quote(CLI)} apply --simulate --auto-approve ${quote(file)}`;
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1', CI: '', NESTCTL_DEBUG: '' },
      });
      let out = '';
      let interruptedAt = 0;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Once the apply has drawn its first finished step, Ctrl-C as a terminal sends it: SIGINT
        // to the process group. (Waiting for a collapsed level raced a fast apply; of 540 steps,
        // a loaded machine sometimes sent it after the last one, and the test saw exit 130.)
        if (!interruptedAt && out.includes('✔')) {
          interruptedAt = Date.now();
          child.stdin.write('\x03');
        }
      });
      child.stdin.on('error', () => undefined);
      const code = await new Promise<number | null>((done) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (c) => {
          clearTimeout(kill);
          done(c);
        });
      });
      const text = stripAnsi(out);
      expect(interruptedAt, text.slice(-2000)).toBeGreaterThan(0);
      expect(Date.now() - interruptedAt).toBeLessThan(10_000);
      expect(code, text.slice(-3000)).toBe(1);
      expect(text).toContain('Interrupted: letting running steps finish');
      expect(text).toMatch(/Interrupted: \d+ step\(s\) not started/);
      expect(text).toMatch(/Apply incomplete\. Steps: .*\d+ skipped/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
