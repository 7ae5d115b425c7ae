// Schema-valid data → Manifest: defaults applied, config values as LXD stores them, positions kept.

import { type ConfigValue, lxdString } from './config-keys.js';
import { daemonJsonFile, dockerRemapSize, dockerWanted } from './docker.js';
import { buildFiles, type RawFile } from './files.js';
import type { ContainerSpec, Flavour, HostSpec, Manifest } from './model.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';

/** The manifest's data as the schema guarantees it. */
export interface RawManifest {
  apiVersion: 'nestctl/v1';
  host?: { owner?: string; base?: number; restart?: string[]; flavour?: Flavour };
  defaults?: { image?: string; profiles?: string[]; config?: Record<string, ConfigValue> };
  containers: RawContainer[];
}

export interface RawContainer {
  name: string;
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
  containers?: RawContainer[];
}

type Defaults = NonNullable<RawManifest['defaults']>;

export function buildManifest(raw: RawManifest, file: string, src: Source): Manifest {
  const defaults = raw.defaults ?? {};
  return {
    apiVersion: raw.apiVersion,
    file,
    host: buildHost(raw.host ?? {}),
    containers: raw.containers.map((c, i) => buildContainer(c, '', ['containers', i], defaults, src)),
    hostPos: raw.host ? keyPos(src, ['host']) : valuePos(src, []),
  };
}

function buildHost(host: NonNullable<RawManifest['host']>): HostSpec {
  return {
    owner: host.owner ?? 'root',
    base: host.base ?? null,
    restart: host.restart ? [...host.restart] : null,
    flavour: host.flavour ?? null,
  };
}

function lxdConfig(config: Record<string, ConfigValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, lxdString(v)]));
}

function buildContainer(c: RawContainer, parent: string, at: Path, defaults: Defaults, src: Source): ContainerSpec {
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
    files: [...buildFiles(c.files ?? [], [...at, 'files'], src), ...(dockerRemapSize(c.docker) !== null ? [daemonJsonFile(valuePos(src, [...at, 'docker']))] : [])],
    setup: (c.setup ?? []).map((argv) => [...argv]),
    containers: (c.containers ?? []).map((child, i) => buildContainer(child, path, [...at, 'containers', i], defaults, src)),
    pos: valuePos(src, at),
  };
}
