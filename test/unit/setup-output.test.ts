// A setup command's output while it runs and after it fails: lines reach the progress views as
// they come (plain, listr2, JSON events), a failure carries the command, its exit code and its
// last lines, and a command printing megabytes keeps memory and drawing bounded.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv } from 'ajv';
import { default as addFormatsModule } from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { processExec } from '../../src/adapters/process-exec.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { SetupCommandError } from '../../src/core/errors.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import type { Plan } from '../../src/core/plan/model.js';
import type { LxdLevel } from '../../src/ports/lxd.js';
import { type ApplyEvent, startApply } from '../../src/engine/apply.js';
import { LINE_MAX_CHARS, OutputLines, TAIL_LINES } from '../../src/engine/output-lines.js';
import { planManifest } from '../../src/engine/plan-pipeline.js';
import { colours } from '../../src/render/colour.js';
import { OUTPUT_EVENT_LINES, OUTPUT_EVENT_MS, emitSummary, jsonProgress } from '../../src/render/json-events.js';
import { plainProgress, terminalProgress } from '../../src/render/progress.js';
import { cpuMsAsync } from './helpers/cpu-time.js';
import { ROOT, nestctl } from './helpers/cli.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const eventSchema = ajv.compile(JSON.parse(await readFile(join(ROOT, 'schemas', 'apply-events.schema.json'), 'utf8')));

const IMAGES = [
  { alias: 'nest', hostsLxd: true },
  { alias: 'busybox', hostsLxd: false },
];

/** c1 (nest) holding c2 (busybox) whose setup is `setup`; the plan in a fresh simulated world. */
async function planned(setup: string[][]) {
  const text = [
    'apiVersion: nestctl/v1',
    'containers:',
    '  - name: c1',
    '    image: nest',
    '    containers:',
    '      - name: c2',
    '        image: busybox',
    '        setup:',
    ...setup.map((a) => `          - ${JSON.stringify(a)}`),
    '',
  ].join('\n');
  const loaded = loadManifest(text, 'm.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const world = createSimWorld(defaultWorld(IMAGES));
  const r = await planManifest(loaded.manifest, world.host(), { hostRestart: null, tool: 'test', manifestText: text });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { plan: r.plan, host: world.host() };
}

const sh = (script: string): string[] => ['sh', '-c', script];

function collect(): NodeJS.WritableStream & { text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WritableStream & { text: () => string };
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return Object.assign(stream, { text: () => text });
}

function fakeTerminal(): NodeJS.WriteStream & { text: () => string } {
  return Object.assign(collect(), { isTTY: true, columns: 120, rows: 40 }) as unknown as NodeJS.WriteStream & { text: () => string };
}

const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

async function applyWith(plan: Plan, host: LxdLevel, onEvent: (e: ApplyEvent) => void) {
  return startApply(plan, host, onEvent).finished;
}

describe('output lines', () => {
  it('cuts chunks into lines per stream, in the order they complete, and ends an unterminated last line', () => {
    const got: string[] = [];
    const lines = new OutputLines((ls) => got.push(...ls.map((l) => `${l.stream}:${l.text}`)));
    lines.push('stdout', 'one\ntw');
    lines.push('stderr', 'oops\n');
    lines.push('stdout', 'o\nthree');
    lines.end();
    expect(got).toEqual(['stdout:one', 'stderr:oops', 'stdout:two', 'stdout:three']);
    expect(lines.tail()).toEqual(['one', 'oops', 'two', 'three']);
  });

  it('removes terminal control sequences and keeps the last redraw of a \\r progress line', () => {
    const got: string[] = [];
    const lines = new OutputLines((ls) => got.push(...ls.map((l) => l.text)));
    lines.push('stdout', '\x1b[2J\x1b[31mred\x1b[0m\x07\n 10%\r 50%\r100%\r\n');
    expect(got).toEqual(['red', '100%']);
  });

  it('bounds a line and the kept tail, however much is printed', () => {
    const lines = new OutputLines();
    const huge = 'x'.repeat(5_000_000);
    lines.push('stdout', huge);
    lines.push('stdout', huge);
    lines.end();
    expect(lines.tail()).toEqual([`${'x'.repeat(LINE_MAX_CHARS)}…`]);
    for (let i = 0; i < 1000; i += 1) lines.push('stdout', `line ${i}\n`);
    expect(lines.tail()).toEqual(Array.from({ length: TAIL_LINES }, (_, k) => `line ${1000 - TAIL_LINES + k}`));
  });
});

describe('process exec streams when asked', () => {
  it('passes output on before the program ends and keeps none of it', async () => {
    const seen: Array<{ chunk: string; at: number }> = [];
    const t0 = Date.now();
    const r = await processExec([process.execPath, '-e', 'console.log("first"); setTimeout(() => console.error("second"), 300)'], {
      onOutput: (stream, chunk) => chunk !== '' && seen.push({ chunk: `${stream}:${chunk}`, at: Date.now() - t0 }),
    });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(seen.map((s) => s.chunk)).toEqual(['stdout:first\n', 'stderr:second\n']);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(200);
  });
});

describe('a running setup command streams its output', () => {
  it('each line reaches the events while the step still runs', async () => {
    const { plan, host } = await planned([sh('echo first; sleep 0.4; echo second')]);
    const seen: Array<{ what: string; at: number }> = [];
    const t0 = Date.now();
    const summary = await applyWith(plan, host, (e) => {
      if (e.step.kind !== 'run-setup') return;
      if (e.type === 'step-output') seen.push(...e.lines.map((l) => ({ what: l.text, at: Date.now() - t0 })));
      if (e.type === 'step-end') seen.push({ what: 'end', at: Date.now() - t0 });
    });
    expect(summary.failed).toEqual([]);
    expect(seen.map((s) => s.what)).toEqual(['first', 'second', 'end']);
    // "first" came out before the sleep, not with the rest at the end.
    expect(seen[2]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
  });

  it('plain mode prints each line with its step', async () => {
    const { plan, host } = await planned([sh('echo hello; echo warn >&2')]);
    const out = collect();
    await applyWith(plan, host, plainProgress(out, colours(false), plan));
    const text = out.text();
    expect(text).toContain('c1/c2: setup │ hello\nc1/c2: setup │ warn\n');
    expect(text.indexOf('c1/c2: setup │ hello')).toBeLessThan(text.indexOf('✔ c1/c2: setup'));
  });

  it('the terminal view shows the last line under the running step', async () => {
    const { plan, host } = await planned([sh('echo fetching packages; sleep 0.5; echo done')]);
    const out = fakeTerminal();
    const view = terminalProgress(plan, out);
    await view.start();
    const run = startApply(plan, host, view.onEvent);
    await view.follow(run);
    expect((await run.finished).failed).toEqual([]);
    expect(stripAnsi(out.text())).toMatch(/c1\/c2: setup[^\n]*\n\s+› fetching packages/);
  });

  it('--json emits apply_output events that fit the schema, at a bounded rate and size', async () => {
    const { plan, host } = await planned([['seq', '200000']]);
    const events: Array<Record<string, unknown>> = [];
    const json = jsonProgress(
      (e) => events.push(JSON.parse(JSON.stringify({ '@timestamp': new Date().toISOString(), ...e })) as Record<string, unknown>),
      plan,
    );
    const t0 = Date.now();
    const summary = await applyWith(plan, host, json.onEvent);
    const ms = Date.now() - t0;
    json.close();
    expect(summary.failed).toEqual([]);
    for (const e of events) expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
    const outputs = events.filter((e) => e.type === 'apply_output') as Array<{ lines: Array<{ text: string }>; omitted: number }>;
    expect(outputs.length).toBeGreaterThan(0);
    expect(outputs.length).toBeLessThanOrEqual(Math.ceil(ms / OUTPUT_EVENT_MS) + 1);
    expect(outputs.every((e) => e.lines.length <= OUTPUT_EVENT_LINES)).toBe(true);
    // Every line is either sent or counted as left out, and the last one is always sent.
    expect(outputs.reduce((n, e) => n + e.lines.length + e.omitted, 0)).toBe(200_000);
    expect(outputs.at(-1)!.lines.at(-1)!.text).toBe('200000');
    // The output is flushed before the step's end.
    const end = events.findIndex((e) => e.type === 'apply_complete' && e.id === 'c1/c2:run-setup');
    expect(events.map((e) => e.type).lastIndexOf('apply_output')).toBeLessThan(end);
  });
});

describe('a failing setup command', () => {
  const failing = [sh('seq 30; echo "E: Unable to locate package nope" >&2; exit 100'), ['touch', '/never']];

  it('fails its step with the command, its exit code and its last 20 lines, stdout and stderr as they came', async () => {
    const { plan, host } = await planned(failing);
    const summary = await applyWith(plan, host, () => undefined);
    const error = summary.failed[0]?.error;
    expect(error).toBeInstanceOf(SetupCommandError);
    const e = error as SetupCommandError;
    expect(e.exitCode).toBe(100);
    expect(e.argv).toEqual(failing[0]);
    expect(e.output).toEqual([...Array.from({ length: 19 }, (_, i) => String(12 + i)), 'E: Unable to locate package nope']);
    expect(e.message).toContain(
      'setup command 1 of 2 in c1/c2 failed (exit 100): sh -c "seq 30; echo \\"E: Unable to locate package nope\\" >&2; exit 100"\n  │ 12\n',
    );
    expect(e.message.endsWith('  │ 30\n  │ E: Unable to locate package nope')).toBe(true);
  });

  it('the JSON events carry them in apply_errored and change_summary', async () => {
    const { plan, host } = await planned(failing);
    const events: Array<Record<string, unknown>> = [];
    const out = (e: object) =>
      events.push(JSON.parse(JSON.stringify({ '@timestamp': new Date().toISOString(), ...e })) as Record<string, unknown>);
    const json = jsonProgress(out, plan);
    const summary = await applyWith(plan, host, json.onEvent);
    json.close();
    emitSummary(out, summary);
    for (const e of events) expect(eventSchema(e), JSON.stringify(eventSchema.errors)).toBe(true);
    const errored = events.find((e) => e.type === 'apply_errored')!;
    expect(errored).toMatchObject({ id: 'c1/c2:run-setup', command: failing[0], exit_code: 100 });
    expect((errored.output as string[]).at(-1)).toBe('E: Unable to locate package nope');
    const s = events.at(-1)!;
    expect(s.type).toBe('change_summary');
    expect(s.failures).toEqual([
      { id: 'c1/c2:run-setup', error: errored.error, command: failing[0], exit_code: 100, output: errored.output },
    ]);
  });

  it('apply --ci prints the lines as they come and the failure with its last lines in the summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nestctl-setup-'));
    try {
      const file = join(dir, 'm.yaml');
      const steps = failing.map((a) => `          - ${JSON.stringify(a)}`);
      await writeFile(
        file,
        [
          'apiVersion: nestctl/v1',
          'containers:',
          '  - name: c1',
          '    image: nest',
          '    containers:',
          '      - name: c2',
          '        image: busybox',
          '        setup:',
          ...steps,
          '',
        ].join('\n'),
      );
      const r = await nestctl(['apply', '--simulate', '--auto-approve', '--ci', file]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('c1/c2: setup │ 30\nc1/c2: setup │ E: Unable to locate package nope\n');
      const summary = r.stdout.slice(r.stdout.indexOf('\n✖ LXD would refuse c1/c2: setup'));
      expect(summary).toContain('failed (exit 100)');
      expect(summary).toContain('  │ 12\n');
      expect(summary).not.toContain('  │ 11\n');
      expect(summary).toContain('  │ E: Unable to locate package nope\nApply incomplete.');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the terminal view shows them under the failed step', async () => {
    const { plan, host } = await planned(failing);
    const out = fakeTerminal();
    const view = terminalProgress(plan, out);
    await view.start();
    const run = startApply(plan, host, view.onEvent);
    await view.follow(run);
    await run.finished;
    const text = stripAnsi(out.text());
    expect(text).toContain('failed (exit 100)');
    expect(text).toContain('│ E: Unable to locate package nope');
  });
});

describe('a command printing 10 MB', () => {
  it('streams it through the views with bounded work and keeps only its tail', async () => {
    // seq 1 1400000 prints about 10 MB in 1.4 million lines.
    const { plan, host } = await planned([sh('seq 1400000; exit 1')]);
    const out = fakeTerminal();
    const view = terminalProgress(plan, out);
    await view.start();
    let lines = 0;
    const { value: summary, ms } = await cpuMsAsync(async () => {
      const run = startApply(plan, host, (e) => {
        if (e.type === 'step-output') lines += e.lines.length;
        view.onEvent(e);
      });
      await view.follow(run);
      return run.finished;
    });
    expect(lines).toBe(1_400_000);
    const e = summary.failed[0]!.error as SetupCommandError;
    expect(e.output).toEqual(Array.from({ length: 20 }, (_, i) => String(1_399_981 + i)));
    // The drawing kept pace: far less than the output itself went to the terminal.
    expect(out.text().length).toBeLessThan(2_000_000);
    // Generous: about 0.4 s of CPU here; a view redrawn per line, or output kept whole, takes far more.
    expect(ms).toBeLessThan(5_000);
  }, 60_000);
});
