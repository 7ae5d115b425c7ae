// The imported model → manifest text, keys in the schema's order, each note a comment where it
// belongs: above the container (or the host) it is about, or above the `containers:` that lacks
// what was left out.

import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { DOCKREMAP_DEFAULT_SIZE } from '../manifest/docker.js';
import type { ImportedHost, ImportedLxc, ImportedLxd, ImportedNode, ImportedProfile } from './model.js';

export const NOTE_PREFIX = ' not expressible: ';

type Entry = [key: string, value: unknown, notes?: string[]];

const comment = (notes: readonly string[]): string | undefined =>
  notes.length === 0 ? undefined : notes.map((n) => `${NOTE_PREFIX}${n}`).join('\n');

export function renderImport(hosts: ImportedHost[], header: string): string {
  const byHost = hosts.length > 1 || hosts.some((h) => h.remote !== null);
  const doc = new Document();
  const map = (entries: Entry[], notes: readonly string[] = []): YAMLMap => {
    const m = new YAMLMap();
    for (const [key, value, keyNotes] of entries) {
      if (value === undefined) continue;
      const k = new Scalar(key);
      const c = comment(keyNotes ?? []);
      if (c) k.commentBefore = c;
      m.items.push(new Pair(k, value instanceof YAMLMap || value instanceof YAMLSeq ? value : doc.createNode(value)));
    }
    const c = comment(notes);
    if (c) m.commentBefore = c;
    return m;
  };
  const profiles = (ps: ImportedProfile[]): YAMLMap | undefined => {
    if (ps.length === 0) return undefined;
    return map(
      ps.map(
        (p): Entry => [
          p.name,
          map([
            ['description', p.description === '' ? undefined : p.description],
            ['config', Object.keys(p.config).length > 0 ? p.config : undefined],
            ['devices', Object.keys(p.devices).length > 0 ? p.devices : undefined],
          ]),
        ],
      ),
    );
  };
  const containers = (nodes: ImportedNode[], host: string | null = null): YAMLSeq => {
    const seq = new YAMLSeq();
    for (const n of nodes) seq.items.push(n.kind === 'lxd' ? lxd(n, host) : lxc(n, host));
    return seq;
  };
  const lxd = (n: ImportedLxd, host: string | null): YAMLMap =>
    map(
      [
        ['name', n.name],
        ['image', n.image],
        ['profiles', n.profiles ?? undefined],
        ['config', Object.keys(n.config).length > 0 ? n.config : undefined],
        ['idmap', n.idmap ? (n.idmap.size === null ? { isolated: true } : { isolated: true, size: n.idmap.size }) : undefined],
        [
          'docker',
          n.dockerRemap !== null
            ? { userns_remap: n.dockerRemap === DOCKREMAP_DEFAULT_SIZE ? true : { size: n.dockerRemap } }
            : n.docker
              ? true
              : undefined,
        ],
        ['flavour', n.flavour ?? undefined],
        ['adopt', n.adopt ? true : undefined],
        ['host', host ?? undefined],
        ['target', n.target ?? undefined],
        ['inside', n.insideProfiles.length > 0 ? map([['profiles', profiles(n.insideProfiles)]]) : undefined],
        ['containers', n.containers.length > 0 ? containers(n.containers) : undefined, n.containerNotes],
      ],
      [...n.notes, ...(n.containers.length === 0 ? n.containerNotes : [])],
    );
  const lxc = (n: ImportedLxc, host: string | null): YAMLMap =>
    map(
      [
        ['name', n.name],
        ['host', host ?? undefined],
        ['runtime', 'lxc'],
        ['user', n.user ?? undefined],
        ['template', n.template ?? undefined],
        ['bridge', n.bridge ?? undefined],
        ['containers', n.containers.length > 0 ? containers(n.containers) : undefined],
      ],
      n.notes,
    );
  const hostMap = (host: ImportedHost): YAMLMap | undefined => {
    const entries: Entry[] = [
      ['remote', host.remote?.name],
      ['cli', host.remote?.cli ?? undefined],
      ['base', host.base],
      ['flavour', host.flavour ?? undefined],
      ['profiles', profiles(host.profiles)],
    ];
    return entries.some(([, v]) => v !== undefined) ? map(entries) : undefined;
  };
  const seq = new YAMLSeq();
  for (const h of hosts) {
    const part = containers(h.containers, byHost ? h.name : null);
    const first = part.items[0] as YAMLMap | undefined;
    const c = byHost ? comment(h.containerNotes) : undefined;
    if (c && first) first.commentBefore = [c, first.commentBefore].filter(Boolean).join('\n');
    seq.items.push(...part.items);
  }
  const only = hosts[0]!;
  const top: Entry[] = byHost
    ? [
        ['apiVersion', 'nestctl/v1'],
        ['hosts', map(hosts.map((h): Entry => [h.name, hostMap(h) ?? new YAMLMap(), h.notes]))],
        ['containers', seq],
      ]
    : [
        ['apiVersion', 'nestctl/v1'],
        ['host', hostMap(only), only.notes],
        ['containers', seq, only.containerNotes],
      ];
  doc.contents = map(top);
  doc.commentBefore = header;
  // A host with nothing to say still gets its notes, above containers:.
  if (!byHost && !hostMap(only) && only.notes.length > 0) {
    const k = (doc.contents as YAMLMap).items.find((p) => (p.key as Scalar).value === 'containers')?.key as Scalar | undefined;
    if (k) k.commentBefore = [comment(only.notes), k.commentBefore].filter(Boolean).join('\n');
  }
  return doc.toString({ lineWidth: 0 });
}
