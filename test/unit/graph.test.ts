// nestctl graph: the DOT text read back as a graph. Every node an edge names is declared, the
// edges are exactly the plan's dependencies (what apply waits for), there is no cycle, every
// level has its cluster, and outside text cannot break out of a label.

import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { dotString, graphAction, renderPlanGraph } from '../../src/render/plan-graph.js';
import { ROOT, nestctl } from './helpers/cli.js';

interface ParsedDot {
  nodes: Map<string, { label: string; shape: string; cluster: string | null }>;
  edges: Array<[string, string]>;
  clusters: Map<string, string>;
}

const STRING = /"((?:[^"\\]|\\.)*)"/.source;
const undot = (s: string): string => s.replace(/\\(.)/g, '$1');

/** The statements renderPlanGraph writes, one a line; anything else is a failure. */
function parseDot(dot: string): ParsedDot {
  const lines = dot.split('\n');
  expect(lines[0]).toBe('digraph nestctl {');
  expect(lines.at(-2)).toBe('}');
  const nodes: ParsedDot['nodes'] = new Map();
  const edges: ParsedDot['edges'] = [];
  const clusters = new Map<string, string>();
  let cluster: string | null = null;
  for (const line of lines.slice(1, -2)) {
    const open = /^ {2}subgraph (cluster_\w+) \{$/.exec(line);
    const node = new RegExp(`^ {4}${STRING} \\[label=${STRING}, shape=(\\w+), (?:fillcolor=${STRING}|style="")\\];$`).exec(line);
    const edge = new RegExp(`^ {2}${STRING} -> ${STRING};$`).exec(line);
    const label = new RegExp(`^ {2,4}label=${STRING};$`).exec(line);
    if (open) cluster = open[1]!;
    else if (line === '  }') cluster = null;
    else if (node) {
      expect(nodes.has(undot(node[1]!)), `declared twice: ${node[1]}`).toBe(false);
      nodes.set(undot(node[1]!), { label: undot(node[2]!), shape: node[3]!, cluster });
    } else if (edge) edges.push([undot(edge[1]!), undot(edge[2]!)]);
    else if (label && cluster) clusters.set(cluster, undot(label[1]!));
    else expect(line, 'a line parseDot does not know').toMatch(/^$|^ {2,4}(label|labelloc|rankdir|compound|style|node|edge)\b/);
  }
  return { nodes, edges, clusters };
}

function hasCycle(nodes: Iterable<string>, edges: ReadonlyArray<[string, string]>): boolean {
  const indegree = new Map([...nodes].map((n) => [n, 0]));
  for (const [, to] of edges) indegree.set(to, (indegree.get(to) ?? 0) + 1);
  const ready = [...indegree].filter(([, d]) => d === 0).map(([n]) => n);
  let seen = 0;
  while (ready.length > 0) {
    const n = ready.pop()!;
    seen++;
    for (const [from, to] of edges)
      if (from === n) {
        indegree.set(to, indegree.get(to)! - 1);
        if (indegree.get(to) === 0) ready.push(to);
      }
  }
  return seen !== indegree.size;
}

const GOLDEN = join(ROOT, 'test/unit/golden');
const PLANS = readdirSync(GOLDEN).filter((f) => f.startsWith('plan-json.') && f.endsWith('.json'));
const planOf = (file: string): Plan => JSON.parse(readFileSync(join(GOLDEN, file), 'utf8')) as Plan;

describe('renderPlanGraph', () => {
  it.each(PLANS)('%s: a node per step, the edges are its dependsOn, no cycle, a cluster per level', (file) => {
    const plan = planOf(file);
    const g = parseDot(renderPlanGraph(plan));
    const steps = [...g.nodes].filter(([id]) => !id.startsWith('legend:'));
    expect(steps.map(([id]) => id).sort()).toEqual(plan.steps.map((s) => s.id).sort());
    for (const [from, to] of g.edges) {
      expect(g.nodes.has(from), from).toBe(true);
      expect(g.nodes.has(to), to).toBe(true);
    }
    expect(g.edges.sort()).toEqual(plan.steps.flatMap((s) => s.dependsOn.map((d): [string, string] => [d, s.id])).sort());
    expect(hasCycle(g.nodes.keys(), g.edges)).toBe(false);
    // The steps of one level share a cluster, and no other level's.
    const clusterOf = new Map<string, string>();
    for (const s of plan.steps) {
      const c = g.nodes.get(s.id)!.cluster!;
      expect(c).toMatch(/^cluster_level_\d+$/);
      const level = `${s.host ?? ''}|${s.level}`;
      expect(clusterOf.get(level) ?? c).toBe(c);
      clusterOf.set(level, c);
    }
    expect(new Set(clusterOf.values()).size).toBe(clusterOf.size);
  });

  it('finds the cycle check able to fail', () => {
    expect(
      hasCycle(
        ['a', 'b'],
        [
          ['a', 'b'],
          ['b', 'a'],
        ],
      ),
    ).toBe(true);
  });

  it('has a legend node for every action, with the shape its steps get', () => {
    const plan = planOf('plan-json.examples.seed.json');
    const g = parseDot(renderPlanGraph(plan));
    for (const action of ['create', 'update', 'delete', 'replace', 'restart']) {
      expect(g.nodes.get(`legend:${action}`)?.cluster).toBe('cluster_legend');
    }
    for (const s of plan.steps) expect(g.nodes.get(s.id)!.shape).toBe(g.nodes.get(`legend:${graphAction(s)}`)!.shape);
    expect(graphAction(plan.steps.find((s) => s.kind === 'restart-daemon')!)).toBe('restart');
    expect(graphAction(plan.steps.find((s) => s.kind === 'create-instance')!)).toBe('create');
  });

  it('labels a step as the plan text titles it, with outside text escaped and made visible', () => {
    const plan = planOf('plan-json.examples.seed.json');
    const create = plan.steps.find((s): s is Extract<Step, { kind: 'create-instance' }> => s.kind === 'create-instance')!;
    create.image = 'evil"]; x -> y; "\\\x1b[2J\u202e';
    const dot = renderPlanGraph(plan);
    const g = parseDot(dot);
    expect(g.nodes.get(create.id)!.label).toBe(`+ ${create.path}: create from evil"]; x -> y; "\\\\x1b[2J\\u202e`);
    expect(dot).not.toMatch(/[\x1b\u202e]/);
    expect(g.edges.some(([a]) => a === 'x')).toBe(false);
  });

  it('escapes DOT strings', () => {
    expect(dotString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\\\x0ad"');
  });

  it('gives the same text for the same plan', () => {
    const plan = planOf('plan-json.examples.isolated.json');
    expect(renderPlanGraph(plan)).toBe(renderPlanGraph(structuredClone(plan)));
  });
});

describe('nestctl graph', () => {
  it('takes the planning options: --target cuts the graph as it cuts the plan', async () => {
    const [whole, target] = await Promise.all([
      nestctl(['graph', '--simulate', 'examples/isolated.yaml']),
      nestctl(['graph', '--simulate', '--target', 'ci/tenant-a', 'examples/isolated.yaml']),
    ]);
    expect([whole.code, target.code, target.stderr]).toEqual([0, 0, '']);
    const all = parseDot(whole.stdout);
    const cut = parseDot(target.stdout);
    expect(cut.nodes.size).toBeLessThan(all.nodes.size);
    expect([...cut.nodes.keys()].some((id) => id.startsWith('ci/tenant-b'))).toBe(false);
    expect([...cut.nodes.keys()].some((id) => id.startsWith('ci/tenant-a'))).toBe(true);
  });

  it('refuses a manifest that does not validate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-graph-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    imgae: busybox\n');
    const r = await nestctl(['graph', '--simulate', bad]);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toContain(`${bad}:4:5: error: unknown key "imgae"`);
  });
});
