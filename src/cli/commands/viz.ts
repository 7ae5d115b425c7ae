// nestctl viz FILE: the id ranges the plan gives every level.

import type { Colours } from '../../render/colour.js';
import { renderViz } from '../../render/viz.js';
import { EXIT_OK } from '../io.js';
import { loadManifestFile } from '../load.js';
import { openTarget } from '../target.js';
import { type PlanFlags, computePlan, printWarnings } from './plan.js';

export async function vizCommand(file: string, flags: PlanFlags, c: Colours): Promise<number> {
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c, false);
  const target = await openTarget(loaded.manifest, flags);
  const plan = await computePlan(loaded, target, flags);
  process.stdout.write(renderViz(plan, c));
  return EXIT_OK;
}
