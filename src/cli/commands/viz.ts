// nestctl viz FILE: the id ranges the plan gives every level.

import type { Colours } from '../../render/colour.js';
import { renderViz } from '../../render/viz.js';
import { renderVizSvg } from '../../render/viz-svg.js';
import { EXIT_OK } from '../exit.js';
import { loadManifestFile } from '../load.js';
import { type PlanFlags, computePlan } from '../planning.js';
import { openConnection } from '../connection.js';
import { printWarnings } from './plan.js';
import { printOut } from '../terminal.js';

export interface VizFlags extends PlanFlags {
  format?: 'text' | 'svg';
}

export async function vizCommand(file: string, flags: VizFlags, c: Colours): Promise<number> {
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c, false);
  const connection = await openConnection(loaded.manifest, flags);
  const plan = await computePlan(loaded, connection, flags);
  if (flags.format === 'svg') process.stdout.write(renderVizSvg(plan));
  else printOut(renderViz(plan, c), c);
  return EXIT_OK;
}
