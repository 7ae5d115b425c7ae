// A problem found in user input, with where it is and what would be right.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  message: string;
  /** What would be right, when we can say. */
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  const hint = d.hint ? `\n  ${d.hint}` : '';
  return `${where}: ${d.severity}: ${d.message}${hint}`;
}
