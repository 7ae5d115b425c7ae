// Schema-valid data → Manifest: defaults applied, config values as LXD stores them, positions kept.

import { type ConfigValue, lxdString } from './config-keys.js';
import { daemonJsonFile, dockerRemapSize, dockerWanted } from './docker.js';
import { buildFiles, type RawFile } from './files.js';
import { remoteDaemon } from './hosts.js';
import { buildProfiles, type RawProfiles } from './profiles.js';
import { type ContainerSpec, type Flavour, type HostPlace, type HostSpec, LOCAL_HOST, type LxcSpec, type Manifest } from './model.js';
import type { SourcePos } from './model.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';

/** The manifest's data as the schema guarantees it. */
export interface RawManifest {
  apiVersion: 'nestctl/v1';
  host?: RawHost;
  hosts?: Record<string, RawHost & { remote?: string; cli?: 'lxc' | 'incus'; project?: string; shell?: string[] }>;
  defaults?: { image?: string; profiles?: string[]; config?: Record<string, ConfigValue> };
  containers: RawContainer[];
  moved?: Array<{ from: string; to: string }>;
}

interface RawHost {
  owner?: string;
  base?: number;
  restart?: string[];
  flavour?: Flavour;
  profiles?: RawProfiles;
}

export interface RawContainer {
  name: string;
  host?: string;
  target?: string;
  runtime?: 'lxd' | 'lxc';
  user?: string;
  template?: string;
  template_args?: string[];
  bridge?: string;
  copy_of?: string;
  image?: string;
  profiles?: string[];
  config?: Record<string, ConfigValue>;
  ignore_changes?: string[];
  adopt?: boolean;
  idmap?: { isolated?: boolean; size?: number };
  docker?: boolean | { userns_remap?: boolean | { size: number } };
  flavour?: Flavour;
  files?: RawFile[];
  setup?: string[][];
  inside?: { profiles?: RawProfiles };
  containers?: RawContainer[];
}

type Defaults = NonNullable<RawManifest['defaults']>;

export function buildManifest(raw: RawManifest, file: string, src: Source): Manifest {
  const defaults = raw.defaults ?? {};
  const hosts = raw.hosts
    ? Object.entries(raw.hosts).map(([name, h]) => buildHost(name, h, placeOf(h), keyPos(src, ['hosts', name]), ['hosts', name], src))
    : [buildHost(LOCAL_HOST, raw.host ?? {}, { kind: 'local' }, raw.host ? keyPos(src, ['host']) : valuePos(src, []), null, src)];
  // checks.ts refuses a hosts: map with several entries when a root container names none.
  const only = hosts.length === 1 ? hosts[0]!.name : LOCAL_HOST;
  const host = hosts[0]!;
  return {
    apiVersion: raw.apiVersion,
    file,
    host,
    hosts,
    containers: buildList(raw.containers, '', ['containers'], defaults, src, (c) => c.host ?? only),
    lxc: lxcNodes(raw.containers).map(({ c, i }) => buildLxc(c, '', ['containers', i], src, c.host ?? only)),
    hostPos: host.pos,
    moves: (raw.moved ?? []).map((m, i) => ({ from: m.from, to: m.to, pos: valuePos(src, ['moved', i]) })),
  };
}

function placeOf(h: NonNullable<RawManifest['hosts']>[string]): HostPlace {
  if (h.remote === undefined) return { kind: 'local' };
  return {
    kind: 'remote',
    remote: h.remote,
    cli: h.cli ?? null,
    ...remoteDaemon(h.cli ?? null, h.flavour ?? null),
    project: h.project ?? null,
    shell: h.shell ? [...h.shell] : null,
  };
}

/** `at`: the entry's path in `hosts:`, or null for `host:`. */
function buildHost(name: string, host: RawHost, place: HostPlace, pos: SourcePos, at: Path | null, src: Source): HostSpec {
  return {
    name,
    section: at ? `hosts.${name}` : 'host',
    place,
    pos,
    owner: host.owner ?? 'root',
    base: host.base ?? null,
    restart: host.restart ? [...host.restart] : null,
    flavour: host.flavour ?? null,
    profiles: buildProfiles(host.profiles ?? {}, [...(at ?? ['host']), 'profiles'], src),
  };
}

function lxdConfig(config: Record<string, ConfigValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, lxdString(v)]));
}

function buildContainer(c: RawContainer, parent: string, at: Path, defaults: Defaults, src: Source, host: string): ContainerSpec {
  const path = parent ? `${parent}/${c.name}` : c.name;
  // The schema requires an image on every container when defaults.image is absent.
  const image = c.image ?? defaults.image ?? '';
  return {
    name: c.name,
    path,
    image,
    profiles: [...(c.profiles ?? defaults.profiles ?? ['default'])],
    config: lxdConfig({ ...defaults.config, ...c.config }),
    ignoreChanges: [...(c.ignore_changes ?? [])],
    adopt: c.adopt ?? false,
    idmap: c.idmap ? { isolated: c.idmap.isolated ?? false, size: c.idmap.size ?? null } : null,
    docker: dockerWanted(c.docker),
    dockerRemap: dockerRemapSize(c.docker),
    flavour: c.flavour ?? null,
    files: [
      ...buildFiles(c.files ?? [], [...at, 'files'], src),
      ...(dockerRemapSize(c.docker) !== null ? [daemonJsonFile(valuePos(src, [...at, 'docker']))] : []),
    ],
    setup: (c.setup ?? []).map((argv) => [...argv]),
    host,
    target: c.target ? { value: c.target, pos: valuePos(src, [...at, 'target']) } : null,
    containers: buildList(c.containers ?? [], path, [...at, 'containers'], defaults, src, () => host),
    insideProfiles: buildProfiles(c.inside?.profiles ?? {}, [...at, 'inside', 'profiles'], src),
    lxc: lxcNodes(c.containers ?? []).map(({ c: child, i }) => buildLxc(child, path, [...at, 'containers', i], src, host)),
    copyOf: null,
    pos: valuePos(src, at),
  };
}

/** A list's LXD containers, each copy (copy_of) with what it takes from its source, built above it (checks.ts sees to that). */
function buildList(list: RawContainer[], parent: string, at: Path, defaults: Defaults, src: Source, hostOf: (c: RawContainer) => string) {
  const built = new Map<string, ContainerSpec>();
  return lxdNodes(list).map(({ c, i }) => {
    const own = buildContainer(c, parent, [...at, i], defaults, src, hostOf(c));
    const source = c.copy_of !== undefined ? built.get(c.copy_of) : undefined;
    const spec = source ? copied(source, own, c, valuePos(src, [...at, i, 'copy_of'])) : own;
    built.set(spec.name, spec);
    return spec;
  });
}

/**
 * A copy: its source's image, profiles, config, idmap, Docker, files, setup and containers, with
 * what it says itself on top (config keys, files by path and containers by name replace the
 * source's; its setup commands run after the source's).
 */
function copied(source: ContainerSpec, own: ContainerSpec, raw: RawContainer, pos: SourcePos): ContainerSpec {
  const said = (key: keyof RawContainer): boolean => raw[key] !== undefined;
  const files = [...source.files.filter((f) => !own.files.some((g) => g.path === f.path)), ...own.files];
  const names = new Set([...own.containers, ...own.lxc].map((c) => c.name));
  return {
    ...own,
    image: source.image,
    profiles: said('profiles') ? own.profiles : [...source.profiles],
    config: { ...source.config, ...lxdConfig(raw.config ?? {}) },
    ignoreChanges: said('ignore_changes') ? own.ignoreChanges : [...source.ignoreChanges],
    idmap: said('idmap') ? own.idmap : source.idmap,
    docker: said('docker') ? own.docker : source.docker,
    dockerRemap: said('docker') ? own.dockerRemap : source.dockerRemap,
    flavour: said('flavour') ? own.flavour : source.flavour,
    files,
    setup: [...source.setup.map((argv) => [...argv]), ...own.setup],
    containers: [...source.containers.filter((c) => !names.has(c.name)).map((c) => rebased(c, own.path)), ...own.containers],
    insideProfiles: said('inside') ? own.insideProfiles : source.insideProfiles,
    lxc: [...source.lxc.filter((c) => !names.has(c.name)).map((c) => rebasedLxc(c, own.path)), ...own.lxc],
    copyOf: {
      name: source.name,
      path: source.path,
      setup: source.setup.length,
      files: files.filter((f) => source.files.includes(f)).map((f) => f.path),
      pos,
    },
  };
}

/** A container of a copy's source, at its place in the copy. */
function rebased(spec: ContainerSpec, parent: string): ContainerSpec {
  const path = `${parent}/${spec.name}`;
  return {
    ...spec,
    path,
    containers: spec.containers.map((c) => rebased(c, path)),
    lxc: spec.lxc.map((c) => rebasedLxc(c, path)),
    copyOf: spec.copyOf ? { ...spec.copyOf, path: `${parent}/${spec.copyOf.name}` } : null,
  };
}

function rebasedLxc(spec: LxcSpec, parent: string): LxcSpec {
  const path = `${parent}/${spec.name}`;
  return { ...spec, path, containers: spec.containers.map((c) => rebasedLxc(c, path)) };
}

/** LXC's own download-free template; `local` and `download` are the others LXC ships. */
export const DEFAULT_LXC_TEMPLATE = 'busybox';

const indexed = (list: RawContainer[]): Array<{ c: RawContainer; i: number }> => list.map((c, i) => ({ c, i }));
const lxdNodes = (list: RawContainer[]) => indexed(list).filter(({ c }) => c.runtime !== 'lxc');
const lxcNodes = (list: RawContainer[]) => indexed(list).filter(({ c }) => c.runtime === 'lxc');

// Defaults are LXD's (image, profiles, LXD config keys): an LXC node takes none of them.
function buildLxc(c: RawContainer, parent: string, at: Path, src: Source, host: string): LxcSpec {
  const path = parent ? `${parent}/${c.name}` : c.name;
  return {
    runtime: 'lxc',
    name: c.name,
    path,
    user: c.user ?? null,
    template: c.template ?? DEFAULT_LXC_TEMPLATE,
    templateArgs: [...(c.template_args ?? [])],
    config: lxdConfig(c.config ?? {}),
    bridge: c.bridge ?? null,
    host,
    containers: lxcNodes(c.containers ?? []).map(({ c: child, i }) => buildLxc(child, path, [...at, 'containers', i], src, host)),
    pos: valuePos(src, at),
  };
}
