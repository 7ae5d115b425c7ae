// The command line as a contract: exit codes, JSON outputs checked against the shipped schemas,
// saved plans, approval without a terminal. Runs the built CLI (npm test builds first) against
// the simulated LXD, so nothing on this machine is touched.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const LEAF = 'test/unit/fixtures/leaf.yaml';
const CONVERGED = 'test/unit/fixtures/worlds/leaf-converged.yaml';

function nestctl(args: string[], input = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [CLI, ...args], { cwd: ROOT, encoding: 'utf8', input, env: { ...process.env, NO_COLOR: '1', CI: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', name), 'utf8')));
const planSchema = schema('plan.schema.json');
const eventSchema = schema('apply-events.schema.json');
const validateSchema = schema('validate.schema.json');
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-cli-'));

describe('exit codes', () => {
  it('plan: 0 without changes, 2 with changes under --detailed-exitcode, 0 with changes without it', () => {
    expect(nestctl(['plan', '--world', CONVERGED, '--detailed-exitcode', LEAF]).code).toBe(0);
    expect(nestctl(['plan', '--simulate', '--detailed-exitcode', LEAF]).code).toBe(2);
    expect(nestctl(['plan', '--simulate', LEAF]).code).toBe(0);
  });

  it('every error is 1: bad manifest, missing file, unknown command, bad flag value', () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: nestctl/v1\ncontainers:\n  - name: 1bad\n    imgae: nest\n');
    const r = nestctl(['plan', '--simulate', '--detailed-exitcode', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:11: error: invalid container name "1bad"`);
    expect(r.stderr).toContain(`${bad}:4:5: error: unknown key "imgae"`);
    expect(nestctl(['plan', '--simulate', join(tmp, 'missing.yaml')]).code).toBe(1);
    expect(nestctl(['frobnicate']).code).toBe(1);
    expect(nestctl(['plan', '--simulate', '--host-restart', '[1,2]', LEAF]).code).toBe(1);
    expect(nestctl(['plan', '--simulate', '--target', 'nope', LEAF]).stderr).toContain('--target nope: no such container');
  });

  it('an impossible allocation is refused before any host is looked at', () => {
    const f = join(tmp, 'tight.yaml');
    writeFileSync(f, 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    idmap: { isolated: true, size: 65536 }\n    containers:\n      - { name: c2, image: busybox }\n');
    const r = nestctl(['validate', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}:3:5: error: c1 is isolated with idmap.size 65536, but it and its children need 131072 ids`);
  });
});

describe("the environment's failures say what to do", () => {
  it('no LXD installed, daemon down: exit 1 with a hint', () => {
    const none = nestctl(['plan', '--world', 'test/unit/fixtures/worlds/no-lxd.yaml', 'examples/seed.yaml']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Error: no LXD or Incus is installed on this host');
    expect(none.stderr).toContain('apt-get install lxd');
    const down = nestctl(['plan', '--world', 'test/unit/fixtures/worlds/daemon-down.yaml', 'examples/seed.yaml']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("Error: the host's LXD daemon is not reachable");
    expect(down.stderr).toContain('start it');
  });
});

describe('approval', () => {
  it('refuses to apply without a terminal and without --auto-approve, changing nothing', () => {
    const r = nestctl(['apply', '--simulate', LEAF]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apply needs approval, but there is no terminal to ask on');
    expect(r.stdout).not.toContain('Apply complete');
  });

  it('applies with --auto-approve and reports convergence', () => {
    const r = nestctl(['apply', '--simulate', '--auto-approve', 'examples/seed.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Converged: planning again in the simulated LXD finds no changes.');
  });
});

describe('JSON outputs match their schemas', () => {
  it('plan --json', () => {
    const r = nestctl(['plan', '--simulate', '--json', 'examples/seed.yaml']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(planSchema(plan), JSON.stringify(planSchema.errors)).toBe(true);
    expect(plan.steps.length).toBe(19);
  });

  it('apply --json prints only newline-delimited events', () => {
    const r = nestctl(['apply', '--simulate', '--auto-approve', '--json', 'examples/isolated.yaml']);
    expect(r.code).toBe(0);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    for (const e of events) expect(eventSchema(e), `${JSON.stringify(e)}: ${JSON.stringify(eventSchema.errors)}`).toBe(true);
    expect(events[0].type).toBe('version');
    expect(events.at(-1)).toMatchObject({ type: 'change_summary', failed: 0, skipped: 0 });
    const planned = events.filter((e) => e.type === 'planned_change').length;
    expect(events.filter((e) => e.type === 'apply_complete').length).toBe(planned);
  });

  it('apply --json without approval is an error, not a prompt, and says so as a diagnostic event', () => {
    const r = nestctl(['apply', '--simulate', '--json', LEAF]);
    expect(r.code).toBe(1);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(eventSchema(events[0])).toBe(true);
    expect(events[0]).toMatchObject({ type: 'diagnostic', severity: 'error' });
    expect(events[0].summary).toContain('needs --auto-approve');
  });

  it('apply --json reports manifest errors as positioned diagnostic events', () => {
    const f = join(tmp, 'bad-json.yaml');
    writeFileSync(f, 'apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox, colour: red }\n');
    const r = nestctl(['apply', '--simulate', '--auto-approve', '--json', f]);
    expect(r.code).toBe(1);
    const e = JSON.parse(r.stdout.trim());
    expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
    expect(e).toMatchObject({ type: 'diagnostic', severity: 'error', range: { file: f, line: 3 } });
  });

  it('validate --json, valid and invalid', () => {
    const ok = JSON.parse(nestctl(['validate', '--json', 'examples/seed.yaml']).stdout);
    expect(validateSchema(ok)).toBe(true);
    expect(ok).toMatchObject({ valid: true, error_count: 0 });
    const f = join(tmp, 'dup.yaml');
    writeFileSync(f, 'apiVersion: nestctl/v1\ncontainers:\n  - { name: a, image: x }\n  - { name: a, image: x }\n');
    const r = nestctl(['validate', '--json', f]);
    expect(r.code).toBe(1);
    const bad = JSON.parse(r.stdout);
    expect(validateSchema(bad), JSON.stringify(validateSchema.errors)).toBe(true);
    expect(bad.valid).toBe(false);
    expect(bad.diagnostics[0].range).toEqual({ file: f, line: 4, column: 13 });
  });
});

describe('saved plans', () => {
  it('plan --out, show renders it like plan, apply PLAN performs it without asking', () => {
    const file = join(tmp, 'seed.plan.json');
    const planned = nestctl(['plan', '--simulate', '--out', file, 'examples/seed.yaml']);
    expect(planned.code).toBe(0);
    const shown = nestctl(['show', file]);
    expect(shown.code).toBe(0);
    expect(planned.stdout).toContain(shown.stdout.trimEnd().split('\n').slice(0, 40).join('\n'));
    expect(planSchema(JSON.parse(readFileSync(file, 'utf8')))).toBe(true);
    const applied = nestctl(['apply', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Steps: 19 done');
  });

  it('refuses a plan of another format version, and a file that is not a plan', () => {
    const file = join(tmp, 'v9.plan.json');
    writeFileSync(file, JSON.stringify({ formatVersion: 9, steps: [] }));
    expect(nestctl(['apply', file]).stderr).toContain('plan format 9 is not supported');
    expect(nestctl(['show', 'examples/seed.yaml']).code).toBe(1);
  });
});

describe('init', () => {
  it('writes a starter manifest with the schema modeline, which validates', () => {
    const file = join(tmp, 'starter.yaml');
    expect(nestctl(['init', file]).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const ref = /^# yaml-language-server: \$schema=(.+)$/m.exec(text.split('\n')[0]!)?.[1];
    expect(ref).toBeDefined();
    expect(readFileSync(resolve(tmp, ref!), 'utf8')).toContain('"nestctl/v1"');
    expect(nestctl(['validate', file]).code).toBe(0);
    expect(nestctl(['init', file]).code).toBe(1);
  });

  it('every example carries the modeline', () => {
    for (const f of ['seed.yaml', 'isolated.yaml', 'docker.yaml']) {
      expect(readFileSync(join(ROOT, 'examples', f), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/manifest.schema.json');
    }
  });
});
