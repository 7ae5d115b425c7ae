#!/usr/bin/env node
// How long the CLI takes to start, against a bare `node -e 0`: the median wall time of N runs of
// each command, and its ratio to node's own start, for the shipped bundle (dist/bundle, what
// package.json's bin runs) and for tsc's unbundled output (dist/src, what the tests run). The runs
// take turns, so a machine that slows down slows every column alike. Needs a build (npm run build).
//
//   node bench/startup.mjs [--runs N]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = resolve(ROOT, 'dist/bundle/bin.js');
const UNBUNDLED = resolve(ROOT, 'dist/src/cli/main.js');
const at = process.argv.indexOf('--runs');
const RUNS = at > 0 ? Number(process.argv[at + 1]) : 15;

const COMMANDS = [['--version'], ['validate', 'examples/seed.yaml'], ['plan', '--simulate', 'examples/seed.yaml']];
const CASES = [
  ['node -e 0', ['-e', '0']],
  ...COMMANDS.flatMap((args) => [
    [args.join(' '), [BIN, ...args]],
    [`${args.join(' ')} (unbundled)`, [UNBUNDLED, ...args]],
  ]),
];

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const [, args] of CASES) time(args); // warm the file cache
const runs = CASES.map(() => []);
for (let i = 0; i < RUNS; i++) for (const [k, [, args]] of CASES.entries()) runs[k].push(time(args));
const medians = CASES.map(([name], k) => [name, median(runs[k])]);
const base = medians[0][1];
const width = Math.max(...medians.map(([n]) => n.length));
console.log(`${'command'.padEnd(width)}  median ms  × node -e 0   (${RUNS} runs each)`);
for (const [name, ms] of medians)
  console.log(`${name.padEnd(width)}  ${ms.toFixed(0).padStart(9)}  ${(ms / base).toFixed(2).padStart(11)}`);
