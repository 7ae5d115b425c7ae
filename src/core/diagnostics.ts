// The one shape of a problem, from the manifest checks and the allocator through the planner,
// the plan codec and the world parser to the CLI, which alone formats it (src/cli/diagnostic-text.ts).

export type Severity = 'error' | 'warning';

/** Who must act: the user (fix the input), the environment (the machine or a daemon), or us (a bug). */
export type Fault = 'user' | 'environment' | 'bug';

/**
 * Where a problem is: a place in a file (and, for a manifest node, that node's path), only a
 * node or level path ("" = host) when no line is known, or nowhere more precise than the input.
 */
export type Where =
  | { kind: 'source'; file: string; line: number; column: number; path?: string }
  | { kind: 'node'; path: string }
  | { kind: 'none' };

export interface Diagnostic {
  severity: Severity;
  fault: Fault;
  message: string;
  /** What would be right, when we can say. */
  hint?: string;
  where: Where;
}

/** A place in a file; line and col are 1-based, as SourcePos. */
export const sourceAt = (file: string, pos: { line: number; col: number }): Where => ({
  kind: 'source',
  file,
  line: pos.line,
  column: pos.col,
});

/** A manifest node ("" = host): at its line when the position is known, else only by path. */
export const nodeAt = (file: string, path: string, pos?: { line: number; col: number }): Where =>
  pos ? { kind: 'source', file, line: pos.line, column: pos.col, path } : { kind: 'node', path };

/** The node or level path a problem is about, when it names one. */
export const pathOf = (where: Where): string | undefined => (where.kind === 'none' ? undefined : where.path);
