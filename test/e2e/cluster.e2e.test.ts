// A tree on a member of a real LXD cluster (README "Clusters"): test/lab/cluster.sh forms nxc, a
// cluster of three nesting containers of the lab host (nxc1, nxc2, nxc3), trusted as a remote of
// the host's lxc client. nxc3's daemon is given a map of 65536 ids. cl1 (holding cl2) is placed on
// nxc2 with `target:`, sized from nxc2's own map; a second plan has nothing to do. Changing the
// target to nxc1 plans one move, with its cost; after it cl1 has nxc1's map, cl2 runs again with
// the map it had, and the next plan is empty. Target nxc3 is refused at plan time with the fix.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processExec } from '../../src/adapters/process-exec.js';
import type { Plan } from '../../src/core/plan/model.js';
import { describeRealHost, type RealDaemon } from './agreement-lib.js';
import { RESTART, ROOT, labUnavailable, nestctl, run } from './lab.js';
import { agreeingPart, describeRealRemote, type RealRemote } from './remote-world.js';

const why = labUnavailable();
const CLUSTER_SH = resolve(ROOT, 'test/lab/cluster.sh');
const NAME = 'nxc';
const MEMBERS = ['10.66.0.211', '10.66.0.212', '10.66.0.213'];
/** This machine's LXD, whose images are relayed to nxc, and nxc as this machine's lxc client reaches it. */
const HERE: RealDaemon = { flavour: 'debian', restart: RESTART };
const REMOTE: RealRemote = { exec: processExec, cli: 'lxc', top: { remote: NAME, project: null }, flavour: 'debian' };

async function ok(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const words = (text: string): string => text.trim().split(/\s+/).join(' ');
const inCl1 = (argv: string[]): string[] => ['lxc', 'exec', `${NAME}:cl1`, '-T', '--', ...argv];
const location = async (): Promise<string> =>
  (JSON.parse(await ok(['lxc', 'query', `${NAME}:/1.0/instances/cl1`])) as { location: string }).location;

/** cl2's status inside cl1, once cl1's LXD has started its containers again (it does so at its own pace after a boot). */
async function cl2Running(): Promise<boolean> {
  for (let i = 0; i < 120; i += 1) {
    const r = await run(inCl1(['lxc', 'list', '--format', 'csv', '-c', 'ns']));
    if (r.code === 0 && /^cl2,RUNNING$/m.test(r.stdout)) return true;
    await new Promise((res) => setTimeout(res, 500));
  }
  return false;
}

describe.skipIf(why !== null)(`a tree on a member of an LXD cluster${why ? ` (skipped: ${why})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nestctl-cluster-e2e-'));
  const manifest = (target: string): string => {
    const file = join(dir, `cluster-${target}.yaml`);
    writeFileSync(
      file,
      [
        'apiVersion: nestctl/v1',
        'hosts:',
        `  ${NAME}:`,
        `    remote: ${NAME}`,
        '    cli: lxc',
        'containers:',
        '  - name: cl1',
        `    host: ${NAME}`,
        `    target: ${target}`,
        '    image: nest',
        '    containers:',
        '      - name: cl2',
        '        image: busybox',
        '',
      ].join('\n'),
    );
    return file;
  };
  let cl2Map = '';
  // Outside `dir`, which afterAll removes: kept for a look after a failure, as agreement-lib.ts keeps its world.
  const worldFile = '/tmp/nestctl-cluster-agreement-world.yaml';
  const stateFile = '/tmp/nestctl-cluster-agreement-sim.yaml';

  /** The real plan and the simulated one (from `from`: --world or --state) of the same manifest, as JSON. */
  async function bothPlans(file: string, from: string[]): Promise<{ real: Plan; sim: Plan }> {
    const real = await nestctl(['plan', '--json', file]);
    expect(real.code, `real plan: ${real.stderr}`).toBe(0);
    const sim = await nestctl(['plan', '--json', ...from, file]);
    expect(sim.code, `simulated plan: ${sim.stderr}`).toBe(0);
    return { real: JSON.parse(real.stdout) as Plan, sim: JSON.parse(sim.stdout) as Plan };
  }

  beforeAll(async () => {
    rmSync(stateFile, { force: true }); // an earlier run's simulated state must not decide this one
    await run(['bash', CLUSTER_SH, 'down', NAME]); // a crashed earlier run must not decide this one
    await ok(['bash', CLUSTER_SH, 'up', NAME, ...MEMBERS, '10.79.1.1/24']);
    // nxc3 hands out 65536 ids: too few for cl1's tree (131072).
    await ok(['lxc', 'exec', `${NAME}3`, '-T', '--', 'sh', '-c', 'echo root:65536:65536 > /etc/subuid && cp /etc/subuid /etc/subgid']);
    await ok(['lxc', 'exec', `${NAME}3`, '-T', '--', 'systemctl', 'restart', 'lxd']);
    await ok(['lxc', 'exec', `${NAME}3`, '-T', '--', 'lxd', 'waitready', '--timeout', '60']);
    // Back in the cluster: every member online and fully operational again.
    for (let i = 0; ; i += 1) {
      const members = JSON.parse(await ok(['lxc', 'query', `${NAME}:/1.0/cluster/members?recursion=1`])) as Array<{
        status: string;
        message: string;
      }>;
      if (members.every((m) => m.status === 'Online' && m.message === 'Fully operational')) break;
      if (i === 120) throw new Error(`cluster ${NAME} not fully operational after nxc3's restart: ${JSON.stringify(members)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }, 20 * 60_000);

  // Runs after failures too: the cluster (and all it holds) goes.
  afterAll(async () => {
    await run(['bash', CLUSTER_SH, 'down', NAME]);
    rmSync(dir, { recursive: true, force: true });
  }, 10 * 60_000);

  it(
    "the simulator, given this machine and nxc as read now, plans the same placement on nxc2 (creates, relays, sizing from nxc2's map)",
    async () => {
      const file = manifest(`${NAME}2`);
      const { text } = await describeRealRemote(REMOTE, await describeRealHost(HERE, ['nest']), worldFile);
      writeFileSync(worldFile, text);
      const { real, sim } = await bothPlans(file, ['--world', worldFile]);
      // Every step in full (ids, kinds, order, dependsOn, reasons, config, targets), the predicted ranges, hosts and warnings.
      expect(agreeingPart(sim), `simulated plan vs real plan (world: ${worldFile})`).toEqual(agreeingPart(real));
      // The simulator applies its own plan, so the move below is planned from where its apply left it.
      const applied = await nestctl(['apply', '--auto-approve', '--ci', '--world', worldFile, '--state', stateFile, file]);
      expect(applied.code, `simulated apply:\n${applied.stdout}\n${applied.stderr}`).toBe(0);
    },
    10 * 60_000,
  );

  it(
    'places cl1 on nxc2 with a map from nxc2, runs cl2 inside it, and plans nothing more',
    async () => {
      const file = manifest(`${NAME}2`);
      const planned = await nestctl(['plan', '--json', file]);
      expect(planned.code, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as Plan;
      const applied = await nestctl(['apply', '--auto-approve', '--ci', file]);
      expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(0);
      expect(await location()).toBe(`${NAME}2`);
      const cl1 = plan.levels.find((l) => l.host === NAME && l.path === '')!.children.find((c) => c.path === 'cl1')!.map;
      expect(words(await ok(inCl1(['cat', '/proc/self/uid_map'])))).toBe(`0 ${cl1.start} ${cl1.size}`);
      cl2Map = words(await ok(inCl1(['lxc', 'exec', 'cl2', '-T', '--', 'cat', '/proc/self/uid_map'])));
      expect(cl2Map).toBe('0 65536 65536');
      const again = await nestctl(['plan', file]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('No changes.');
    },
    30 * 60_000,
  );

  it(
    'the simulator, after its own apply, plans the same one move to nxc1 as the real cluster',
    async () => {
      const { real, sim } = await bothPlans(manifest(`${NAME}1`), ['--state', stateFile]);
      expect(
        real.steps.filter((s) => s.kind === 'move-instance').map((s) => s.id),
        'real plan',
      ).toHaveLength(1);
      expect(agreeingPart(sim), `simulated plan vs real plan (state: ${stateFile})`).toEqual(agreeingPart(real));
    },
    10 * 60_000,
  );

  it(
    'moves cl1 to nxc1 in one step that says its cost; cl2 runs again with its map, and nothing is left to do',
    async () => {
      const file = manifest(`${NAME}1`);
      const planned = await nestctl(['plan', file]);
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toContain(`~ cl1: move from member ${NAME}2 to ${NAME}1`);
      expect(planned.stdout).toContain('stops cl1 and its 1 nested container while it moves');
      expect(planned.stdout).not.toContain('+ cl1: create');
      const applied = await nestctl(['apply', '--auto-approve', '--ci', file]);
      expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(0);
      expect(await location()).toBe(`${NAME}1`);
      expect(await cl2Running()).toBe(true);
      expect(words(await ok(inCl1(['lxc', 'exec', 'cl2', '-T', '--', 'cat', '/proc/self/uid_map'])))).toBe(cl2Map);
      const again = await nestctl(['plan', file]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('No changes.');
    },
    30 * 60_000,
  );

  it(
    'refuses at plan time a move to nxc3, whose map is smaller than the tree needs, with the fix',
    async () => {
      const file = manifest(`${NAME}3`);
      const r = await nestctl(['plan', file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:9:\\d+: error: .*${NAME}3.*`));
      expect(r.stderr).toContain('131072');
      expect(await location()).toBe(`${NAME}1`);
    },
    10 * 60_000,
  );
});
