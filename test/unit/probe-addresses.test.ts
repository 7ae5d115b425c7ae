// The instances' addresses (`/1.0/instances?recursion=2`, their state) are read only when a probe
// is asked for them (`--addresses`, the script's first argument): only `status` shows them, so
// plan, apply and destroy never make the daemons render every instance's state. Checked on the
// real script under sh (a stand-in client), on ExecLevel's argv, and end to end in the simulator.

import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeArgv } from '../../src/adapters/lxd/commands.js';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { ADDRESSES_ARG, ADDRESSES_QUERY, PROBE_MARK, PROBE_SCRIPT } from '../../src/adapters/lxd/probe-script.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { flavourInfo } from '../../src/core/flavour/index.js';
import type { ObservedTree } from '../../src/core/observed.js';
import { parseProbe } from '../../src/core/observe/parse-probe.js';
import { startApply } from '../../src/engine/apply.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import type { PipelineOptions } from '../../src/engine/plan-types.js';
import type { Exec, ExecResult } from '../../src/ports/exec.js';
import { defaultWorld, manifestImages } from '../../src/sim/index.js';
import { manifest, node } from './helpers/build.js';
import { runCommand } from './helpers/cli.js';

const OPTIONS: PipelineOptions = { hostRestart: null, tool: 'nestctl test', manifestText: 'test' };

/** The probe script's fact names in the order it printed them. */
const facts = (out: string): string[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith(`${PROBE_MARK} `))
    .map((l) => l.split(' ')[1]!);

describe('the probe script (sh, a stand-in client)', () => {
  // The client answers every query from a file of its own and logs what it was asked; systemctl
  // says nothing. Nothing of this machine's LXD or systemd is asked.
  const dir = mkdtempSync(join(tmpdir(), 'nestctl-probe-addresses-'));
  const log = join(dir, 'asked');
  const INSTANCE = { name: 'c1', project: 'default', status: 'Running', profiles: [], config: {} };
  const STATE = { ...INSTANCE, state: { network: { eth0: { addresses: [{ family: 'inet', address: '10.0.3.7', scope: 'global' }] } } } };
  writeFileSync(join(dir, 'instances.json'), JSON.stringify([INSTANCE]));
  writeFileSync(join(dir, 'state.json'), JSON.stringify([STATE]));
  const stub = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  };
  stub(
    'lxc',
    `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
case "$2" in
  '/1.0/instances?recursion=1&all-projects=true') cat '${dir}/instances.json' ;;
  '${ADDRESSES_QUERY}') cat '${dir}/state.json' ;;
  /1.0) echo '{"environment":{"server_version":"5.0.2"}}' ;;
  *) echo '[]' ;;
esac
`,
  );
  stub('systemctl', '#!/bin/sh\nexit 1\n');

  async function probe(addresses: boolean): Promise<{ asked: string[]; out: string }> {
    writeFileSync(log, '');
    const argv = probeArgv(flavourInfo('debian'), { addresses }, PROBE_SCRIPT);
    const r = await runCommand(argv, { env: { PATH: `${dir}:${process.env.PATH}` } });
    expect(r.code, r.stderr).toBe(0);
    return { asked: readFileSync(log, 'utf8').split('\n').filter(Boolean), out: r.stdout };
  }

  it('without --addresses never asks for the instances with their state', async () => {
    const { asked, out } = await probe(false);
    expect(asked).toContain('query /1.0/instances?recursion=1&all-projects=true');
    expect(asked).not.toContain(`query ${ADDRESSES_QUERY}`);
    expect(facts(out)).not.toContain('addresses');
    const level = parseProbe('', out, PROBE_MARK, 'debian');
    expect(level.instances.map((i) => [i.name, i.ipv4])).toEqual([['c1', undefined]]);
  });

  it('with --addresses first reads them too, and the rest as without', async () => {
    const without = await probe(false);
    const { asked, out } = await probe(true);
    expect(asked.filter((q) => q !== `query ${ADDRESSES_QUERY}`)).toEqual(without.asked);
    expect(asked).toContain(`query ${ADDRESSES_QUERY}`);
    expect(facts(out).filter((f) => f !== 'addresses')).toEqual(facts(without.out));
    const level = parseProbe('', out, PROBE_MARK, 'debian');
    expect(level.instances.map((i) => [i.name, i.ipv4])).toEqual([['c1', ['10.0.3.7']]]);
  });
});

describe("ExecLevel's probe", () => {
  function recorder() {
    const calls: Array<readonly string[]> = [];
    const exec: Exec = async (argv): Promise<ExecResult> => {
      calls.push(argv);
      return { code: 0, stdout: `${PROBE_MARK} now 1 \n`, stderr: '' };
    };
    return { exec, calls };
  }
  /** The probe's arguments after its $0 (`sh -c SCRIPT probe …`), at whatever depth it ran. */
  const probeArgs = (argv: readonly string[]): readonly string[] => argv.slice(argv.indexOf(PROBE_SCRIPT) + 2);

  it('puts --addresses first only when asked, at the host and through lxc exec, named flavour or not', async () => {
    const { exec, calls } = recorder();
    const host = new ExecLevel(exec, '', {}, 'debian');
    await host.probe();
    await host.probe({ addresses: true });
    await host.child('c1', 'incus').probe({ addresses: true });
    await new ExecLevel(exec, '', {}, null).probe({ addresses: true });
    await new ExecLevel(exec, '', {}, null).probe();
    expect(calls.map(probeArgs).map((a) => a.slice(0, 3))).toEqual([
      ['lxc', 'lxd'],
      [ADDRESSES_ARG, 'lxc', 'lxd'],
      [ADDRESSES_ARG, 'incus', 'incus'],
      [ADDRESSES_ARG, '', ''],
      ['', '', 'debian'],
    ]);
    expect(calls[2]!.slice(0, 3)).toEqual(['lxc', 'exec', 'c1']);
  });

  it('a probe of an undecided level that wants the addresses does not share one in flight that does not', async () => {
    const { exec, calls } = recorder();
    const host = new ExecLevel(exec, '', {}, null);
    await Promise.all([host.probe(), host.probe(), host.probe({ addresses: true })]);
    expect(calls.map((a) => probeArgs(a)[0])).toEqual(['', ADDRESSES_ARG]);
  });
});

describe('in the simulator', () => {
  const m = manifest([node('c1', [node('c2', [node('c3')])])], { base: 500000 });

  /** A converged world, and a host whose every command (at any depth) is recorded. */
  async function converged() {
    const world = createSimWorld(defaultWorld(manifestImages(m)));
    const r = await planManifest(m, world.host(), OPTIONS);
    if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
    expect((await startApply(r.plan, world.host()).finished).failed).toEqual([]);
    const calls: Array<readonly string[]> = [];
    const machine = world.machine();
    const exec: Exec = (argv, options) => {
      calls.push(argv);
      return machine(argv, options);
    };
    return { host: () => new ExecLevel(exec, '', {}, null), calls };
  }
  const probes = (calls: Array<readonly string[]>) => calls.filter((a) => a.includes(PROBE_SCRIPT));
  /** A probe run with --addresses, or the query itself asked alone (the script's text holds it too). */
  const asksAddresses = (a: readonly string[]): boolean =>
    a.includes(PROBE_SCRIPT) ? a.slice(a.indexOf(PROBE_SCRIPT)).includes(ADDRESSES_ARG) : a.some((w) => w.includes(ADDRESSES_QUERY));
  const addresses = (tree: ObservedTree | null): Record<string, Array<string[] | undefined>> =>
    Object.fromEntries(
      Object.entries(tree?.levels ?? {}).map(([path, l]) => [path, l.kind === 'observed' ? l.level.instances.map((i) => i.ipv4) : []]),
    );

  it("plan, apply and destroy never read the addresses; status's observation does, at every level", async () => {
    const { host, calls } = await converged();
    // A change to apply: a stopped leaf.
    await host().child('c1', null).child('c2', null).stopInstance('c3');
    calls.length = 0;
    const planned = await planManifest(m, host(), OPTIONS);
    if (!planned.ok) throw new Error('refused');
    expect(planned.plan.steps.map((s) => s.kind)).toContain('start-instance');
    expect((await startApply(planned.plan, host()).finished).failed).toEqual([]);
    const destroy = await planManifest(m, host(), { ...OPTIONS, mode: 'destroy' });
    expect(destroy.ok).toBe(true);
    expect(probes(calls).length).toBeGreaterThanOrEqual(6);
    expect(calls.filter(asksAddresses)).toEqual([]);
    expect(Object.values(addresses(planned.tree)).flat()).toEqual([undefined, undefined, undefined]);

    calls.length = 0;
    const status = await planManifest(m, host(), { ...OPTIONS, addresses: true });
    expect(status.ok).toBe(true);
    expect(probes(calls).length).toBe(3);
    expect(probes(calls).every((a) => a.includes(ADDRESSES_ARG))).toBe(true);
    const seen = addresses(status.tree);
    expect(Object.keys(seen).sort()).toEqual(['', 'c1', 'c1/c2']);
    for (const ipv4 of Object.values(seen).flat()) expect(ipv4).toHaveLength(1);
    // The digest leaves the addresses out: status's plan is the one plan makes of the same tree.
    const again = await planManifest(m, host(), OPTIONS);
    if (!status.ok || !again.ok) throw new Error('refused');
    expect(status.plan).toEqual(again.plan);
  });
});
