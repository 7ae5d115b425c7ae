// A simulated connection: the simulator's world for --simulate, --world and --state
// (cli/connection.ts loads this module only for such a run).

import {
  assumedByDefault,
  defaultWorld,
  describeWorldText,
  freshHostsWorld,
  imageProblems,
  manifestImages,
  manifestLxcUsers,
  parseWorld,
  WORLD_FILE_NOTE,
} from '../sim/index.js';
import { simHostsOf } from './sim-hosts.js';
import { createSimWorld } from './sim-world.js';
import { hostManifest, plansByHost } from '../core/manifest/hosts.js';
import { InputError } from '../core/errors.js';
import type { Manifest } from '../core/manifest/model.js';
import { writePrivateAtomically } from './out-file.js';
import type { Connection, ConnectionOptions } from './connection-types.js';
import { traceOf } from './trace.js';

export function simulated(
  manifest: Manifest,
  world: { text: string; file: string } | null,
  options: ConnectionOptions,
  state?: string,
): Connection {
  const desc = world
    ? parseWorld(world.text, world.file)
    : defaultWorld(manifestImages(manifest), manifest.host.flavour, manifestLxcUsers(manifest));
  const sim = createSimWorld(desc);
  const problems = world ? imageProblems(sim.state(), manifest) : [];
  if (problems.length > 0) throw new InputError(problems, { file: manifest.file });
  const save = state === undefined ? {} : { save: () => writePrivateAtomically('--state', state, describeWorldText(sim.state())) };
  return {
    host: sim.host(manifest.host.flavour, traceOf(options.verbose)),
    simulation: { world: world?.text ?? null },
    assumptions: world ? [] : assumedByDefault(manifest),
    ...save,
  };
}

/**
 * Each host a simulated machine: those `world` describes (this machine and its servers, by remote
 * name), or fresh ones (`freshHostsWorld`). With `state`, the whole world is saved there after an
 * apply. The first host's level is also the connection's `host`.
 */
export function simulatedHosts(
  manifest: Manifest,
  world: { text: string; file: string } | null,
  options: ConnectionOptions,
  state?: string,
): Connection {
  const sim = simHostsOf(manifest, world ? parseWorld(world.text, world.file) : freshHostsWorld(manifest), traceOf(options.verbose));
  const here = manifest.hosts.find((h) => h.place.kind === 'local');
  // A remote's images may come from this machine by relay: the planner says which are in neither store.
  const problems = world && here ? imageProblems(sim.local.state(), hostManifest(manifest, here)) : [];
  if (problems.length > 0) throw new InputError(problems, { file: manifest.file });
  // World files describe every machine, so their note is left out.
  const assumptions = world
    ? []
    : manifest.hosts.flatMap((h) =>
        assumedByDefault(hostManifest(manifest, h)).flatMap((line) => (line === WORLD_FILE_NOTE ? [] : [`host ${h.name}: ${line}`])),
      );
  const save = state === undefined ? {} : { save: () => writePrivateAtomically('--state', state, sim.describe()) };
  return {
    host: sim.hosts[0]!.connection.level,
    hosts: sim.hosts.map((h) => h.connection),
    simulation: { world: world?.text ?? null },
    assumptions,
    ...save,
  };
}

/** One machine, or several for a manifest of several hosts. */
export const simulatedIn = (
  manifest: Manifest,
  world: { text: string; file: string } | null,
  options: ConnectionOptions,
  state?: string,
): Connection => (plansByHost(manifest) ? simulatedHosts(manifest, world, options, state) : simulated(manifest, world, options, state));
