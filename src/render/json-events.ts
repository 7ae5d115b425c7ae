// `apply --json`: newline-delimited events, one JSON object a line, nothing else on stdout.
// Shapes are described by schemas/apply-events.schema.json.

import type { Plan, Step } from '../core/plan/model.js';
import type { ApplyEvent, ApplySummary } from '../engine/apply.js';
import { stepTitle } from './plan-text.js';

export const EVENTS_UI_VERSION = '1.0';

type Out = (line: object) => void;

export function jsonLines(stream: NodeJS.WritableStream): Out {
  return (event) => stream.write(`${JSON.stringify({ '@timestamp': new Date().toISOString(), ...event })}\n`);
}

export function emitStart(out: Out, version: string, plan: Plan): void {
  out({ type: 'version', '@message': `nestctl ${version}`, nestctl: version, ui: EVENTS_UI_VERSION });
  for (const step of plan.steps) out({ type: 'planned_change', '@message': `${stepTitle(step, plan)}: planned`, step });
}

/** Engine events → apply_start / apply_complete / apply_errored / apply_skipped, plus apply_progress every 10 s. */
export function jsonProgress(out: Out, plan: Plan): { onEvent: (e: ApplyEvent) => void; close: () => void } {
  const running = new Map<string, { step: Step; t0: number }>();
  const timer = setInterval(() => {
    for (const { step, t0 } of running.values()) {
      out({ type: 'apply_progress', '@message': `${stepTitle(step, plan)}: still running`, id: step.id, elapsed_ms: Date.now() - t0 });
    }
  }, 10_000);
  timer.unref();
  return {
    onEvent: (e) => {
      const id = e.step.id;
      if (e.type === 'step-start') {
        running.set(id, { step: e.step, t0: Date.now() });
        out({ type: 'apply_start', '@message': `${stepTitle(e.step, plan)}: starting`, id });
        return;
      }
      running.delete(id);
      const o = e.outcome;
      if (o.status === 'done') out({ type: 'apply_complete', '@message': `${stepTitle(e.step, plan)}: ${o.changed ? 'done' : o.note}`, id, changed: o.changed, elapsed_ms: o.ms });
      else if (o.status === 'failed') out({ type: 'apply_errored', '@message': `${stepTitle(e.step, plan)}: ${o.error.message}`, id, error: o.error.message, elapsed_ms: o.ms });
      else out({ type: 'apply_skipped', '@message': `${stepTitle(e.step, plan)}: skipped (${o.reason})`, id, reason: o.reason });
    },
    close: () => clearInterval(timer),
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
  });
}

export function emitDiagnostic(out: Out, severity: 'error' | 'warning', summary: string, detail = '', range?: { file: string; line: number; column: number }): void {
  const where = range ? { range: { file: range.file, line: range.line, column: range.column } } : {};
  out({ type: 'diagnostic', '@message': `${severity}: ${summary}`, severity, summary, detail, ...where });
}
