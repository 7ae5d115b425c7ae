// --state FILE (a simulation continued across commands) and what a simulation assumes.

import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nestctl } from './helpers/cli.js';

const SEED = 'examples/seed.yaml';
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-state-'));
const WORLD = 'host:\n  lxd: {flavour: debian, initialised: true}\n  images:\n    - {alias: nest, lxd: true}\n    - {alias: busybox}\n';

describe('--state FILE', () => {
  it('a plan does not write the state; an apply writes it (0600), and the next plan continues from it', async () => {
    const state = join(tmp, 'a.yaml');
    expect((await nestctl(['plan', '--state', state, SEED])).code).toBe(0);
    expect(existsSync(state)).toBe(false);
    expect((await nestctl(['apply', '--auto-approve', '--state', state, SEED])).code).toBe(0);
    expect(statSync(state).mode & 0o777).toBe(0o600);
    const again = await nestctl(['plan', '--detailed-exitcode', '--state', state, SEED]);
    expect(again.stdout).toContain('No changes.');
    expect(again.code).toBe(0);
  });

  it('an apply that fails leaves the state file as it was', async () => {
    const state = join(tmp, 'fail.yaml');
    const world = join(tmp, 'no-init.yaml');
    // A nesting image that cannot run anything inside: the first exec in c1 fails.
    writeFileSync(
      world,
      'host:\n  lxd: {flavour: debian, initialised: true}\n  images:\n    - {alias: nest, lxd: true, shell: false}\n    - {alias: busybox}\n',
    );
    const r = await nestctl(['apply', '--auto-approve', '--world', world, '--state', state, SEED]);
    expect(r.code).toBe(1);
    expect(existsSync(state)).toBe(false);
  });

  it('a saved simulated plan is applied to the state it was made against, and refused as stale once it changed', async () => {
    const state = join(tmp, 'b.yaml');
    const plan = join(tmp, 'b.plan.json');
    const world = join(tmp, 'w.yaml');
    writeFileSync(world, WORLD);
    expect((await nestctl(['plan', '--world', world, '--state', state, '--out', plan, SEED])).code).toBe(0);
    const applied = await nestctl(['apply', '--state', state, plan]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(readFileSync(state, 'utf8')).toContain('name: c1');
    // The same plan again: the state it was made against is gone (the apply changed it).
    const stale = await nestctl(['apply', '--state', state, plan]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`plan is stale: ${plan} was not made against the simulated world now in ${state}`);
    // A plan made against the saved state, then the state edited by hand (drift): stale too.
    expect((await nestctl(['plan', '--state', state, '--out', plan, SEED])).code).toBe(0);
    writeFileSync(state, readFileSync(state, 'utf8').replace('status: Running', 'status: Stopped'));
    const drift = await nestctl(['apply', '--state', state, plan]);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain('plan is stale');
  });

  it('a state file that is not a world is refused with file:line:col', async () => {
    const state = join(tmp, 'bad.yaml');
    writeFileSync(state, 'host:\n  files: [1]\n');
    const r = await nestctl(['plan', '--state', state, SEED]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${state}:2:10: error: expected a mapping of absolute path to a file`);
  });
});

describe('what a simulation assumes', () => {
  it('a fresh simulated host says which images it assumed present and carrying LXD', async () => {
    const r = await nestctl(['plan', '--simulate', SEED]);
    expect(r.stdout).toContain(
      "Assumed: the host's image store has nest, busybox.\nAssumed: nest carries LXD (c1, c1/c2 hold containers).\n",
    );
  });

  it('a world says otherwise: an image not in the store (a typo) is refused', async () => {
    const world = join(tmp, 'w-typo.yaml');
    writeFileSync(world, WORLD);
    const manifest = join(tmp, 'typo.yaml');
    writeFileSync(manifest, readFileSync(SEED, 'utf8').replace('image: busybox', 'image: busybx'));
    const r = await nestctl(['plan', '--world', world, manifest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`${manifest}:\\d+:\\d+: error: image "busybx" \\(used by c1/c2/c3\\) is not in the host's LXD image store`),
    );
    expect(r.stdout).not.toContain('Assumed');
  });

  it('a world says otherwise: a leaf image for a container that holds containers is refused by the plan', async () => {
    const world = join(tmp, 'w-leaf.yaml');
    writeFileSync(world, WORLD);
    const manifest = join(tmp, 'leaf-nest.yaml');
    writeFileSync(
      manifest,
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: busybox\n    containers:\n      - {name: c2, image: busybox}\n',
    );
    const r = await nestctl(['plan', '--world', world, manifest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${manifest}:3:5: error: image "busybox" (used by c1) carries no LXD or Incus in the simulated world, but c1 holds containers`,
    );
  });
});

describe('--state FILE with classic LXC', () => {
  it('examples/lxc-user.yaml: apply saves the LXC containers, users and lxc-usernet, and the next plan says No changes', async () => {
    const state = join(tmp, 'lxc.yaml');
    const applied = await nestctl(['apply', '--auto-approve', '--state', state, 'examples/lxc-user.yaml']);
    expect(applied.code, applied.stderr).toBe(0);
    const saved = readFileSync(state, 'utf8');
    expect(saved).toContain('usernet: |\n      alice veth lxdbr0 1\n');
    expect(saved).toMatch(/owner: alice\n\s+name: box\n\s+state: RUNNING/);
    const again = await nestctl(['plan', '--detailed-exitcode', '--state', state, 'examples/lxc-user.yaml']);
    expect(again.stdout).toContain('No changes.');
    expect(again.code).toBe(0);
  });

  it("a container whose owner is not one of the level's accounts is refused at its line", async () => {
    const world = join(tmp, 'lxc-bad.yaml');
    writeFileSync(world, 'host:\n  lxc:\n    users: {alice: /home/alice}\n    containers:\n      - {owner: bob, name: box}\n');
    const r = await nestctl(['plan', '--world', world, 'examples/lxc-user.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${world}:5:`);
    expect(r.stderr).toContain('bob is not one of lxc.users (alice) nor root');
  });
});
