// nestctl validate FILE: every check plan makes before it looks at a host (schema, names,
// config keys, id allocation), through the same pipeline, without touching a host.

import type { Diagnostic } from '../../core/diagnostics.js';
import { checkManifest } from '../../core/manifest/check.js';
import type { Colours } from '../../render/colour.js';
import { InputError, NestctlError } from '../../core/errors.js';
import { rangeOf } from '../diagnostic-text.js';
import { EXIT_ERROR, EXIT_OK } from '../exit.js';
import { MANIFEST_MAX_BYTES, readText } from '../read.js';
import { printDiagnostic } from '../report.js';
import { refuseSavedPlan } from '../load.js';
import { readSources } from '../sources.js';
import { printOut } from '../terminal.js';

export async function validateCommand(file: string, opts: { json?: boolean }, c: Colours): Promise<number> {
  const text = await readText(file, MANIFEST_MAX_BYTES);
  refuseSavedPlan(file, text);
  const checked = checkManifest(text, file);
  const filled = checked.ok ? await readSources(checked.manifest) : null;
  const diagnostics: Diagnostic[] = checked.ok
    ? [...checked.warnings, ...(filled && !filled.ok ? filled.diagnostics : [])]
    : checked.diagnostics;
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (opts.json) printValidateJson(diagnostics, file);
  else {
    for (const d of diagnostics) printDiagnostic(d, { file, text }, c);
    if (errors.length === 0) printOut(c.green(`${file}: the manifest is valid.\n`), c);
  }
  return errors.length === 0 ? EXIT_OK : EXIT_ERROR;
}

/** The validate --json document (schemas/validate.schema.json). */
export function printValidateJson(diagnostics: Diagnostic[], file: string): void {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const out = {
    valid: errors.length === 0,
    error_count: errors.length,
    warning_count: diagnostics.length - errors.length,
    diagnostics: diagnostics.map((d) => ({ severity: d.severity, summary: d.message, detail: d.hint ?? '', range: rangeOf(d, file) })),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** Any failure of validate as diagnostics; one without a position points at the file's start. */
export function errorDiagnostics(e: unknown): Diagnostic[] {
  if (e instanceof InputError) return e.diagnostics;
  const message = e instanceof Error ? e.message : String(e);
  const hint = e instanceof NestctlError ? e.hint : undefined;
  return [
    { severity: 'error', fault: e instanceof NestctlError ? e.fault : 'bug', where: { kind: 'none' }, message, ...(hint ? { hint } : {}) },
  ];
}
