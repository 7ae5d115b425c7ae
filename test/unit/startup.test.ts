// Startup: a command loads only what it runs (main.ts imports each command when it runs), and no
// JSON schema is compiled at run time (scripts/compile-schemas.mjs compiles them at build time).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, runCommand } from './helpers/cli.js';

const TRACE = join(ROOT, 'test/unit/fixtures/trace-loads/register.mjs');

/** The repository paths (or node_modules/PACKAGE/…) of every module the command loaded. */
async function loadedBy(args: string[]): Promise<string[]> {
  const r = await runCommand(['node', '--import', TRACE, CLI, ...args]);
  expect(r.code, r.stderr).toBe(0);
  const loaded = [...r.stderr.matchAll(/^loaded file:\/\/(\S+)$/gm)].map((m) => m[1]!.replace(`${ROOT}/`, ''));
  expect(loaded).toContain('dist/src/cli/main.js');
  return loaded;
}

/** Every repository module `entry` loads before it runs (static imports only, followed through dist/). */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)) {
      visit(resolve('/', dirname(file), m[1] ?? m[2]!).slice(1));
    }
  };
  visit(entry);
  return seen;
}

const loadsPackage = (loaded: string[], pkg: string): boolean => loaded.some((f) => f.startsWith(`node_modules/${pkg}/`));

describe('startup', () => {
  it('--version loads no command and none of the heavy packages', async () => {
    const loaded = await loadedBy(['--version']);
    expect(loaded.filter((f) => f.startsWith('dist/src/cli/commands/'))).toEqual([]);
    for (const pkg of ['yaml', 'ajv', 'listr2', 'diff']) expect(loadsPackage(loaded, pkg), pkg).toBe(false);
  });

  it('validate loads neither planning, the progress view, the plan text nor the schema compiler', async () => {
    const loaded = await loadedBy(['validate', 'examples/seed.yaml']);
    expect(loaded).toContain('dist/src/cli/commands/validate.js');
    expect(loaded).toContain('dist/src/core/generated/manifest-validator.js');
    for (const f of [
      'dist/src/cli/commands/plan.js',
      'dist/src/cli/commands/apply.js',
      'dist/src/render/plan-text.js',
      'dist/src/engine/plan-pipeline.js',
      'dist/src/cli/planning.js',
      'dist/src/cli/connection.js',
    ]) {
      expect(loaded, f).not.toContain(f);
    }
    // ajv compiled the schemas at build time; the generated validators need nothing of it
    for (const pkg of ['listr2', 'diff', 'ajv']) expect(loadsPackage(loaded, pkg), pkg).toBe(false);
  });

  it('plan leaves the simulator, the planner and the plan text out of what loads before the host is probed', () => {
    // A real plan's probes run in child processes: what loads after they start costs no time.
    const before = [...staticClosure('dist/src/cli/commands/plan.js')];
    expect(before).toContain('dist/src/engine/observe.js');
    for (const late of ['dist/src/sim/index.js', 'dist/src/core/plan/planner.js', 'dist/src/render/plan-text.js'])
      expect(before, late).not.toContain(late);
  });

  it('the generated validators are what the schemas give (npm run build regenerates them)', async () => {
    const r = await runCommand(['node', join(ROOT, 'scripts/compile-schemas.mjs'), '--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
