// `nestctl viz --format svg`: the same drawing as the text viz, as one standalone SVG document
// (no scripts, no external references). Every text from the plan is escaped.

import { rangeEnd } from '../core/ids/range.js';
import type { Plan } from '../core/plan/model.js';
import { visible } from './visible.js';
import { type VizLevel, type VizRowKind, span, vizModel } from './viz-model.js';

const LEFT = 16;
const BAR = 520;
const ROW = 18;
const WIDTH = 1100;

const FILL: Record<VizRowKind | 'free', string> = {
  range: '#3b82f6',
  pinned: '#eab308',
  shared: '#22c55e',
  isolated: '#15803d',
  free: '#e5e7eb',
  dockremap: '#a855f7',
};

const LEGEND: Array<[VizRowKind | 'free', string]> = [
  ['range', 'daemon range'],
  ['shared', 'shared map (the whole range)'],
  ['isolated', 'isolated slice'],
  ['pinned', 'kept for running containers'],
  ['free', 'free ids of the range'],
  ['dockremap', "Docker's dockremap range"],
];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

const text = (x: number, y: number, s: string, cls = ''): string =>
  `<text x="${x}" y="${y}"${cls ? ` class="${cls}"` : ''}>${escapeXml(visible(s))}</text>`;

function rect(x: number, y: number, w: number, cls: string, title: string): string {
  return `<rect class="${cls}" x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="${ROW - 4}"><title>${escapeXml(visible(title))}</title></rect>`;
}

function drawLevel(level: VizLevel, top: number): { svg: string[]; height: number } {
  const x = (id: number): number => LEFT + ((id - level.axis.start) / level.axis.size) * BAR;
  const w = (r: { start: number; size: number }): number => x(rangeEnd(r)) - x(r.start);
  const out = [
    text(LEFT, top + 14, level.title, 'title'),
    `<line class="axis" x1="${LEFT}" y1="${top + 24}" x2="${LEFT + BAR}" y2="${top + 24}"/>`,
  ];
  out.push(
    text(LEFT, top + 38, `host id ${level.axis.start}`, 'tick'),
    text(LEFT + BAR, top + 38, `${rangeEnd(level.axis) - 1}`, 'tick end'),
  );
  let y = top + 46;
  for (const r of level.rows) {
    const cls = r.kind === 'range' || r.kind === 'pinned' ? r.kind : `slice ${r.kind}${r.flags.length > 0 ? ' flagged' : ''}`;
    out.push(rect(x(r.ids.start), y, w(r.ids), cls, `${r.label}: host ids ${span(r.ids)}`));
    out.push(
      text(
        LEFT + BAR + 12,
        y + 11,
        `${r.label}  ${span(r.ids)}  ${r.ids.size} ids${r.flags.length > 0 ? `  ! ${r.flags.join('; ')}` : ''}`,
        r.flags.length > 0 ? 'flag' : '',
      ),
    );
    y += ROW;
  }
  for (const f of level.free) out.push(rect(x(f.start), y, w(f), 'free', `free: host ids ${span(f)}`));
  out.push(
    text(
      LEFT + BAR + 12,
      y + 11,
      `free: ${level.free.length === 0 ? 'none' : level.free.map((f) => `${span(f)} (${f.size} ids)`).join(', ')}`,
    ),
  );
  y += ROW;
  out.push(text(LEFT, y + 12, `range from ${level.rangeFrom}`, 'note'), text(LEFT, y + 28, `fit rule, ${level.fitRule}`, 'note'));
  return { svg: out, height: y + 44 - top };
}

export function renderVizSvg(plan: Pick<Plan, 'levels'>): string {
  const body: string[] = [];
  let y = 8;
  const levels = vizModel(plan);
  // dockremap appears only where a container remaps Docker.
  const shown = (kind: string): boolean => kind !== 'dockremap' || levels.some((l) => l.rows.some((r) => r.kind === 'dockremap'));
  LEGEND.filter(([kind]) => shown(kind)).forEach(([kind, label], i) => {
    const lx = LEFT + i * 210;
    body.push(`<rect class="legend ${kind}" x="${lx}" y="${y}" width="14" height="14"/>`, text(lx + 20, y + 12, label));
  });
  y += 30;
  for (const level of levels) {
    const drawn = drawLevel(level, y);
    body.push(`<g class="level">`, ...drawn.svg, `</g>`);
    y += drawn.height;
  }
  const style = [
    'text { font: 12px monospace; fill: #111827; }',
    '.title { font-weight: bold; } .note, .tick { fill: #4b5563; } .end { text-anchor: end; } .flag { fill: #dc2626; font-weight: bold; }',
    '.axis { stroke: #6b7280; }',
    ...Object.entries(FILL)
      .filter(([k]) => shown(k))
      .map(([k, v]) => `.${k} { fill: ${v}; }`),
    '.flagged { stroke: #dc2626; stroke-width: 2; }',
  ].join(' ');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}">`,
    '<title>nestctl viz: id ranges as host ids</title>',
    `<style>${style}</style>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
