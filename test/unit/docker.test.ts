// Docker inside a container: the keys nestctl adds and why, shown in the plan.

import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/core/ids/allocate.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { ObservedTree } from '../../src/core/observed.js';
import type { Plan, Step } from '../../src/core/plan/model.js';
import { type PlanOptions, planTree } from '../../src/core/plan/planner.js';
import { colours } from '../../src/render/colour.js';
import { renderPlanText } from '../../src/render/plan-text.js';
import { instance, level, manifest, node } from './helpers/build.js';

const OPTS: PlanOptions = { hostRestart: null, tool: 'nestctl test', manifestSha256: 'x' };

function plan(m: Manifest, tree: ObservedTree): Plan {
  const a = allocate(m);
  if (!a.ok) throw new Error('allocation failed');
  const r = planTree(m, a.allocation, tree, OPTS);
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

const step = <K extends Step['kind']>(p: Plan, id: string): Extract<Step, { kind: K }> => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${p.steps.map((x) => x.id).join(', ')}`);
  return s as Extract<Step, { kind: K }>;
};

/** builder holds runner; runner runs Docker. */
function dockerTree(): Manifest {
  const m = manifest([node('builder', [node('runner')])], { base: 400000 });
  m.containers[0]!.containers[0]!.docker = true;
  return m;
}

const fresh: ObservedTree = { levels: { '': { kind: 'observed', level: level('') }, builder: { kind: 'absent', reason: 'new' } } };

describe('docker: the plan says why each implied key is there', () => {
  it('carries a reason for each Docker key and for the nesting of a container that holds containers (JSON)', () => {
    const p = plan(dockerTree(), fresh);
    expect(step<'create-instance'>(p, 'builder/runner:create-instance').implied).toEqual({
      'security.nesting': 'docker: true; Docker creates namespaces',
      'security.syscalls.intercept.mknod': 'docker: true; overlay2 whiteouts need mknod',
      'security.syscalls.intercept.setxattr': 'docker: true; overlay2 needs trusted.* xattrs',
    });
    expect(step<'create-instance'>(p, 'builder:create-instance').implied).toEqual({ 'security.nesting': 'it holds containers' });
  });

  it('shows the reason next to each key in the plan text', () => {
    const text = renderPlanText(plan(dockerTree(), fresh), colours(false));
    expect(text).toContain('+ security.syscalls.intercept.mknod = "true"  (docker: true; overlay2 whiteouts need mknod)');
    expect(text).toContain('+ security.syscalls.intercept.setxattr = "true"  (docker: true; overlay2 needs trusted.* xattrs)');
    expect(text).toContain('+ security.nesting = "true"  (it holds containers)');
  });

  it('gives reasons only for the implied keys an update sets, not for the manifest\'s own', () => {
    const m = manifest([node('web', [], { config: { 'limits.cpu': '2' } })], { base: 400000 });
    m.containers[0]!.docker = true;
    const marks = { 'user.nestctl.managed': 'true', 'user.nestctl.path': 'web' };
    const tree: ObservedTree = {
      levels: { '': { kind: 'observed', level: level('', { instances: [instance('web', { ...marks, 'limits.cpu': '1', 'security.nesting': 'true' })] }) } },
    };
    const p = plan(m, tree);
    const u = step<'update-config'>(p, 'web:update-config');
    expect(Object.keys(u.set).sort()).toEqual(['limits.cpu', 'security.syscalls.intercept.mknod', 'security.syscalls.intercept.setxattr']);
    expect(u.implied).toEqual({
      'security.syscalls.intercept.mknod': 'docker: true; overlay2 whiteouts need mknod',
      'security.syscalls.intercept.setxattr': 'docker: true; overlay2 needs trusted.* xattrs',
    });
    expect(renderPlanText(p, colours(false))).toContain('~ limits.cpu = "1" → "2"\n');
  });

  it('says both reasons when a container that holds containers also runs Docker', () => {
    const m = manifest([node('both', [node('inner')])], { base: 400000 });
    m.containers[0]!.docker = true;
    const p = plan(m, { levels: { '': { kind: 'observed', level: level('') } } });
    expect(step<'create-instance'>(p, 'both:create-instance').implied?.['security.nesting']).toBe('it holds containers; docker: true; Docker creates namespaces');
  });
});
