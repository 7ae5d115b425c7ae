// Manifest file → Manifest, or an InputError carrying every diagnostic (the same checks as validate).

import type { Diagnostic } from '../core/diagnostics.js';
import { InputError, NestctlError } from '../core/errors.js';
import { checkManifest } from '../core/manifest/check.js';
import type { Manifest } from '../core/manifest/model.js';
import { looksLikeSavedPlan } from '../core/plan/codec.js';
import { MANIFEST_MAX_BYTES, readText } from './read.js';
import { readSources } from './sources.js';

export interface LoadedManifest {
  manifest: Manifest;
  text: string;
  warnings: Diagnostic[];
}

export async function loadManifestFile(file: string): Promise<LoadedManifest> {
  const text = await readText(file, MANIFEST_MAX_BYTES);
  refuseSavedPlan(file, text);
  const result = checkManifest(text, file);
  if (!result.ok) throw new InputError(result.diagnostics, { file, text });
  const filled = await readSources(result.manifest);
  if (!filled.ok) throw new InputError([...result.warnings, ...filled.diagnostics], { file, text });
  return { manifest: filled.manifest, text, warnings: result.warnings };
}

/** For commands that take a manifest only. */
export function refuseSavedPlan(file: string, text: string): void {
  if (looksLikeSavedPlan(text)) {
    throw new NestctlError('user', `${file} is a saved plan, not a manifest`, `use nestctl apply ${file} or nestctl show ${file}`);
  }
}
