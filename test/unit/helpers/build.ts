// Small builders for manifests and observed levels, so core tests state only what matters.

import { createHash } from 'node:crypto';
import type { ContainerSpec, Manifest } from '../../../src/core/manifest/model.js';
import type { FileState, ObservedInstance, ObservedLevel } from '../../../src/core/observed.js';

type Node = { name: string; image?: string; isolated?: boolean; size?: number; config?: Record<string, string>; children?: Node[] };

export function node(name: string, children: Node[] = [], extra: Partial<Node> = {}): Node {
  return { name, children, ...extra };
}

function toSpec(n: Node, parent: string, line: number): ContainerSpec {
  const path = parent ? `${parent}/${n.name}` : n.name;
  return {
    name: n.name,
    path,
    image: n.image ?? ((n.children ?? []).length > 0 ? 'nest' : 'busybox'),
    profiles: ['default'],
    config: n.config ?? {},
    ignoreChanges: [],
    adopt: false,
    idmap: n.isolated || n.size ? { isolated: Boolean(n.isolated), size: n.size ?? null } : null,
    docker: false,
    dockerRemap: null,
    flavour: 'debian',
    files: [],
    setup: [],
    host: 'local',
    target: null,
    containers: (n.children ?? []).map((c, i) => toSpec(c, path, line + i + 1)),
    insideProfiles: [],
    copyOf: null,
    lxc: [],
    pos: { line, col: 5 },
  };
}

export function manifest(nodes: Node[], over: Partial<Manifest['host']> = {}): Manifest {
  const host: Manifest['host'] = {
    name: 'local',
    section: 'host',
    place: { kind: 'local' },
    owner: 'root',
    base: null,
    restart: null,
    flavour: null,
    profiles: [],
    pos: { line: 2, col: 1 },
    ...over,
  };
  return {
    apiVersion: 'nestctl/v1',
    file: 'test.yaml',
    host,
    hosts: [host],
    containers: nodes.map((n, i) => toSpec(n, '', 10 + i * 10)),
    lxc: [],
    hostPos: { line: 2, col: 1 },
    moves: [],
  };
}

export const seed = (): Manifest => manifest([node('c1', [node('c2', [node('c3')])])], { base: 500000 });

export function file(text: string | null, mtime = 100): FileState {
  return text === null
    ? { text: null, sha256: null, mtime: null }
    : { text, sha256: createHash('sha256').update(text).digest('hex'), mtime };
}

export const DEBIAN_SUBID = 'root:100000:10000001\n';

export function level(path: string, over: Partial<ObservedLevel> = {}): ObservedLevel {
  return {
    path,
    flavour: 'debian',
    daemon: { kind: 'up', version: '5.0.2', startedAt: 200 },
    systemd: true,
    subuid: file(DEBIAN_SUBID),
    subgid: file(DEBIAN_SUBID),
    subidOriginal: { subuid: null, subgid: null },
    uidMap: [{ isuid: true, isgid: false, nsid: 0, hostid: 0, maprange: 4294967295 }],
    storagePools: ['default'],
    networks: [{ name: 'lxdbr0', managed: true, ipv4: '10.66.0.1/24' }],
    defaultProfileHasRoot: true,
    images: [
      { fingerprint: 'a'.repeat(64), aliases: ['nest'] },
      { fingerprint: 'b'.repeat(64), aliases: ['busybox'] },
    ],
    instances: [],
    profiles: [
      { name: 'default', description: '', config: {}, devices: { root: { type: 'disk', path: '/', pool: 'default' } }, usedBy: [] },
    ],
    now: 300,
    ...over,
  };
}

export function instance(name: string, config: Record<string, string> = {}, status = 'Running'): ObservedInstance {
  return { name, project: 'default', status, profiles: ['default'], config };
}

export function idmapJson(hostid: number, size: number): string {
  return JSON.stringify([
    { Isuid: true, Isgid: false, Hostid: hostid, Nsid: 0, Maprange: size },
    { Isuid: false, Isgid: true, Hostid: hostid, Nsid: 0, Maprange: size },
  ]);
}
