#!/usr/bin/env node
// nestctl against the strongest raw baselines, in the same run, on the real lab (root, LXD, the
// lab images from test/lab/setup-host.sh), plus Ansible's community.general.lxd_container when
// `ansible-playbook` is installed (Debian: apt-get install ansible). Prints a table. Restores
// /etc/subuid and /etc/subgid and deletes every container it made, also after failures.
//
//   node bench/run.mjs [--rounds N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = resolve(ROOT, 'dist/bundle/bin.js');
const RESTART = resolve(ROOT, 'test/lab/restart-lxd.sh');
const ROUNDS = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
const ENV = { ...process.env, NO_COLOR: '1', CI: 'true' };

function run(argv, { check = true } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: ENV });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (check && r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { ms, out: r.stdout };
}

/** Commands side by side, as a script with `&` and `wait` runs them; the wall time of all. */
async function parallel(argvs) {
  const t0 = process.hrtime.bigint();
  await Promise.all(
    argvs.map(
      (argv) =>
        new Promise((ok, fail) => {
          const p = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          p.stderr.on('data', (d) => (err += d));
          p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`${argv.join(' ')} failed (${code}): ${err}`))));
        }),
    ),
  );
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The lab host may run Incus beside LXD: the manifests name the daemon, as a user there would.
const TMP = mkdtempSync(join(tmpdir(), 'nestctl-bench-'));
const SEED = join(TMP, 'seed.yaml');
writeFileSync(SEED, readFileSync(resolve(ROOT, 'examples/seed.yaml'), 'utf8').replace(/^host:\n/m, 'host:\n  flavour: debian\n'));
const FLEET_N = 10;
const fleetNames = (prefix) => Array.from({ length: FLEET_N }, (_, i) => `${prefix}${i}`);
const FLEET = join(TMP, 'fleet.yaml');
writeFileSync(
  FLEET,
  [
    'apiVersion: nestctl/v1',
    'host:',
    '  flavour: debian',
    'containers:',
    ...fleetNames('nf').map((n) => `  - { name: ${n}, image: busybox }`),
    '',
  ].join('\n'),
);
// A provisioned fleet, made twice: each container provisioned on its own, and as copies
// (copy_of) of one provisioned container. The setup is a CPU-bound loop (about 10 s of one core
// here) standing for a package install, with two files.
const PROVISION = [
  '    files:',
  '      - { path: /etc/app.conf, content: "listen = 8080\\n" }',
  '      - { path: /etc/motd, content: "provisioned\\n" }',
  '    setup:',
  "      - [sh, -c, 'i=0; while [ $i -lt 6000000 ]; do i=$((i+1)); done; touch /root/provisioned']",
];
const HEADER = ['apiVersion: nestctl/v1', 'host:', '  flavour: debian', 'containers:'];
const EACH = join(TMP, 'provisioned-each.yaml');
writeFileSync(EACH, [...HEADER, ...fleetNames('pe').flatMap((n) => [`  - name: ${n}`, '    image: busybox', ...PROVISION]), ''].join('\n'));
const COPIES = join(TMP, 'provisioned-copies.yaml');
writeFileSync(
  COPIES,
  [
    ...HEADER,
    '  - name: pctpl',
    '    image: busybox',
    ...PROVISION,
    ...fleetNames('pc').map((n) => `  - { name: ${n}, copy_of: pctpl }`),
    '',
  ].join('\n'),
);
const PLAYBOOK = join(TMP, 'fleet.yml');
writeFileSync(
  PLAYBOOK,
  `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - community.general.lxd_container:
        name: "{{ item }}"
        state: started
        source: { type: image, alias: busybox }
        wait_for_container: true
      loop: [${fleetNames('af').join(', ')}]
`,
);
const ansible = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' }).status === 0;

const nestctl = (file, ...args) => run(['node', CLI, ...args, '--host-restart', RESTART, file]);

/**
 * The fewest reads that know the same facts as one nestctl probe: one batched `sh -c` per level
 * (through the chain of `lxc exec`), as a good engineer's script reads them.
 */
const BATCH =
  'for f in /etc/subuid /etc/subgid /proc/self/uid_map; do cat $f; done; for q in /1.0 "/1.0/instances?recursion=1" "/1.0/images?recursion=1" /1.0/storage-pools "/1.0/networks?recursion=1" "/1.0/profiles?recursion=1"; do lxc query "$q"; done';
const batchedRead = (chain) => run([...chain.flatMap((c) => ['lxc', 'exec', c, '--']), 'sh', '-c', BATCH]);

const saved = ['/etc/subuid', '/etc/subgid'].map((p) => [p, readFileSync(p)]);
const deleteAll = (names) => {
  for (const n of names) run(['lxc', 'delete', '--force', n], { check: false });
};
const restore = () => {
  deleteAll(['c1', 'bc1', 'pctpl', ...['nf', 'rf', 'af', 'pe', 'pc'].flatMap(fleetNames)]);
  for (const [p, text] of saved) writeFileSync(p, text);
  run(['rm', '-f', '/var/lib/nestctl/subuid.orig', '/var/lib/nestctl/subgid.orig'], { check: false });
  run([RESTART]);
};

const rows = [];
// `--only copies` runs the provisioned fleet's rows alone.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
try {
  restore();
  if (only === null || only === 'copies') {
    const each = nestctl(EACH, 'apply', '--auto-approve').ms;
    const copies = nestctl(COPIES, 'apply', '--auto-approve').ms;
    rows.push([`fleet: ${FLEET_N} provisioned, as copies of one`, copies, each, `nestctl provisioning each of the ${FLEET_N}`]);
    nestctl(EACH, 'destroy', '--auto-approve');
    nestctl(COPIES, 'destroy', '--auto-approve');
  }
  if (only === null) {
    // The seed tree: three levels.
    const applyN = nestctl(SEED, 'apply', '--auto-approve').ms;
    const base = run(['bash', 'bench/baseline-recipe.sh', 'b', RESTART]).ms;
    rows.push(['seed: apply from scratch (3 levels)', applyN, base, '`bench/baseline-recipe.sh`, typed by hand']);

    const plans = [];
    const reads = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      plans.push(nestctl(SEED, 'plan').ms);
      const t0 = process.hrtime.bigint();
      for (const chain of [[], ['c1'], ['c1', 'c2']]) batchedRead(chain);
      reads.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    rows.push(['seed: plan, converged', median(plans), median(reads), 'one batched `sh -c` read per level']);

    const destroyN = nestctl(SEED, 'destroy', '--auto-approve', '--restore-ids').ms;
    const t0 = process.hrtime.bigint();
    run(['lxc', 'delete', '--force', 'bc1']);
    for (const [p, text] of saved) writeFileSync(p, text);
    run([RESTART]);
    rows.push([
      'seed: destroy + restore ids',
      destroyN,
      Number(process.hrtime.bigint() - t0) / 1e6,
      '`lxc delete --force` of the top, restore files, restart',
    ]);

    // A flat fleet: ten busybox containers on the host.
    const fleetN = nestctl(FLEET, 'apply', '--auto-approve').ms;
    const fleetRaw = await parallel(fleetNames('rf').map((n) => ['lxc', 'launch', 'busybox', n, '-q']));
    rows.push([`fleet: apply ${FLEET_N} containers from scratch`, fleetN, fleetRaw, `${FLEET_N} \`lxc launch\` in parallel`]);
    const noopN = [];
    const noopRaw = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      noopN.push(nestctl(FLEET, 'plan').ms);
      noopRaw.push(batchedRead([]).ms);
    }
    rows.push([`fleet: plan, converged`, median(noopN), median(noopRaw), 'one batched `sh -c` read']);
    if (ansible) {
      const playbook = () => run(['ansible-playbook', '-i', 'localhost,', PLAYBOOK]).ms;
      const first = playbook();
      rows.push([`fleet: apply ${FLEET_N} from scratch, vs Ansible`, fleetN, first, 'community.general.lxd_container']);
      const again = [];
      for (let i = 0; i < ROUNDS; i += 1) again.push(playbook());
      rows.push(['fleet: no-op, vs Ansible', median(noopN), median(again), 'the same playbook, nothing to do']);
    }
    const fleetDestroyN = nestctl(FLEET, 'destroy', '--auto-approve').ms;
    const fleetDestroyRaw = await parallel(fleetNames('rf').map((n) => ['lxc', 'delete', '--force', n]));
    rows.push([`fleet: destroy ${FLEET_N}`, fleetDestroyN, fleetDestroyRaw, `${FLEET_N} \`lxc delete --force\` in parallel`]);
  }
} finally {
  restore();
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU';
const lxd = run(['lxc', 'version'], { check: false }).out.match(/Server version:\s*(\S+)/)?.[1] ?? '?';
console.log(
  `\nnestctl vs raw baselines: ${cpu}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, Node ${process.versions.node}, LXD ${lxd}; median of ${ROUNDS} where repeated\n`,
);
console.log('| scenario | nestctl | baseline | ratio | baseline is |');
console.log('|---|---:|---:|---:|---|');
for (const [name, n, b, how] of rows) console.log(`| ${name} | ${fmt(n)} | ${fmt(b)} | ${(n / b).toFixed(2)}× | ${how} |`);
if (!ansible) console.log('\n(Ansible rows left out: ansible-playbook is not installed; Debian: apt-get install ansible)');
