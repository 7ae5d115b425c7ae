import { describe, expect, it } from 'vitest';
import { type Allocation, allocate } from '../../src/core/ids/allocate.js';
import type { Manifest } from '../../src/core/manifest/model.js';
import type { ObservedTree } from '../../src/core/observed.js';
import { restartSteps } from '../../src/core/plan/concerns/restart.js';
import { type LevelContext, type PlanInput, levelContext } from '../../src/core/plan/level-context.js';
import { level, manifest, node } from './helpers/build.js';

function allocation(m: Manifest): Allocation {
  const a = allocate(m);
  if (!a.ok) throw new Error('allocation failed');
  return a.allocation;
}

function context(input: PlanInput): LevelContext {
  const built = levelContext(input, null);
  if (!built.ok) throw new Error(built.problems.map((p) => p.message).join('\n'));
  return built.ctx;
}

const hostOnly: ObservedTree = { levels: { '': { kind: 'observed', level: level('') } } };

describe('LevelContext', () => {
  // a is shared, b and d isolated with different sizes: a pairing by position would give
  // a spec another child's slice.
  const m = manifest(
    [node('a', [node('x')]), node('b', [], { isolated: true, size: 131072 }), node('d', [], { isolated: true, size: 65536 })],
    { base: 500000 },
  );

  it('pairs each child spec with its allocation by path, whatever order the allocation lists them in', () => {
    const a = allocation(m);
    const reordered: Allocation = { ...a, nodes: [...a.nodes].reverse() };
    const ctx = context({ manifest: m, allocation: reordered, tree: hostOnly, options: { hostRestart: null } });
    expect(ctx.children.map((c) => [c.spec.path, c.alloc.path, c.alloc.slice?.size ?? null])).toEqual([
      ['a', 'a', null],
      ['b', 'b', 131072],
      ['d', 'd', 65536],
    ]);
    expect(ctx.children.map((c) => c.map.size)).toEqual([ctx.daemonRange.size, 131072, 65536]);
  });

  it('builds a child level from its parent: ancestors, entry steps, its own subnet and the flavour the manifest gives it', () => {
    const input: PlanInput = { manifest: m, allocation: allocation(m), tree: hostOnly, options: { hostRestart: null } };
    const host = context(input);
    const child = levelContext(input, { ctx: host, child: host.children[0]!, entryDeps: ['a:start-instance'], grows: false });
    if (!child.ok) throw new Error('child context refused');
    expect(child.ctx.path).toBe('a');
    expect(child.ctx.obs).toBeNull();
    expect(child.ctx.unseenWhy).toBe('a is new');
    expect(child.ctx.flavour).toBe('debian');
    expect(child.ctx.entryDeps).toEqual(['a:start-instance']);
    expect(child.ctx.ancestors).toEqual([{ path: '', obs: host.obs, subnet: '10.66.0.1/24' }]);
    expect(child.ctx.subnet).toBe('10.77.1.1/24');
    expect(child.ctx.ownSize).toBe(host.children[0]!.map.size);
  });

  it('refuses a child level that could not be looked at, naming it', () => {
    const tree: ObservedTree = { levels: { ...hostOnly.levels, a: { kind: 'unseen', reason: 'no sh' } } };
    const input: PlanInput = { manifest: m, allocation: allocation(m), tree, options: { hostRestart: null } };
    const host = context(input);
    const child = levelContext(input, { ctx: host, child: host.children[0]!, entryDeps: [], grows: false });
    expect(child.ok).toBe(false);
    if (!child.ok) expect(child.problems[0]?.message).toBe('cannot look inside a: no sh');
  });
});

describe('restart concern', () => {
  it('follows exactly the subid writes it is handed, and plans nothing for a level that needs no restart', () => {
    const m = manifest([node('a')], { base: 100000 });
    const ctx = context({ manifest: m, allocation: allocation(m), tree: hostOnly, options: { hostRestart: null } });
    expect(restartSteps(ctx, []).steps).toEqual([]);
    const after = restartSteps(ctx, ['host:write-subid:subuid']);
    expect(after.steps.map((s) => [s.id, s.dependsOn])).toEqual([['host:restart-daemon', ['host:write-subid:subuid']]]);
  });
});
