// A diagnostic's source position, for tests that expect one; a diagnostic without one fails them.

import { type Diagnostic, pathOf } from '../../../src/core/diagnostics.js';

export function placed(d: Diagnostic): { file: string; line: number; column: number } {
  if (d.where.kind !== 'source') throw new Error(`no source position: ${d.message}`);
  return d.where;
}

/** `line:column` of a placed diagnostic. */
export const lineCol = (d: Diagnostic): string => `${placed(d).line}:${placed(d).column}`;

/** The node path a diagnostic names, or undefined. */
export const pathOfProblem = (d: Diagnostic): string | undefined => pathOf(d.where);
