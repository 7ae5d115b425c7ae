// `nestctl status` as a table: one row per container, columns aligned, every text that came from
// a host or container made visible (render/visible.ts) before it is measured and padded.

import type { StatusDocument } from '../core/status/document.js';
import type { HostIdRange, StatusChange, StatusRow } from '../core/status/status.js';
import type { Colours } from './colour.js';
import { visible } from './visible.js';

const ids = (r: HostIdRange | null): string => (r ? `${r.start}..${r.end}` : '-');

function hostIdsText(row: StatusRow): string {
  const { uid, gid } = row.hostIds;
  if (!uid && !gid) return '-';
  if (uid && gid && uid.start === gid.start && uid.end === gid.end) return ids(uid);
  // A classic LXC container's gid map is not read (only init's uid_map).
  if (!gid) return `uid ${ids(uid)}`;
  return `uid ${ids(uid)} gid ${ids(gid)}`;
}

function imageText(row: StatusRow): string {
  const image = row.image;
  if (image === null) return '-';
  if ('template' in image) return `lxc ${visible(image.template)}`;
  return visible(image.alias ?? image.fingerprint?.slice(0, 12) ?? '-');
}

function ownerText(row: StatusRow): string {
  if (row.ownership === null) return '-';
  return row.inManifest ? row.ownership : `${row.ownership}, not in manifest`;
}

/** The summary; a change says which kinds of steps it is. */
function planText(p: StatusChange | null): string {
  if (p === null) return '! plan refused';
  return p.summary.startsWith('~') ? `${p.summary} (${p.kinds.join(', ')})` : p.summary;
}

function stateColour(state: string, c: Colours): (s: string) => string {
  if (state === 'RUNNING') return c.green;
  if (state === 'STOPPED') return c.yellow;
  if (state === 'absent' || state === 'unknown') return c.dim;
  return c.red;
}

function planColour(p: StatusChange | null, c: Colours): (s: string) => string {
  if (p === null) return c.red;
  if (!p.changes) return p.summary === 'in sync' ? c.green : c.dim;
  if (p.summary.startsWith('+')) return c.green;
  if (p.summary.startsWith('-')) return c.red;
  return c.yellow;
}

interface Column {
  title: string;
  cell: (row: StatusRow) => string;
  colour?: (row: StatusRow, c: Colours) => (s: string) => string;
}

export function renderStatusText(doc: StatusDocument, c: Colours): string {
  const rows = doc.containers;
  const severalHosts = doc.hosts.some((h) => h.remote !== null) || doc.hosts.length > 1;
  const clustered = rows.some((r) => r.member !== null);
  const columns: Column[] = [
    { title: 'PATH', cell: (r) => visible(r.project ? `${r.path} (project ${r.project})` : r.path) },
    { title: 'STATE', cell: (r) => r.state, colour: (r, c) => stateColour(r.state, c) },
    ...(severalHosts ? [{ title: 'HOST', cell: (r: StatusRow) => visible(r.host ?? '-') }] : []),
    ...(clustered ? [{ title: 'MEMBER', cell: (r: StatusRow) => visible(r.member ?? '-') }] : []),
    { title: 'IMAGE', cell: imageText },
    { title: 'IPV4', cell: (r) => (r.ipv4 === null || r.ipv4.length === 0 ? '-' : visible(r.ipv4.join(','))) },
    { title: 'HOST IDS', cell: hostIdsText },
    { title: 'OWNER', cell: ownerText },
    { title: 'PLAN', cell: (r) => planText(r.plan), colour: (r, c) => planColour(r.plan, c) },
  ];
  const cells = rows.map((r) => columns.map((col) => col.cell(r)));
  const widths = columns.map((col, i) => Math.max(col.title.length, ...cells.map((line) => [...line[i]!].length)));
  const pad = (text: string, i: number): string => (i === columns.length - 1 ? text : text + ' '.repeat(widths[i]! - [...text].length));
  const lines = [
    c.bold(
      columns
        .map((col, i) => pad(col.title, i))
        .join('  ')
        .trimEnd(),
    ),
  ];
  rows.forEach((r, n) => {
    lines.push(
      columns
        .map((col, i) => {
          const text = cells[n]![i]!;
          const colour = col.colour?.(r, c);
          // Padding outside the colour, so the columns stay aligned with colours on.
          const padding = i === columns.length - 1 ? '' : ' '.repeat(widths[i]! - [...text].length);
          return (colour ? colour(text) : text) + padding;
        })
        .join('  ')
        .trimEnd(),
    );
  });
  if (rows.length === 0) lines.push(c.dim('(the manifest has no containers)'));
  const notes: string[] = [];
  for (const r of rows) if (r.unknownBecause) notes.push(c.dim(`${visible(r.path)}: unknown, ${visible(r.unknownBecause)}`));
  for (const h of doc.hosts) {
    if (!h.plan?.changes) continue;
    const where = severalHosts ? `host ${visible(h.name)}` : 'host';
    notes.push(`${where}: ${planText(h.plan)} at the host's own level`);
  }
  const p = doc.plan;
  const summary = p.ok
    ? p.changes
      ? `Plan: ${p.add} container${p.add === 1 ? '' : 's'} to add, ${p.change} to change, ${p.destroy} to destroy (${p.steps} step${p.steps === 1 ? '' : 's'}); nestctl plan shows them.`
      : c.green('In sync: plan has no changes.')
    : c.red(`The plan was refused (${p.problems.length} problem${p.problems.length === 1 ? '' : 's'}, below); nestctl plan says the same.`);
  return `${[...lines, ...(notes.length > 0 ? ['', ...notes] : []), '', summary].join('\n')}\n`;
}
