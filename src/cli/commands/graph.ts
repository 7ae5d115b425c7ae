// nestctl graph FILE: the plan's steps and the order apply runs them in, as Graphviz DOT.

import type { Colours } from '../../render/colour.js';
import { renderPlanGraph } from '../../render/plan-graph.js';
import { EXIT_OK } from '../exit.js';
import { loadManifestFile } from '../load.js';
import { type PlanFlags, computePlan } from '../planning.js';
import { openConnection } from '../connection.js';
import { printWarnings } from './plan.js';
import { printOut } from '../terminal.js';

export async function graphCommand(file: string, flags: PlanFlags, c: Colours): Promise<number> {
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c, false);
  const connection = await openConnection(loaded.manifest, flags);
  const plan = await computePlan(loaded, connection, flags);
  printOut(renderPlanGraph(plan), c);
  return EXIT_OK;
}
