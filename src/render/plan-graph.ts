// The plan's step graph in Graphviz DOT (nestctl graph), as `terraform graph` draws one: a node
// per step labelled as the plan text titles it, an edge for each of the plan's own dependencies
// (Step.dependsOn, what apply waits for), a cluster per level and a legend. Computes nothing the
// plan does not hold; the same plan gives the same text.

import type { Plan, Step } from '../core/plan/model.js';
import { levelLabel } from '../core/paths.js';
import { stepSymbol, stepTitle } from './plan-text.js';
import { visible } from './visible.js';

export type GraphAction = 'create' | 'update' | 'delete' | 'replace' | 'restart';

const RESTARTS: ReadonlySet<Step['kind']> = new Set(['restart-daemon', 'restart-instance', 'restart-service']);

/** What a step does, for its node's shape and colour. */
export function graphAction(step: Step): GraphAction {
  if (RESTARTS.has(step.kind)) return 'restart';
  switch (stepSymbol(step)) {
    case '+':
      return 'create';
    case '-':
      return 'delete';
    case '-/+':
      return 'replace';
    case '~':
      return 'update';
  }
}

const STYLE: Record<GraphAction, { shape: string; fill: string; legend: string }> = {
  create: { shape: 'box', fill: '#d9f2d9', legend: '+ create' },
  update: { shape: 'box', fill: '#fff2cc', legend: '~ update (in place)' },
  delete: { shape: 'octagon', fill: '#f8d7da', legend: '- delete' },
  replace: { shape: 'doubleoctagon', fill: '#f8d7da', legend: '-/+ replace (delete, then create)' },
  restart: { shape: 'hexagon', fill: '#dde8f7', legend: '~ restart (a daemon, a container or a service)' },
};

/** A DOT double-quoted string: only `"` and `\` need escaping once the text is one visible line. */
export const dotString = (text: string): string => `"${visible(text).replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;

const nodeLine = (id: string, label: string, action: GraphAction, indent: string): string =>
  `${indent}${dotString(id)} [label=${dotString(label)}, shape=${STYLE[action].shape}, fillcolor=${dotString(STYLE[action].fill)}];`;

/** The level a step belongs to, with its host in a plan of several hosts. */
const clusterKey = (step: Step): string => (step.host === undefined ? levelLabel(step.level) : `[${step.host}] ${levelLabel(step.level)}`);

export function renderPlanGraph(plan: Plan): string {
  const ids = new Set(plan.steps.map((s) => s.id));
  const clusters = new Map<string, Step[]>();
  for (const step of plan.steps) {
    const key = clusterKey(step);
    clusters.set(key, [...(clusters.get(key) ?? []), step]);
  }
  const out = [
    'digraph nestctl {',
    `  label=${dotString(`nestctl ${plan.mode}: ${plan.manifest.file}`)};`,
    '  labelloc="t";',
    '  rankdir="TB";',
    '  compound=true;',
    '  node [style="filled", fontname="sans-serif", fontsize=10];',
    '  edge [fontname="sans-serif", fontsize=9];',
  ];
  [...clusters].forEach(([label, steps], i) => {
    out.push('', `  subgraph cluster_level_${i} {`, `    label=${dotString(label)};`, '    style="rounded";');
    for (const step of steps) out.push(nodeLine(step.id, `${stepSymbol(step)} ${stepTitle(step, plan)}`, graphAction(step), '    '));
    out.push('  }');
  });
  const edges = plan.steps.flatMap((s) => s.dependsOn.filter((d) => ids.has(d)).map((d) => `  ${dotString(d)} -> ${dotString(s.id)};`));
  if (edges.length > 0) out.push('', ...edges);
  out.push('', '  subgraph cluster_legend {', '    label="legend";', '    style="dashed";');
  for (const action of Object.keys(STYLE) as GraphAction[]) out.push(nodeLine(`legend:${action}`, STYLE[action].legend, action, '    '));
  out.push('    "legend:edge" [label="A -> B: B starts when A is done", shape=plaintext, style=""];', '  }', '}', '');
  return out.join('\n');
}
