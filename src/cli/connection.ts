// Which LXD a command talks to: the real one on this machine (and each remote host's), or a
// simulated world.

import { lstat } from 'node:fs/promises';
import { plansByHost } from '../core/manifest/hosts.js';
import { ExecLevel } from '../adapters/lxd/level.js';
import { processExec } from '../adapters/process-exec.js';
import { EnvironmentError, NestctlError } from '../core/errors.js';
import type { Manifest } from '../core/manifest/model.js';
import type { Plan } from '../core/plan/model.js';
import type { Connection, ConnectionOptions } from './connection-types.js';
import { hostConnection } from './hosts.js';
import { checkOutFile } from './out-file.js';
import { readText } from './read.js';
import { traceOf } from './trace.js';

// The simulator is loaded only for a simulated run: a real one does not pay for it.
const sim = () => import('./sim-connection.js');

/** The state file's text, or null when it does not exist yet (checked as a place to write). */
async function readState(file: string): Promise<string | null> {
  await checkOutFile('--state', file);
  const exists = await lstat(file).then(
    () => true,
    (e: unknown) => ((e as NodeJS.ErrnoException).code === 'ENOENT' ? false : Promise.reject(e)),
  );
  return exists ? readText(file) : null;
}

/** Each host through the real client over this machine's processes (cli/hosts.ts). */
function realHosts(manifest: Manifest, options: ConnectionOptions): Connection {
  const trace = traceOf(options.verbose);
  const hosts = manifest.hosts.map((h) => hostConnection(h, processExec, trace));
  return { host: hosts[0]!.level, hosts, simulation: null, assumptions: [] };
}

/** The world --state continues (the state file when it exists, else --world's), or --world's. */
async function worldOf(options: ConnectionOptions): Promise<{ text: string; file: string } | null> {
  const state = options.state === undefined ? null : await readState(options.state);
  if (state !== null) return { text: state, file: options.state! };
  return options.world ? { text: await readText(options.world), file: options.world } : null;
}

export async function openConnection(manifest: Manifest, options: ConnectionOptions): Promise<Connection> {
  if (plansByHost(manifest)) {
    if (options.state !== undefined || options.world !== undefined)
      return (await sim()).simulatedHosts(manifest, await worldOf(options), options, options.state);
    return options.simulate ? (await sim()).simulatedHosts(manifest, null, options) : realHosts(manifest, options);
  }
  if (options.state !== undefined) {
    const state = await readState(options.state);
    // An existing state file is where the simulation stands; --world only seeds a new one.
    if (state !== null) return (await sim()).simulated(manifest, { text: state, file: options.state }, options, options.state);
    const world = options.world ? { text: await readText(options.world), file: options.world } : null;
    return (await sim()).simulated(manifest, world, options, options.state);
  }
  if (options.world) return (await sim()).simulated(manifest, { text: await readText(options.world), file: options.world }, options);
  if (options.simulate) return (await sim()).simulated(manifest, null, options);
  const trace = traceOf(options.verbose);
  return { host: new ExecLevel(processExec, '', trace ? { trace } : {}, manifest.host.flavour), simulation: null, assumptions: [] };
}

/**
 * The LXD a saved plan was computed against, and no other: a plan made for this machine is not
 * tried out in a simulation (that would apply it here), and a simulated one never touches this machine.
 */
export async function openPlanConnection(plan: Plan, manifest: Manifest, options: ConnectionOptions, file: string): Promise<Connection> {
  if (plansByHost(manifest) && plan.simulation === null) {
    if (options.simulate || options.world || options.state !== undefined)
      throw new NestctlError(
        'user',
        `${file} was made for the real hosts; --simulate, --world and --state do not apply to it`,
        `apply it without them, or plan again with --simulate: nestctl plan --simulate --out ${file} ...`,
      );
    return realHosts(manifest, options);
  }
  if (plan.simulation === null && (options.simulate || options.world || options.state !== undefined)) {
    throw new NestctlError(
      'user',
      `${file} was made for the real host; --simulate, --world and --state do not apply to it`,
      `apply it without --simulate, or plan again with --simulate: nestctl plan --simulate --out ${file} ...`,
    );
  }
  if (plan.simulation !== null && options.world) {
    throw new NestctlError(
      'user',
      `${file} carries the simulated world it was made in; --world does not apply to it`,
      `apply it without --world, or plan again: nestctl plan --world ${options.world} --out ${file} ...`,
    );
  }
  if (plan.simulation && options.state !== undefined) return continuedPlanConnection(plan.simulation, manifest, options, file);
  if (plan.simulation)
    return (await sim()).simulatedIn(
      manifest,
      plan.simulation.world === null ? null : { text: plan.simulation.world, file: '(world saved in the plan)' },
      options,
    );
  return openConnection(manifest, { verbose: options.verbose ?? false });
}

/** A simulated plan applied to a state file: only to the world it was planned against. */
async function continuedPlanConnection(
  simulation: NonNullable<Plan['simulation']>,
  manifest: Manifest,
  options: ConnectionOptions,
  file: string,
): Promise<Connection> {
  const state = options.state!;
  const now = await readState(state);
  if (now !== null && now !== simulation.world) {
    throw new EnvironmentError(
      `plan is stale: ${file} was not made against the simulated world now in ${state} (it changed since, or the plan was made without it)`,
      `run nestctl plan --state ${state} --out ${file} ... again`,
    );
  }
  return (await sim()).simulatedIn(
    manifest,
    simulation.world === null ? null : { text: simulation.world, file: '(world saved in the plan)' },
    options,
    state,
  );
}
