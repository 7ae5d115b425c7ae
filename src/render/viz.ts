// `nestctl viz`: every level's range and its children's maps, drawn to scale within the level.

import { daemonName } from '../core/flavour/index.js';
import { formatRange, rangeEnd } from '../core/ids/range.js';
import type { LevelSummary, Plan } from '../core/plan/model.js';
import type { Colours } from './colour.js';
import { levelLabel } from '../core/paths.js';

const WIDTH = 48;

function bar(total: number, start: number, size: number): string {
  const from = Math.floor((start / total) * WIDTH);
  const to = Math.max(from + 1, Math.ceil(((start + size) / total) * WIDTH));
  return '·'.repeat(from) + '█'.repeat(Math.min(WIDTH, to) - from) + '·'.repeat(Math.max(0, WIDTH - to));
}

function drawLevel(level: LevelSummary, c: Colours): string[] {
  const name = levelLabel(level.path);
  const space = Math.max(rangeEnd(level.daemonRange), ...level.children.map((ch) => rangeEnd(ch.map)));
  const head = level.entry ? `root:${formatRange(level.entry)}` : `${level.flavour} range ${formatRange(level.daemonRange)}`;
  const lines = [c.bold(`${name}`) + `  ${head}${level.observed ? '' : c.dim('  (new)')}`];
  lines.push(`  ${c.cyan(bar(space, level.daemonRange.start, level.daemonRange.size))}  ${daemonName(level.flavour)} range ${level.daemonRange.start}..${rangeEnd(level.daemonRange) - 1}`);
  for (const p of level.pinned) lines.push(`  ${c.yellow(bar(space, p.range.start, p.range.size))}  kept ${formatRange(p.range)} for ${p.by.join(', ')}`);
  for (const ch of level.children) {
    lines.push(`  ${c.green(bar(space, ch.map.start, ch.map.size))}  ${ch.path}: 0 ${ch.map.start} ${ch.map.size}${ch.isolated ? ' (isolated)' : ''}`);
  }
  return lines;
}

export function renderViz(plan: Plan, c: Colours): string {
  return plan.levels.flatMap((l) => [...drawLevel(l, c), '']).join('\n');
}
