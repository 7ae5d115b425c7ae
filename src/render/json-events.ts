// `apply --json`: newline-delimited events, one JSON object a line, nothing else on stdout.
// Shapes are described by schemas/apply-events.schema.json.

import type { Plan, Step } from '../core/plan/model.js';
import { SetupCommandError } from '../core/errors.js';
import type { ApplyEvent, ApplySummary, OutputLine } from '../engine/apply.js';
import { stepTitle } from './plan-text.js';
import { outputTitle } from './progress.js';

export const EVENTS_UI_VERSION = '1.0';

type Out = (line: object) => void;

export function jsonLines(stream: NodeJS.WritableStream): Out {
  return (event) => stream.write(`${JSON.stringify({ '@timestamp': new Date().toISOString(), ...event })}\n`);
}

export function emitStart(out: Out, version: string, plan: Plan): void {
  out({ type: 'version', '@message': `nestctl ${version}`, nestctl: version, ui: EVENTS_UI_VERSION });
  for (const step of plan.steps) out({ type: 'planned_change', '@message': `${stepTitle(step, plan)}: planned`, step });
}

/**
 * A running command's output goes out at most once per OUTPUT_EVENT_MS a step, each event with at
 * most OUTPUT_EVENT_LINES lines (the latest; `omitted` counts the ones left out), each line at most
 * LINE_MAX_CHARS (engine/output-lines.ts): a command printing megabytes cannot flood the stream.
 */
export const OUTPUT_EVENT_MS = 250;
export const OUTPUT_EVENT_LINES = 50;

/** A failed setup command's facts, for apply_errored and change_summary. */
const setupFacts = (error: Error): object =>
  error instanceof SetupCommandError ? { command: [...error.argv], exit_code: error.exitCode, output: [...error.output] } : {};

/** Engine events → apply_start / apply_output / apply_complete / apply_errored / apply_skipped, plus apply_progress every 10 s. */
export function jsonProgress(emit: Out, plan: Plan): { onEvent: (e: ApplyEvent) => void; close: () => void } {
  // In a plan of several hosts, each step's event names its host.
  const hosts = new Map(plan.steps.flatMap((s) => (s.host !== undefined ? [[s.id, s.host] as const] : [])));
  const out = (event: { id: string } & Record<string, unknown>): void =>
    emit(hosts.has(event.id) ? { ...event, host: hosts.get(event.id) } : event);
  const running = new Map<string, { step: Step; t0: number }>();
  const pending = new Map<string, { step: Step; lines: OutputLine[]; omitted: number; timer: NodeJS.Timeout | null; last: number }>();
  const flush = (id: string): void => {
    const p = pending.get(id);
    if (!p || p.lines.length === 0) return;
    if (p.timer) clearTimeout(p.timer);
    const lines = p.lines;
    out({
      type: 'apply_output',
      '@message': `${outputTitle(p.step, plan)} │ ${lines[lines.length - 1]!.text}`,
      id,
      lines,
      omitted: p.omitted,
    });
    Object.assign(p, { lines: [], omitted: 0, timer: null, last: Date.now() });
  };
  const collect = (step: Step, lines: OutputLine[]): void => {
    const p = pending.get(step.id) ?? { step, lines: [], omitted: 0, timer: null, last: 0 };
    pending.set(step.id, p);
    p.lines.push(...lines.slice(-OUTPUT_EVENT_LINES));
    const over = p.lines.length - OUTPUT_EVENT_LINES;
    p.omitted += Math.max(0, lines.length - OUTPUT_EVENT_LINES) + Math.max(0, over);
    if (over > 0) p.lines = p.lines.slice(over);
    const wait = p.last + OUTPUT_EVENT_MS - Date.now();
    if (wait <= 0) flush(step.id);
    else p.timer ??= setTimeout(() => flush(step.id), wait);
  };
  const timer = setInterval(() => {
    for (const { step, t0 } of running.values()) {
      out({ type: 'apply_progress', '@message': `${stepTitle(step, plan)}: still running`, id: step.id, elapsed_ms: Date.now() - t0 });
    }
  }, 10_000);
  timer.unref();
  return {
    onEvent: (e) => {
      const id = e.step.id;
      if (e.type === 'step-output') {
        collect(e.step, e.lines);
        return;
      }
      if (e.type === 'step-start') {
        running.set(id, { step: e.step, t0: Date.now() });
        out({ type: 'apply_start', '@message': `${stepTitle(e.step, plan)}: starting`, id });
        return;
      }
      running.delete(id);
      flush(id);
      pending.delete(id);
      const o = e.outcome;
      if (o.status === 'done')
        out({
          type: 'apply_complete',
          '@message': `${stepTitle(e.step, plan)}: ${o.changed ? 'done' : o.note}`,
          id,
          changed: o.changed,
          elapsed_ms: o.ms,
        });
      else if (o.status === 'failed')
        out({
          type: 'apply_errored',
          '@message': `${stepTitle(e.step, plan)}: ${o.error.message}`,
          id,
          error: o.error.message,
          ...setupFacts(o.error),
          elapsed_ms: o.ms,
        });
      else out({ type: 'apply_skipped', '@message': `${stepTitle(e.step, plan)}: skipped (${o.reason})`, id, reason: o.reason });
    },
    close: () => {
      clearInterval(timer);
      for (const p of pending.values()) if (p.timer) clearTimeout(p.timer);
    },
  };
}

export function emitSummary(out: Out, s: ApplySummary): void {
  out({
    type: 'change_summary',
    '@message': `Apply ${s.failed.length + s.skipped.length === 0 ? 'complete' : 'incomplete'}: ${s.done} done, ${s.unchanged} already so, ${s.failed.length} failed, ${s.skipped.length} skipped`,
    done: s.done,
    unchanged: s.unchanged,
    failed: s.failed.length,
    skipped: s.skipped.length,
    elapsed_ms: s.ms,
    ...(s.failed.length > 0
      ? {
          failures: s.failed.map((f) => ({
            id: f.step.id,
            ...(f.step.host !== undefined ? { host: f.step.host } : {}),
            error: f.error.message,
            ...setupFacts(f.error),
          })),
        }
      : {}),
  });
}

export function emitDiagnostic(
  out: Out,
  severity: 'error' | 'warning',
  summary: string,
  detail = '',
  range?: { file: string; line: number; column: number },
): void {
  const where = range ? { range: { file: range.file, line: range.line, column: range.column } } : {};
  out({ type: 'diagnostic', '@message': `${severity}: ${summary}`, severity, summary, detail, ...where });
}
