// What viz draws, worked out once from the plan value for both the text and the SVG form: per
// level, its range, kept entries and children's maps as absolute host ids, the free ids, the
// overlaps, and the rules the level's range and slices follow. Formats, decides nothing: the
// layout analysis is core/ids/layout.ts, the host ids core/ids/host-ids.ts.

import { daemonName, flavourInfo } from '../core/flavour/index.js';
import { containerHostIds, levelHostBase } from '../core/ids/host-ids.js';
import { rangeLayout } from '../core/ids/layout.js';
import { type IdRange, formatRange, rangeEnd } from '../core/ids/range.js';
import type { LevelSummary, Plan } from '../core/plan/model.js';
import { levelLabel } from '../core/paths.js';

export type VizRowKind = 'range' | 'pinned' | 'shared' | 'isolated' | 'dockremap';

export interface VizRow {
  kind: VizRowKind;
  label: string;
  /** Host ids. */
  ids: IdRange;
  /** Problems to flag on the row (overlap, outside the range, fit rule). */
  flags: string[];
}

export interface VizLevel {
  path: string;
  title: string;
  /** The axis, in host ids: the level's own ids (or, for the host, what it hands out). */
  axis: IdRange;
  rows: VizRow[];
  free: IdRange[];
  /** Where the level's range comes from. */
  rangeFrom: string;
  /** How isolated slices must fit, for the level's flavour. */
  fitRule: string;
}

const FIT: Record<'strict' | 'inclusive', string> = {
  strict: 'an isolated slice must end before the range does (offset + size < end)',
  inclusive: 'an isolated slice may end where the range does (offset + size <= end)',
};

export const span = (r: IdRange): string => `${r.start}..${rangeEnd(r) - 1}`;

function union(ranges: IdRange[]): IdRange {
  const lo = Math.min(...ranges.map((r) => r.start));
  return { start: lo, size: Math.max(...ranges.map(rangeEnd)) - lo };
}

function vizLevel(level: LevelSummary, hostIds: ReturnType<typeof containerHostIds>): VizLevel {
  const info = flavourInfo(level.flavour);
  const base = levelHostBase(hostIds, level.path) ?? 0;
  const abs = (r: IdRange): IdRange => ({ start: base + r.start, size: r.size });
  const layout = rangeLayout(level.daemonRange, level.children, info.idmapFit);
  const rows: VizRow[] = [{ kind: 'range', label: `${daemonName(level.flavour)} range`, ids: abs(level.daemonRange), flags: [] }];
  for (const p of level.pinned) rows.push({ kind: 'pinned', label: `kept for ${p.by.join(', ')}`, ids: abs(p.range), flags: [] });
  for (const ch of level.children) {
    const flags = [
      ...layout.overlaps.filter((pair) => pair.includes(ch.path)).map((pair) => `OVERLAPS ${pair[0] === ch.path ? pair[1] : pair[0]}`),
      ...(layout.outside.includes(ch.path) ? ['OUTSIDE the range'] : []),
      ...(layout.misfit.includes(ch.path) ? [`BREAKS the fit rule: ${FIT[info.idmapFit]}`] : []),
    ];
    rows.push({ kind: ch.isolated ? 'isolated' : 'shared', label: ch.path, ids: abs(ch.map), flags });
    // Docker's remapped containers run inside the child's map, on ids of its own id space.
    if (ch.dockremap)
      rows.push({
        kind: 'dockremap',
        label: `${ch.path}: Docker's dockremap`,
        ids: abs({ start: ch.map.start + ch.dockremap.start, size: ch.dockremap.size }),
        flags: rangeEnd(ch.dockremap) > ch.map.size ? [`OUTSIDE ${ch.path}'s map`] : [],
      });
  }
  const own = hostIds.find((h) => h.path === level.path)?.host;
  const axis = union([...(own ? [own] : []), ...rows.map((r) => r.ids)]);
  const rangeFrom = level.entry
    ? `root's /etc/subuid and /etc/subgid entry ${formatRange(level.entry)}${level.path === '' ? '' : ` (in ${levelLabel(level.path)}'s own ids)`}`
    : `the kernel's default (${info.daemonName} from the ${level.flavour} package ignores /etc/subuid)`;
  return {
    path: level.path,
    title: `${levelLabel(level.path)} (${info.title}${level.observed ? '' : ', new'})`,
    axis,
    rows,
    free: layout.free.map(abs),
    rangeFrom,
    fitRule: `${daemonName(level.flavour)}: ${FIT[info.idmapFit]}`,
  };
}

/** In a plan of several hosts, each host's levels are drawn apart, titled with their host (`[nxr1] r1 (…)`). */
export function vizModel(plan: Pick<Plan, 'levels'>): VizLevel[] {
  const hosts = [...new Set(plan.levels.map((l) => l.host))];
  return hosts.flatMap((host) => {
    const levels = plan.levels.filter((l) => l.host === host);
    const hostIds = containerHostIds(levels);
    return levels.map((l) => {
      const v = vizLevel(l, hostIds);
      return host === undefined ? v : { ...v, title: `[${host}] ${v.title}` };
    });
  });
}
