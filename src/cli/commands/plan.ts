// nestctl plan FILE: observe, allocate, plan, show.

import { encodePlan } from '../../core/plan/codec.js';
import { daemonName } from '../../core/flavour/index.js';
import { type Plan, flavourAt, isEmptyPlan } from '../../core/plan/model.js';
import type { Colours } from '../../render/colour.js';
import { EXIT_CHANGES, EXIT_OK } from '../exit.js';
import { printDiagnostic } from '../report.js';
import { checkOutFile, writePrivateAtomically } from '../out-file.js';
import { type LoadedManifest, loadManifestFile } from '../load.js';
import { type PlanFlags, computePlan } from '../planning.js';
import { openConnection } from '../connection.js';
import type { Connection } from '../connection-types.js';
import { printOut } from '../terminal.js';

export function printWarnings(loaded: LoadedManifest, c: Colours, json: boolean): void {
  if (json) return;
  for (const w of loaded.warnings) printDiagnostic(w, { file: loaded.manifest.file, text: loaded.text }, c);
}

export function simulatedDaemon(plan: Plan): string {
  const flavour = flavourAt(plan, '');
  return flavour ? daemonName(flavour) : 'daemon';
}

/**
 * Above a simulated plan: that it is one, naming the simulated host's daemon (the plan's host
 * flavour), and what the simulation took on trust.
 */
export function simulatedNote(connection: Connection, plan: Plan, c: Colours): string {
  if (!connection.simulation) return '';
  const banner = `(simulated ${simulatedDaemon(plan)}: nothing on this machine is read or changed)`;
  const assumed = (connection.assumptions ?? []).map((l) => `${l}\n`).join('');
  return c.dim(`${banner}\n${assumed}\n`);
}

export async function planCommand(file: string, flags: PlanFlags, c: Colours): Promise<number> {
  if (flags.out !== undefined) await checkOutFile('--out', flags.out);
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c, Boolean(flags.json));
  const connection = await openConnection(loaded.manifest, flags);
  // Loaded while the host answers its probes.
  const rendering = import('../../render/plan-text.js');
  rendering.catch(() => undefined);
  const plan = await computePlan(loaded, connection, flags);
  const { renderPlanText } = await rendering;
  if (flags.out !== undefined) await writePrivateAtomically('--out', flags.out, encodePlan(plan));
  if (flags.json) process.stdout.write(encodePlan(plan));
  else {
    printOut(simulatedNote(connection, plan, c), c);
    printOut(renderPlanText(plan, c, { verbose: flags.verbose ?? false }), c);
    if (flags.out) printOut(`\nSaved the plan to ${flags.out}. To perform exactly these actions, run: nestctl apply ${flags.out}\n`, c);
  }
  return flags.detailedExitcode && !isEmptyPlan(plan) ? EXIT_CHANGES : EXIT_OK;
}
