// nestctl show PLAN.json: a saved plan, rendered as `plan` renders it (checked as apply checks it,
// but not planned again: show touches no LXD).

import { NestctlError } from '../../core/errors.js';
import { encodePlan } from '../../core/plan/codec.js';
import type { Colours } from '../../render/colour.js';
import { renderPlanText } from '../../render/plan-text.js';
import { EXIT_OK } from '../exit.js';
import { readPlanIfAny } from '../plan-file.js';
import { printOut } from '../terminal.js';

export async function showCommand(file: string, flags: { json?: boolean; verbose?: boolean }, c: Colours): Promise<number> {
  const plan = await readPlanIfAny(file);
  if (!plan) throw new NestctlError('user', `${file} is not a saved plan`, 'save one with nestctl plan FILE --out PLAN.json');
  if (flags.json) process.stdout.write(encodePlan(plan));
  else printOut(renderPlanText(plan, c, { verbose: flags.verbose ?? false }), c);
  return EXIT_OK;
}
