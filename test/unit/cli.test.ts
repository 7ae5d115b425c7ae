// The command line as a contract: exit codes, JSON outputs checked against the shipped schemas,
// saved plans, approval without a terminal. Runs the built CLI (npm test builds first) against
// the simulated LXD, so nothing on this machine is touched.

import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { default as addFormatsModule } from 'ajv-formats';

// ajv-formats is CommonJS: under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
import { describe, expect, it } from 'vitest';
import { ROOT, nestctl, nestctlAtPrompt } from './helpers/cli.js';

const LEAF = 'test/unit/fixtures/leaf.yaml';
const CONVERGED = 'test/unit/fixtures/worlds/leaf-converged.yaml';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas', name), 'utf8')));
const planSchema = schema('plan.schema.json');
const eventSchema = schema('apply-events.schema.json');
const validateSchema = schema('validate.schema.json');
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-cli-'));

describe('exit codes', () => {
  it('plan: 0 without changes, 2 with changes under --detailed-exitcode, 0 with changes without it', async () => {
    expect((await nestctl(['plan', '--world', CONVERGED, '--detailed-exitcode', LEAF])).code).toBe(0);
    expect((await nestctl(['plan', '--simulate', '--detailed-exitcode', LEAF])).code).toBe(2);
    expect((await nestctl(['plan', '--simulate', LEAF])).code).toBe(0);
  });

  it('every error is 1: bad manifest, missing file, unknown command, bad flag value', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: nestctl/v1\ncontainers:\n  - name: 1bad\n    imgae: nest\n');
    const r = await nestctl(['plan', '--simulate', '--detailed-exitcode', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:11: error: invalid container name "1bad"`);
    expect(r.stderr).toContain(`${bad}:4:5: error: unknown key "imgae"`);
    expect((await nestctl(['plan', '--simulate', join(tmp, 'missing.yaml')])).code).toBe(1);
    expect((await nestctl(['frobnicate'])).code).toBe(1);
    expect((await nestctl(['plan', '--simulate', '--host-restart', '[1,2]', LEAF])).code).toBe(1);
    expect((await nestctl(['plan', '--simulate', '--target', 'nope', LEAF])).stderr).toContain('--target nope: no such container');
  });

  it('an impossible allocation is refused before any host is looked at', async () => {
    const f = join(tmp, 'tight.yaml');
    writeFileSync(
      f,
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    idmap: { isolated: true, size: 65536 }\n    containers:\n      - { name: c2, image: busybox }\n',
    );
    const r = await nestctl(['validate', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${f}:3:5: error: c1 is isolated with idmap.size 65536, but it and its children need 131072 ids`);
  });
});

describe("the environment's failures say what to do", () => {
  it('no LXD installed, daemon down: exit 1 with a hint', async () => {
    const none = await nestctl(['plan', '--world', 'test/unit/fixtures/worlds/no-lxd.yaml', 'examples/seed.yaml']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('Error: no LXD or Incus is installed on this host');
    expect(none.stderr).toContain('apt-get install lxd');
    const down = await nestctl(['plan', '--world', 'test/unit/fixtures/worlds/daemon-down.yaml', 'examples/seed.yaml']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("Error: the host's LXD daemon is not reachable");
    expect(down.stderr).toContain('start it');
  });
});

describe('approval', () => {
  it('refuses to apply without a terminal and without --auto-approve, changing nothing', async () => {
    const r = await nestctl(['apply', '--simulate', LEAF]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apply needs approval, but there is no terminal to ask on');
    expect(r.stdout).not.toContain('Apply complete');
  });

  it("repeats another owner's overlapping subid range right above the prompt, and only there", async () => {
    const world = 'test/unit/fixtures/worlds/other-owner-overlap.yaml';
    const overlap = "overlaps alice:500000:65536, another user's subordinate ids";
    const asked = await nestctlAtPrompt(['apply', '--world', world, LEAF], '\x04');
    expect(asked.prompted).toBe(true);
    const [, belowPlan] = asked.stdout.replace(/\r/g, '').split(/Plan: \d+ containers? to add.*\n/);
    const abovePrompt = belowPlan!.slice(0, belowPlan!.indexOf('Do you want to perform these actions?'));
    expect(abovePrompt).toContain(overlap);
    const auto = await nestctl(['apply', '--world', world, '--auto-approve', LEAF]);
    expect(auto.code, auto.stderr).toBe(0);
    expect((auto.stdout + auto.stderr).split(overlap)).toHaveLength(2);
  });

  it('applies with --auto-approve and reports convergence', async () => {
    const r = await nestctl(['apply', '--simulate', '--auto-approve', 'examples/seed.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Converged: planning again in the simulated LXD finds no changes.');
  });
});

describe('JSON outputs match their schemas', () => {
  it('plan --json', async () => {
    const r = await nestctl(['plan', '--simulate', '--json', 'examples/seed.yaml']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(planSchema(plan), JSON.stringify(planSchema.errors)).toBe(true);
    expect(plan.steps.length).toBe(19);
  });

  it('apply --json prints only newline-delimited events', async () => {
    const r = await nestctl(['apply', '--simulate', '--auto-approve', '--json', 'examples/isolated.yaml']);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const e of events) expect(eventSchema(e), `${JSON.stringify(e)}: ${JSON.stringify(eventSchema.errors)}`).toBe(true);
    expect(events[0].type).toBe('version');
    expect(events.at(-1)).toMatchObject({ type: 'change_summary', failed: 0, skipped: 0 });
    const planned = events.filter((e) => e.type === 'planned_change').length;
    expect(events.filter((e) => e.type === 'apply_complete').length).toBe(planned);
  });

  it('apply --json without approval is an error, not a prompt, and says so as a diagnostic event', async () => {
    const r = await nestctl(['apply', '--simulate', '--json', LEAF]);
    expect(r.code).toBe(1);
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(eventSchema(events[0])).toBe(true);
    expect(events[0]).toMatchObject({ type: 'diagnostic', severity: 'error' });
    expect(events[0].summary).toContain('needs --auto-approve');
  });

  it('apply --json reports manifest errors as positioned diagnostic events', async () => {
    const f = join(tmp, 'bad-json.yaml');
    writeFileSync(f, 'apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox, colour: red }\n');
    const r = await nestctl(['apply', '--simulate', '--auto-approve', '--json', f]);
    expect(r.code).toBe(1);
    const e = JSON.parse(r.stdout.trim());
    expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
    expect(e).toMatchObject({ type: 'diagnostic', severity: 'error', range: { file: f, line: 3 } });
  });

  it('a plan problem known only by its node points at the manifest start: 1:1, no source line, in text and in --json', async () => {
    const text = await nestctl(['plan', '--simulate', '--target', 'nope', LEAF]);
    expect(text.code).toBe(1);
    expect(text.stderr).toBe(`${LEAF}:1:1: error: --target nope: no such container in the manifest\n  use a node path such as c1\n`);
    const json = await nestctl(['plan', '--simulate', '--json', '--target', 'nope', LEAF]);
    expect(json.code).toBe(1);
    const e = JSON.parse(json.stdout.trim());
    expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
    expect(e).toEqual({
      type: 'diagnostic',
      '@message': 'error: --target nope: no such container in the manifest',
      '@timestamp': expect.any(String),
      severity: 'error',
      summary: '--target nope: no such container in the manifest',
      detail: 'use a node path such as c1',
      range: { file: LEAF, line: 1, column: 1 },
    });
  });

  it('--json is honoured wherever it and global options stand: errors are diagnostic events, stdout has nothing else', async () => {
    const bad = join(tmp, 'bad-order.yaml');
    writeFileSync(bad, 'apiVersion: nestctl/v1\ncontainers:\n  - { name: c1, image: busybox, colour: red }\n');
    for (const args of [
      ['--no-color', 'apply', '--json', bad],
      ['apply', '--no-color', '--json', bad],
      ['--no-color', 'plan', '--simulate', '--json', bad],
      ['destroy', '--json', '--auto-approve', '--simulate', join(tmp, 'missing.yaml')],
    ]) {
      const r = await nestctl(args);
      expect(r.code, args.join(' ')).toBe(1);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.length, `${args.join(' ')}: ${r.stdout}`).toBeGreaterThan(0);
      for (const l of lines) {
        const e = JSON.parse(l);
        expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
        expect(e).toMatchObject({ type: 'diagnostic', severity: 'error' });
      }
    }
  });

  it("--json with commander's own errors (unknown option, missing argument) still answers in JSON", async () => {
    const unknown = await nestctl(['apply', '--json', '--bogus', LEAF]);
    expect(unknown.code).toBe(1);
    const e = JSON.parse(unknown.stdout);
    expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
    expect(e.summary).toBe("unknown option '--bogus'");
    const missing = await nestctl(['show', '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).summary).toBe("missing required argument 'plan'");
    const v = await nestctl(['validate', '--json', join(tmp, 'missing.yaml')]);
    expect(v.code).toBe(1);
    const doc = JSON.parse(v.stdout);
    expect(validateSchema(doc), JSON.stringify(validateSchema.errors)).toBe(true);
    expect(doc).toMatchObject({ valid: false, error_count: 1 });
    expect(doc.diagnostics[0].summary).toContain('missing.yaml: no such file');
  });

  it('validate --json, valid and invalid', async () => {
    const ok = JSON.parse((await nestctl(['validate', '--json', 'examples/seed.yaml'])).stdout);
    expect(validateSchema(ok)).toBe(true);
    expect(ok).toMatchObject({ valid: true, error_count: 0 });
    const f = join(tmp, 'dup.yaml');
    writeFileSync(f, 'apiVersion: nestctl/v1\ncontainers:\n  - { name: a, image: x }\n  - { name: a, image: x }\n');
    const r = await nestctl(['validate', '--json', f]);
    expect(r.code).toBe(1);
    const bad = JSON.parse(r.stdout);
    expect(validateSchema(bad), JSON.stringify(validateSchema.errors)).toBe(true);
    expect(bad.valid).toBe(false);
    expect(bad.diagnostics[0].range).toEqual({ file: f, line: 4, column: 13 });
  });
});

describe('saved plans', () => {
  it('plan --out, show renders it like plan, apply PLAN performs it without asking', async () => {
    const file = join(tmp, 'seed.plan.json');
    const planned = await nestctl(['plan', '--simulate', '--out', file, 'examples/seed.yaml']);
    expect(planned.code, planned.stderr).toBe(0);
    const shown = await nestctl(['show', file]);
    expect(shown.code).toBe(0);
    expect(planned.stdout).toContain(shown.stdout.trimEnd().split('\n').slice(0, 40).join('\n'));
    expect(planSchema(JSON.parse(readFileSync(file, 'utf8')))).toBe(true);
    const applied = await nestctl(['apply', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Steps: 19 done');
  });

  it('plan --out writes the plan privately (0600), replacing an older one, with no temp file left', async () => {
    const dir = mkdtempSync(join(tmp, 'out-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, 'old', { mode: 0o644 });
    const r = await nestctl(['plan', '--simulate', '--out', file, LEAF]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(planSchema(JSON.parse(readFileSync(file, 'utf8')))).toBe(true);
    expect(readdirSync(dir)).toEqual(['p.json']);
  });

  it('plan --out into a missing directory fails before anything is observed', async () => {
    // The daemon-down world would fail at observation; the --out error must come first.
    const r = await nestctl(['plan', '--world', 'test/unit/fixtures/worlds/daemon-down.yaml', '--out', join(tmp, 'nope', 'p.json'), LEAF]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the directory ${join(tmp, 'nope')} does not exist`);
    expect(r.stderr).not.toContain('daemon');
  });

  it('refuses a plan of another format version, and a file that is not a plan', async () => {
    const file = join(tmp, 'v9.plan.json');
    writeFileSync(file, JSON.stringify({ formatVersion: 9, steps: [] }));
    expect((await nestctl(['apply', file])).stderr).toContain('plan format 9 is not supported');
    expect((await nestctl(['show', 'examples/seed.yaml'])).code).toBe(1);
  });
});

describe('init', () => {
  it('writes a starter manifest with the schema modeline, which validates', async () => {
    const file = join(tmp, 'starter.yaml');
    expect((await nestctl(['init', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const ref = /^# yaml-language-server: \$schema=(.+)$/m.exec(text.split('\n')[0]!)?.[1];
    expect(ref).toBeDefined();
    expect(readFileSync(resolve(tmp, ref!), 'utf8')).toContain('"nestctl/v1"');
    expect((await nestctl(['validate', file])).code).toBe(0);
    expect((await nestctl(['init', file])).code).toBe(1);
  });

  it('every example carries the modeline', async () => {
    for (const f of ['seed.yaml', 'isolated.yaml', 'docker.yaml']) {
      expect(readFileSync(join(ROOT, 'examples', f), 'utf8').split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../schemas/manifest.schema.json',
      );
    }
  });
});
