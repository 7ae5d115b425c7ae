#!/usr/bin/env node
// Planning at scale, simulated: generates big manifests in a temp dir, runs the built CLI's
// `plan --simulate --json` on each as a child process and prints a table: wall time, CPU time
// (user + system, steadier than wall time on a busy machine) and peak RSS of the whole process. Touches nothing outside its temp dir; no LXD is involved.
//
//   npm run build && node bench/scale.mjs [--rounds N] [--cli PATH/TO/dist/bundle/bin.js]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const option = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const CLI = resolve(option('--cli') ?? resolve(ROOT, 'dist/bundle/bin.js'));
const TIME = '/usr/bin/time';
const ROUNDS = Number(option('--rounds')) || 3;

/** Flow-style YAML keeps 16,000 siblings under the loader's 1 MiB bound. */
function isolatedSiblings(n) {
  const lines = ['apiVersion: nestctl/v1', 'host: {base: 1000000}', 'defaults: {image: busybox}', 'containers:'];
  for (let i = 0; i < n; i += 1) lines.push(`- {name: s${i}, idmap: {isolated: true}}`);
  return { text: `${lines.join('\n')}\n`, nodes: n };
}

/** `fanout` children per container, `depth` levels: every inner container hosts an LXD. */
function tree(fanout, depth) {
  let nodes = 0;
  const level = (d) => {
    const items = [];
    for (let i = 0; i < fanout; i += 1) {
      nodes += 1;
      items.push(d === depth ? `{name: n${i}}` : `{name: n${i}, image: nest, containers: ${level(d + 1)}}`);
    }
    return `[${items.join(', ')}]`;
  };
  const containers = level(1);
  return { text: `apiVersion: nestctl/v1\nhost: {base: 1000000}\ndefaults: {image: busybox}\ncontainers: ${containers}\n`, nodes };
}

// Without /usr/bin/time (Debian's `time` package), the node process reports on itself as it exits.
const SELF_REPORT = `data:text/javascript,${encodeURIComponent(
  // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source for node -e, with its own template
  "process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write(`@@maxrss ${u.maxRSS} ${u.userCPUTime / 1e6} ${u.systemCPUTime / 1e6}\\n`); });",
)}`;

/** Runs `node ARGS`; resolves with wall ms, CPU ms and peak RSS in MB. */
function run(args) {
  const argv = ['node', ...args];
  const full = existsSync(TIME) ? [TIME, '-f', '@@maxrss %M %U %S', ...argv] : ['node', '--import', SELF_REPORT, ...args];
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /@@maxrss (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0) return fail(new Error(`${argv.join(' ')} exited ${code}:\n${err}`));
      if (!m) return fail(new Error(`${argv.join(' ')}: no resource report on stderr:\n${err}`));
      done({ ms, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, rssMb: Number(m[1]) / 1024 });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases = [
  ...[2000, 4000, 8000, 16000].map((n) => ({ name: `isolated siblings ${n}`, perSibling: true, ...isolatedSiblings(n) })),
  { name: 'tree 10^4 (10 per container, 4 levels)', perSibling: false, ...tree(10, 4) },
];

const dir = await mkdtemp(join(tmpdir(), 'nestctl-scale-'));
try {
  const rows = [];
  for (const c of cases) {
    const file = join(dir, `${c.nodes}-${c.perSibling ? 'iso' : 'tree'}.yaml`);
    await writeFile(file, c.text);
    const runs = [];
    for (let r = 0; r < ROUNDS; r += 1) runs.push(await run([CLI, 'plan', '--simulate', '--json', file]));
    const ms = median(runs.map((x) => x.ms));
    const cpu = median(runs.map((x) => x.cpuMs));
    const rss = Math.max(...runs.map((x) => x.rssMb));
    rows.push([
      c.name,
      String(c.nodes),
      ms.toFixed(0),
      cpu.toFixed(0),
      rss.toFixed(0),
      c.perSibling ? (ms / c.nodes).toFixed(3) : '',
      c.perSibling ? (cpu / c.nodes).toFixed(3) : '',
    ]);
  }
  const head = ['case', 'nodes', 'wall ms (median)', 'CPU ms (median)', 'peak RSS MB (max)', 'wall ms per sibling', 'CPU ms per sibling'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(
    `|---|${head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
  );
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
