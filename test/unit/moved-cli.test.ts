// `moved:` through the CLI and a simulation kept in a --state file: a two-level tree applied, its
// nesting container renamed in the manifest, the rename planned (text and --json) and applied,
// and the next plan empty, the file inside kept.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Plan } from '../../src/core/plan/model.js';
import { nestctl } from './helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'nestctl-moved-'));
const BEFORE = `apiVersion: nestctl/v1
containers:
  - name: c1
    image: nest
    containers:
      - name: c2
        image: busybox
        files:
          - { path: /srv/kept.txt, content: "made before the rename\\n" }
`;
const AFTER = `${BEFORE.replace('name: c1', 'name: web')}moved:
  - { from: c1, to: web }
`;

interface WorldInstance {
  name: string;
  status?: string;
  config?: Record<string, string>;
  inside?: { instances?: WorldInstance[]; files?: Record<string, { content?: string }> };
}

describe('nestctl with moved: against a --state simulation', () => {
  it('renames c1 to web (no delete, no create), keeps what is inside, and plans nothing afterwards', async () => {
    const state = join(tmp, 'state.yaml');
    const before = join(tmp, 'before.yaml');
    const after = join(tmp, 'after.yaml');
    writeFileSync(before, BEFORE);
    writeFileSync(after, AFTER);
    const made = await nestctl(['apply', '--auto-approve', '--simulate', '--state', state, before]);
    expect(made.code, made.stderr).toBe(0);

    const text = await nestctl(['plan', '--simulate', '--state', state, after]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      '  ~ c1 → web: rename (LXD renames only a stopped container: stops c1 and the container inside it for a moment)\n',
    );
    expect(text.stdout).toContain('Plan: 0 containers to add, 1 to change, 0 to destroy (1 step).');
    expect(text.stdout).not.toMatch(/destroy\n|create from/);

    const json = await nestctl(['plan', '--json', '--simulate', '--state', state, after]);
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout) as Plan;
    expect(plan.steps.map((s) => s.kind)).toEqual(['rename-instance']);

    const applied = await nestctl(['apply', '--auto-approve', '--simulate', '--state', state, after]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Converged: planning again in the simulated LXD finds no changes.');

    const again = await nestctl(['plan', '--detailed-exitcode', '--simulate', '--state', state, after]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toContain('No changes.');

    // The world file: web (no c1) holds c2, whose file is the one written before the rename.
    const world = parse(readFileSync(state, 'utf8')) as { host: { instances: WorldInstance[] } };
    expect(world.host.instances.map((i) => i.name)).toEqual(['web']);
    const web = world.host.instances[0]!;
    expect(web.config?.['user.nestctl.path']).toBe('web');
    const c2 = web.inside?.instances?.find((i) => i.name === 'c2');
    expect(c2?.status ?? 'Running').toBe('Running');
    expect(c2?.config?.['user.nestctl.path']).toBe('web/c2');
    expect(c2?.inside?.files?.['/srv/kept.txt']?.content).toBe('made before the rename\n');
  });

  it('a move to another parent is refused at file:line:col before anything is looked at', async () => {
    const bad = join(tmp, 'across.yaml');
    writeFileSync(bad, `${BEFORE}  - { name: c3, image: busybox }\nmoved:\n  - { from: c1/c2, to: c3 }\n`);
    const r = await nestctl(['plan', '--simulate', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${bad}:12:24: error: moved[0] moves c1/c2 from c1 into the host: moves across parents are not supported yet (only a rename beside where it is)`,
    );
  });
});
