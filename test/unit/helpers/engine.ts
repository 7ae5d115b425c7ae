// Load a manifest file and plan it through the whole engine, for tests against the simulator.

import { readFileSync } from 'node:fs';
import { loadManifest } from '../../../src/core/manifest/load.js';
import type { Manifest } from '../../../src/core/manifest/model.js';
import type { Plan } from '../../../src/core/plan/model.js';
import { planManifest } from '../../../src/engine/plan-pipeline.js';
import type { LxdLevel } from '../../../src/ports/lxd.js';

export interface Loaded {
  manifest: Manifest;
  text: string;
}

/** The manifest in `file`, its text first passed through `edit`; throws on any diagnostic. */
export function loadFile(file: string, edit: (text: string) => string = (t) => t): Loaded {
  const text = edit(readFileSync(file, 'utf8'));
  const r = loadManifest(text, file);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

/** A manifest given as its lines, loaded as if from `file`; throws on any diagnostic. */
export function loadLines(file: string, ...lines: string[]): Loaded {
  const text = `${lines.join('\n')}\n`;
  const r = loadManifest(text, file);
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return { manifest: r.manifest, text };
}

/** The plan for `m` against `host`; throws when the planner refuses. */
export async function planOn(host: LxdLevel, m: Loaded): Promise<Plan> {
  const r = await planManifest(m.manifest, host, { hostRestart: null, tool: 'test', manifestText: m.text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}
