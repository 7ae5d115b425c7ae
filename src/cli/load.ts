// Manifest file → Manifest, or an InputError carrying every diagnostic (the same checks as validate).

import type { Diagnostic } from '../core/diagnostics.js';
import { InputError } from '../core/errors.js';
import { checkManifest } from '../core/manifest/check.js';
import type { Manifest } from '../core/manifest/model.js';
import { MANIFEST_MAX_BYTES, readText } from './io.js';
import { refuseSavedPlan } from './plan-file.js';
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
