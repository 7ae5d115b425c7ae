// The one check pipeline: manifest text → Manifest and its id allocation, or every problem at
// file:line:col. `validate`, `plan` and `apply` all load through here, and the planner allocates
// with the same allocate(), so validate accepts exactly the manifests plan does before it
// looks at a host.

import type { Diagnostic } from '../diagnostics.js';
import { type Allocation, allocate } from '../ids/allocate.js';
import { loadManifest } from './load.js';
import type { Manifest } from './model.js';

export type CheckResult =
  | { ok: true; manifest: Manifest; allocation: Allocation; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

export function checkManifest(text: string, file: string): CheckResult {
  const loaded = loadManifest(text, file);
  if (!loaded.ok) return loaded;
  const alloc = allocate(loaded.manifest);
  if (alloc.ok) return { ok: true, manifest: loaded.manifest, allocation: alloc.allocation, warnings: loaded.warnings };
  return { ok: false, diagnostics: [...loaded.warnings, ...alloc.problems] };
}
