#!/usr/bin/env node
// nestctl against the raw-lxc baseline, in the same run, on the real lab (root, LXD, the lab
// images from test/lab/setup-host.sh). Prints a table. Restores /etc/subuid and /etc/subgid and
// deletes every container it made, also after failures.
//
//   node bench/run.mjs [--rounds N]
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = resolve(ROOT, 'dist/src/cli/main.js');
const RESTART = resolve(ROOT, 'test/lab/restart-lxd.sh');
const ROUNDS = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;

function run(argv, { check = true } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: 'true' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (check && r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { ms, out: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nestctl = (...args) => run(['node', CLI, ...args, '--host-restart', RESTART, 'examples/seed.yaml']);

/** What a script must read to know the same facts as one nestctl probe, one command each. */
function rawReads(chain) {
  const ex = chain.flatMap((c) => ['lxc', 'exec', c, '--']);
  for (const f of ['/etc/subuid', '/etc/subgid', '/proc/self/uid_map']) run([...ex, 'cat', f]);
  for (const q of ['/1.0', '/1.0/instances?recursion=1', '/1.0/images?recursion=1', '/1.0/storage-pools', '/1.0/networks?recursion=1', '/1.0/profiles?recursion=1']) {
    run([...ex, 'lxc', 'query', q]);
  }
}

const saved = ['/etc/subuid', '/etc/subgid'].map((p) => [p, readFileSync(p)]);
const restore = () => {
  run(['lxc', 'delete', '--force', 'c1'], { check: false });
  run(['lxc', 'delete', '--force', 'bc1'], { check: false });
  for (const [p, text] of saved) writeFileSync(p, text);
  run(['rm', '-f', '/var/lib/nestctl/subuid.orig', '/var/lib/nestctl/subgid.orig'], { check: false });
  run([RESTART]);
};

const rows = [];
try {
  restore();
  const applyN = nestctl('apply', '--auto-approve').ms;
  const base = run(['bash', 'bench/baseline-recipe.sh', 'b', RESTART]).ms;
  rows.push(['apply seed.yaml from scratch (3 levels)', applyN, base, 'baseline-recipe.sh, typed by hand']);

  const plans = [];
  const reads = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    plans.push(nestctl('plan').ms);
    const t0 = Date.now();
    rawReads([]);
    rawReads(['c1']);
    rawReads(['c1', 'c2']);
    reads.push(Date.now() - t0);
  }
  rows.push(['plan, converged (observe 3 levels)', median(plans), median(reads), '27 single lxc/exec reads']);

  const noops = [];
  for (let i = 0; i < ROUNDS; i += 1) noops.push(nestctl('apply', '--auto-approve').ms);
  rows.push(['apply with nothing to do', median(noops), median(reads), 'the same reads']);

  const destroyN = nestctl('destroy', '--auto-approve', '--restore-ids').ms;
  const t0 = Date.now();
  run(['lxc', 'delete', '--force', 'bc1']);
  for (const [p, text] of saved) writeFileSync(p, text);
  run([RESTART]);
  rows.push(['destroy + restore ids', destroyN, Date.now() - t0, 'lxc delete --force, restore files, restart']);
} finally {
  restore();
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
console.log(`\nnestctl vs raw lxc on this machine (median of ${ROUNDS} where repeated)\n`);
console.log('| scenario | nestctl | raw lxc | ratio | baseline |');
console.log('|---|---:|---:|---:|---|');
for (const [name, n, b, how] of rows) console.log(`| ${name} | ${fmt(n)} | ${fmt(b)} | ${(n / b).toFixed(2)}× | ${how} |`);
