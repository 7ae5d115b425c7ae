#!/usr/bin/env node
// How much the terminal progress view costs: a simulated apply of N containers with a child each,
// once with plain lines (--ci) and once under a pseudo-terminal (util-linux `script`), so listr2
// draws. Prints steps, both wall times and their ratio. Needs a build (npm run build).
//
//   node bench/render.mjs [--sizes 10,60]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = resolve(ROOT, 'dist/bundle/bin.js');
const at = process.argv.indexOf('--sizes');
const SIZES = (at > 0 ? process.argv[at + 1] : '10,60').split(',').map(Number);

/** N containers with LXD inside, each with one busybox child. */
function manifest(n) {
  const lines = ['apiVersion: nestctl/v1', 'host:', '  base: 500000', 'containers:'];
  for (let i = 1; i <= n; i += 1)
    lines.push(`  - name: c${i}`, '    image: nest', '    containers:', `      - name: c${i}-1`, '        image: busybox');
  return `${lines.join('\n')}\n`;
}

function run(argv) {
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      env: { ...process.env, CI: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) fail(new Error(`${argv.join(' ')} exited ${code}:\n${out.slice(-2000)}`));
      else done({ ms, out });
    });
  });
}

const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const dir = mkdtempSync(join(tmpdir(), 'nestctl-bench-render-'));
try {
  console.log('containers  steps   plain ms  terminal ms  terminal/plain');
  for (const n of SIZES) {
    const file = join(dir, `tree-${n}.yaml`);
    writeFileSync(file, manifest(n));
    const args = ['apply', '--simulate', '--auto-approve', file];
    const plain = await run(['node', CLI, ...args, '--ci']);
    const steps = /Steps: (\d+) done/.exec(plain.out)?.[1] ?? '?';
    // `script` gives a pty of no size; a terminal has one.
    const tty = await run(['script', '-qfec', `stty cols 120 rows 40; ${['node', CLI, ...args].map(quote).join(' ')}`, '/dev/null']);
    const row = [
      String(n).padStart(10),
      steps.padStart(6),
      plain.ms.toFixed(0).padStart(10),
      tty.ms.toFixed(0).padStart(12),
      (tty.ms / plain.ms).toFixed(2).padStart(15),
    ];
    console.log(row.join(' '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
