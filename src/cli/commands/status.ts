// nestctl status FILE: the tree as it is, from one observation (the one plan makes), and what
// plan would change, computed from that same observation.

import { statusDocument, type StatusProblem } from '../../core/status/document.js';
import { planManifest } from '../../engine/plan-pipeline.js';
import type { Colours } from '../../render/colour.js';
import { renderStatusText } from '../../render/status-text.js';
import { rangeOf } from '../diagnostic-text.js';
import { EXIT_CHANGES, EXIT_OK } from '../exit.js';
import { loadManifestFile } from '../load.js';
import { type PlanFlags, pipelineOptions, planProblems } from '../planning.js';
import { openConnection } from '../connection.js';
import { printDiagnostic } from '../report.js';
import { printOut } from '../terminal.js';
import { TOOL } from '../version.js';
import { printWarnings } from './plan.js';

export type StatusFlags = Pick<
  PlanFlags,
  'simulate' | 'world' | 'state' | 'hostRestart' | 'parallel' | 'verbose' | 'json' | 'detailedExitcode'
>;

export async function statusCommand(file: string, flags: StatusFlags, c: Colours): Promise<number> {
  const loaded = await loadManifestFile(file);
  printWarnings(loaded, c, Boolean(flags.json));
  const connection = await openConnection(loaded.manifest, flags);
  // The one command that shows the instances' addresses, so the one that has the probes read them.
  const options = { ...pipelineOptions(loaded, connection, flags), addresses: true };
  const result = await planManifest(loaded.manifest, connection.hosts ?? connection.host, options);
  // A plan refused for the manifest's sake still leaves the observation to show; anything else
  // (the environment's problems, or no observation) is the command's error.
  const refused = !result.ok && result.tree !== null && result.problems.every((p) => p.fault === 'user');
  if (!result.ok && !refused) throw planProblems(loaded, result.problems);
  const trees = result.ok && result.trees ? result.trees : result.tree;
  if (trees === null) throw planProblems(loaded, result.ok ? [] : result.problems);
  const problems: StatusProblem[] = result.ok
    ? []
    : result.problems.map((d) => ({
        severity: d.severity,
        summary: d.message,
        detail: d.hint ?? '',
        range: rangeOf(d, loaded.manifest.file),
      }));
  const doc = statusDocument({
    tool: TOOL,
    manifest: loaded.manifest,
    simulated: connection.simulation !== null,
    trees,
    plan: result.ok ? result.plan : { problems },
  });
  if (flags.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else {
    if (connection.simulation) printOut(c.dim('(simulated: nothing on this machine is read or changed)\n\n'), c);
    printOut(renderStatusText(doc, c), c);
    if (!result.ok) for (const d of result.problems) printDiagnostic(d, { file: loaded.manifest.file, text: loaded.text }, c);
  }
  const changes = !doc.plan.ok || doc.plan.changes;
  return flags.detailedExitcode && changes ? EXIT_CHANGES : EXIT_OK;
}
