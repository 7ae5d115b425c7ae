// `nestctl viz`: every level's range, its kept entries and its children's maps, drawn to scale on
// an axis of absolute host ids, with free ids, overlaps and the rules used.

import { rangeEnd } from '../core/ids/range.js';
import type { Plan } from '../core/plan/model.js';
import type { Colours } from './colour.js';
import { type VizLevel, type VizRowKind, span, vizModel } from './viz-model.js';

const WIDTH = 48;

const GLYPH: Record<VizRowKind, string> = { range: '█', pinned: '░', shared: '▒', isolated: '▓', dockremap: '▚' };

const LEGEND = `Legend: ${GLYPH.range} daemon range  ${GLYPH.shared} shared map (the whole range)  ${GLYPH.isolated} isolated slice  ${GLYPH.pinned} kept for running containers  · other ids`;

function bar(axis: { start: number; size: number }, start: number, size: number, glyph: string): string {
  const at = (id: number) => ((id - axis.start) / axis.size) * WIDTH;
  const from = Math.max(0, Math.min(WIDTH - 1, Math.floor(at(start))));
  const to = Math.min(WIDTH, Math.max(from + 1, Math.ceil(at(start + size))));
  return '·'.repeat(from) + glyph.repeat(to - from) + '·'.repeat(WIDTH - to);
}

function drawLevel(level: VizLevel, c: Colours): string[] {
  const width = Math.max(...level.rows.map((r) => r.label.length));
  const colour = { range: c.cyan, pinned: c.yellow, shared: c.green, isolated: c.green, dockremap: c.yellow };
  const lines = [c.bold(level.title), `  host ids ${level.axis.start} ${'─'.repeat(WIDTH - 2)} ${rangeEnd(level.axis) - 1}`];
  for (const r of level.rows) {
    const flags = r.flags.length > 0 ? c.red(`  ! ${r.flags.join('; ')}`) : '';
    const note = r.kind === 'isolated' ? ' (isolated)' : '';
    lines.push(
      `  ${colour[r.kind](bar(level.axis, r.ids.start, r.ids.size, GLYPH[r.kind]))}  ${r.label.padEnd(width)}  ${span(r.ids)}  ${r.ids.size} ids${note}${flags}`,
    );
  }
  lines.push(
    `  free: ${level.free.length === 0 ? 'none (every id of the range is mapped)' : level.free.map((f) => `${span(f)} (${f.size} ids)`).join(', ')}`,
  );
  lines.push(c.dim(`  range from ${level.rangeFrom}`), c.dim(`  fit rule, ${level.fitRule}`));
  return lines;
}

export function renderViz(plan: Pick<Plan, 'levels'>, c: Colours): string {
  const levels = vizModel(plan);
  const remaps = levels.some((l) => l.rows.some((r) => r.kind === 'dockremap'));
  return [
    remaps ? `${LEGEND}  ${GLYPH.dockremap} Docker's dockremap range` : LEGEND,
    '',
    ...levels.flatMap((l) => [...drawLevel(l, c), '']),
  ].join('\n');
}
