#!/usr/bin/env node
// How long the CLI takes to start, against a bare `node -e 0`: the median wall time of N runs of
// each command, and its ratio to node's own start. Needs a build (npm run build).
//
//   node bench/startup.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = resolve(ROOT, 'dist/src/cli/main.js');
const at = process.argv.indexOf('--runs');
const RUNS = at > 0 ? Number(process.argv[at + 1]) : 15;

const CASES = [
  ['node -e 0', ['-e', '0']],
  ['--version', [CLI, '--version']],
  ['validate examples/seed.yaml', [CLI, 'validate', 'examples/seed.yaml']],
  ['plan --simulate examples/seed.yaml', [CLI, 'plan', '--simulate', 'examples/seed.yaml']],
];

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const medians = CASES.map(([name, args]) => {
  time(args); // warm the file cache
  return [name, median(Array.from({ length: RUNS }, () => time(args)))];
});
const base = medians[0][1];
const width = Math.max(...medians.map(([n]) => n.length));
console.log(`${'command'.padEnd(width)}  median ms  × node -e 0   (${RUNS} runs each)`);
for (const [name, ms] of medians)
  console.log(`${name.padEnd(width)}  ${ms.toFixed(0).padStart(9)}  ${(ms / base).toFixed(2).padStart(11)}`);
