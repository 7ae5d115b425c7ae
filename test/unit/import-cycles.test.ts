// src/core has no import cycles: the planner is built from the level context and the concerns,
// and the envelope (assemble.ts) and the plan results (result.ts) import nothing of the planner.
// Nor has src/engine: the pipeline's types (plan-types.ts) are apart from the pipeline, so the
// several-hosts planner (plan-hosts.ts) does not import back the pipeline that calls it.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { importsOf, sourceFiles } from './helpers/imports.js';

/** Every cycle of the graph once, each as the files along it, from where the search entered it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    const targets = importsOf(file, readFileSync(join(ROOT, file), 'utf8'))
      .filter((i) => i.specifier.startsWith('.') && i.target.endsWith('.js'))
      .map((i) => i.target.replace(/\.js$/, '.ts'));
    graph.set(file, targets);
  }
  return graph;
}

describe('import cycles', () => {
  it('src/ has none, across every layer', () => {
    const graph = importGraph('src');
    // The graph spans the layers (a regex that matched nothing would find no cycle either).
    expect(graph.get('src/core/plan/planner.ts')).toContain('src/core/plan/level-context.ts');
    expect(graph.get('src/engine/plan-hosts.ts')).toContain('src/engine/plan-types.ts');
    expect(graph.get('src/cli/sim-connection.ts')).toContain('src/cli/sim-world.ts');
    expect(graph.get('src/sim/index.ts')).toContain('src/sim/sim-world.ts');
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('the search finds a cycle, and only the cycle', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', []],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
