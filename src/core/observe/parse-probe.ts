// Probe output (see adapters/lxd/probe-script.ts) → ObservedLevel. Pure.

import { parseProcIdMap } from '../ids/idmap.js';
import type { Flavour } from '../manifest/model.js';
import {
  type DaemonState,
  type FileState,
  MANAGED_PROJECT,
  type ObservedImage,
  type ClusterMember,
  type ObservedInstance,
  type ObservedLevel,
  type ObservedProfile,
} from '../observed.js';
import { sha256 } from '../hash.js';
import { instanceName, records, refuse, stringMap, unique } from './untrusted.js';

interface Fact {
  status: string;
  body: string;
}

/** The probe's facts by name; a fact given twice is a lie (the script says each once) and refused. */
export function parseProbeFacts(output: string, mark: string, level: string): Map<string, Fact> {
  const facts = new Map<string, Fact>();
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${mark} `)) continue;
    const [, name, status, b64 = ''] = line.split(' ');
    if (!name || status === undefined) continue;
    if (facts.has(name)) refuse(`the probe's fact ${JSON.stringify(name)} came twice`, level);
    facts.set(name, { status, body: Buffer.from(b64, 'base64').toString('utf8') });
  }
  return facts;
}

function fileState(f: Fact | undefined): FileState {
  if (!f || f.status === 'absent') return { text: null, sha256: null, mtime: null };
  return { text: f.body, sha256: sha256(f.body), mtime: Number(f.status) };
}

function json<T>(f: Fact | undefined, fallback: T): T {
  if (f?.status !== '0') return fallback;
  try {
    return JSON.parse(f.body) as T;
  } catch {
    return fallback;
  }
}

export interface ApiInstance {
  name: string;
  project?: string;
  status: string;
  profiles?: string[];
  config?: Record<string, string>;
  /** The cluster member; "none" (or "") off-cluster. */
  location?: string;
}
export interface ApiImage {
  fingerprint: string;
  aliases?: Array<{ name: string }>;
}
interface ApiNetwork {
  name: string;
  managed?: boolean;
  config?: Record<string, string>;
}
interface ApiPool {
  name: string;
  driver?: string;
}
export interface ApiProfile {
  name: string;
  description?: string;
  config?: Record<string, string>;
  devices?: Record<string, Record<string, string>>;
  used_by?: string[];
}
interface ApiServer {
  environment?: { server_version?: string; server_clustered?: boolean };
}
/** A member as `/1.0/cluster/members?recursion=1` gives it (LXD shared/api/cluster.go, ClusterMember). */
export interface ApiMember {
  server_name: string;
  status?: string;
  groups?: string[];
}

/** systemd's "Mon 2026-11-23 12:34:34.848906 UTC" when there, else the pid-based estimate. */
function daemonStart(facts: Map<string, Fact>): number | null {
  const utc = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? UTC/.exec(facts.get('daemon_started_utc')?.body ?? '');
  if (utc) return Date.parse(`${utc[1]}T${utc[2]}Z`) / 1000 + Number(utc[3] ?? 0);
  const estimate = Number(facts.get('daemon_started')?.status);
  return Number.isFinite(estimate) && estimate > 0 ? estimate : null;
}

/**
 * The flavours installed, from the probe's raw facts. A snap LXD puts its own `lxd` on the PATH,
 * so a Debian package is counted only without the snap.
 */
export function installedFlavours(output: string, mark: string, level: string): Flavour[] {
  const facts = parseProbeFacts(output, mark, level);
  const has = (name: string): boolean => facts.get(name)?.status === 'yes';
  const out: Flavour[] = [];
  if (has('has_snap_lxd')) out.push('snap');
  else if (has('has_lxd')) out.push('debian');
  if (has('has_incus')) out.push('incus');
  return out;
}

/** A level with daemons installed where none was chosen to ask (decideFlavour refused). */
export function undecidedDaemon(installed: readonly Flavour[]): DaemonState {
  return { kind: 'down', error: `not asked: ${installed.join(' and ')} installed, and none chosen` };
}

/** `installed` as ObservedLevel carries it: only when it is not just the flavour asked. */
export function installedField(installed: Flavour[], asked: Flavour | null): { installed?: Flavour[] } {
  return installed.length === 0 || (installed.length === 1 && installed[0] === asked) ? {} : { installed };
}

/**
 * `flavour`: the daemon the probe asked (the core's decideFlavour over installedFlavours), or
 * null when none was asked: nothing installed (missing), or no flavour could be decided.
 */
/** The answer of `lxc query '/1.0/images?recursion=1'` (the probe's images fact). */
export function observedImages(api: unknown, level: string): ObservedImage[] {
  const images = records<ApiImage>(api, 'the image list', level).map((i) => {
    if (typeof i.fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(i.fingerprint))
      refuse(`an image's fingerprint is ${JSON.stringify(i.fingerprint)}`, level);
    const aliases = records<{ name: string }>(i.aliases ?? [], `image ${i.fingerprint}'s aliases`, level).map((a) => {
      if (typeof a.name !== 'string') refuse(`an alias of image ${i.fingerprint} has no name`, level);
      return a.name;
    });
    return { fingerprint: i.fingerprint, aliases };
  });
  unique(
    images.flatMap((i) => i.aliases),
    (a) => a,
    'image alias',
    level,
  );
  return unique(images, (i) => i.fingerprint, 'image', level);
}

/** The answer of `lxc query '/1.0/instances?recursion=1&all-projects=true'` (the probe's instances fact). */
export function observedInstances(api: unknown, level: string): ObservedInstance[] {
  const instances = records<ApiInstance>(api, 'the instance list', level).map((i) => {
    const name = instanceName(i.name, level);
    if (typeof i.status !== 'string') refuse(`instance ${name} has no status`, level);
    return {
      name,
      project: typeof i.project === 'string' && i.project !== '' ? i.project : MANAGED_PROJECT,
      status: i.status,
      profiles: strings(i.profiles, `instance ${name}'s profiles`, level),
      config: stringMap(i.config, `instance ${name}'s config`, level),
      ...(typeof i.location === 'string' && i.location !== '' && i.location !== 'none' ? { location: i.location } : {}),
    };
  });
  return unique(instances, (i) => `${i.project}/${i.name}`, 'instance', level);
}

interface ApiAddress {
  family?: unknown;
  address?: unknown;
  scope?: unknown;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/**
 * The answer of `lxc query '/1.0/instances?recursion=2&all-projects=true'` (the probe's addresses
 * fact): each instance's global IPv4 addresses, by "project/name", in the order its interfaces
 * list them. A stopped instance has no state (null) and so no address.
 */
export function observedAddresses(api: unknown, level: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of records<{ name?: unknown; project?: unknown; state?: unknown }>(api, 'the instance state list', level)) {
    const name = instanceName(i.name, level);
    const project = typeof i.project === 'string' && i.project !== '' ? i.project : MANAGED_PROJECT;
    const state = i.state;
    if (state !== undefined && state !== null && (typeof state !== 'object' || Array.isArray(state)))
      refuse(`instance ${name}'s state is not an object`, level);
    const network = (state as { network?: unknown } | null | undefined)?.network;
    if (network !== undefined && network !== null && (typeof network !== 'object' || Array.isArray(network)))
      refuse(`instance ${name}'s network state is not a map`, level);
    const addresses: string[] = [];
    for (const [iface, body] of Object.entries((network ?? {}) as Record<string, unknown>)) {
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        refuse(`instance ${name}'s interface ${JSON.stringify(iface)} is not an object`, level);
      const listed = (body as { addresses?: unknown }).addresses;
      for (const a of records<ApiAddress>(listed ?? [], `instance ${name}'s addresses on ${JSON.stringify(iface)}`, level)) {
        if (a.family !== 'inet' || a.scope !== 'global') continue;
        if (typeof a.address !== 'string' || !IPV4.test(a.address))
          refuse(`instance ${name} has the IPv4 address ${JSON.stringify(a.address)}`, level);
        addresses.push(a.address);
      }
    }
    const key = `${project}/${name}`;
    if (out.has(key)) refuse(`instance state ${JSON.stringify(key)} is listed twice`, level);
    out.set(key, addresses);
  }
  return out;
}

/** The instances with the addresses their state lists, when the probe read them. */
function withAddresses(instances: ObservedInstance[], fact: Fact | undefined, level: string): ObservedInstance[] {
  if (fact?.status !== '0') return instances;
  const addresses = observedAddresses(json<unknown>(fact, []), level);
  return instances.map((i) => {
    const v4 = addresses.get(`${i.project}/${i.name}`);
    return v4 === undefined ? i : { ...i, ipv4: v4 };
  });
}

function strings(value: unknown, what: string, level: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) refuse(`${what} is not a list of names`, level);
  return value as string[];
}

/** The members of a clustered server (`/1.0` says environment.server_clustered), from the probe's members fact; absent otherwise. */
export function observedCluster(server: ApiServer, api: unknown, level: string): { cluster?: { members: ClusterMember[] } } {
  if (server.environment?.server_clustered !== true) return {};
  const members = records<ApiMember>(api, 'the cluster member list', level);
  return { cluster: { members: members.map((m) => ({ name: m.server_name, status: m.status ?? 'Online', groups: m.groups ?? [] })) } };
}

/** `/1.0` as the daemon answers it: an object (its environment an object too). */
function serverOf(value: unknown, level: string): ApiServer {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) refuse('the server record is not an object', level);
  const env = (value as ApiServer).environment;
  if (env !== undefined && (env === null || typeof env !== 'object')) refuse("the server's environment is not an object", level);
  return value as ApiServer;
}

/** The pools, each a record or (from a daemon without recursion) its URL. */
function poolList(value: unknown, level: string): ApiPool[] {
  if (!Array.isArray(value)) refuse('the storage pool list is not a list', level);
  return value.map((p: unknown) => {
    if (typeof p === 'string') return poolOf(p);
    if (p === null || typeof p !== 'object' || typeof (p as ApiPool).name !== 'string') refuse('a storage pool has no name', level);
    return p as ApiPool;
  });
}

/** A pool as `/1.0/storage-pools?recursion=1` gives it, or its URL from a probe without recursion. */
const poolOf = (p: ApiPool | string): ApiPool => (typeof p === 'string' ? { name: p.split('/').pop() ?? p } : p);

/** "/1.0/instances/c1" → "c1"; "/1.0/instances/c1?project=p" → "project p/c1". */
function userName(url: string): string {
  const [path = '', query = ''] = url.split('?');
  const name = decodeURIComponent(path.split('/').pop() ?? path);
  const project = new URLSearchParams(query).get('project');
  return project && project !== MANAGED_PROJECT ? `project ${project}/${name}` : name;
}

/** The answer of `lxc query '/1.0/profiles?recursion=1'` (the probe's profiles fact). */
export function observedProfiles(api: unknown, level: string): ObservedProfile[] {
  const profiles = records<ApiProfile>(api, 'the profile list', level).map((p) => {
    if (typeof p.name !== 'string' || p.name === '' || p.name.includes('/')) refuse(`a profile is named ${JSON.stringify(p.name)}`, level);
    const devices = Object.create(null) as Record<string, Record<string, string>>;
    for (const [d, body] of Object.entries(stringMapOfMaps(p.devices, `profile ${p.name}'s devices`, level))) devices[d] = body;
    return {
      name: p.name,
      description: typeof p.description === 'string' ? p.description : '',
      config: stringMap(p.config, `profile ${p.name}'s config`, level),
      devices,
      usedBy: strings(p.used_by, `profile ${p.name}'s used_by`, level).map(userName),
    };
  });
  return unique(profiles, (p) => p.name, 'profile', level);
}

function stringMapOfMaps(value: unknown, what: string, level: string): Record<string, Record<string, string>> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) refuse(`${what} is not a map`, level);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringMap(v, `${what}: ${JSON.stringify(k)}`, level)]));
}

export function parseProbe(path: string, output: string, mark: string, flavour: Flavour | null): ObservedLevel {
  const facts = parseProbeFacts(output, mark, path);
  const installed = installedFlavours(output, mark, path);
  const server = facts.get('server');
  let daemon: DaemonState;
  if (installed.length === 0) daemon = { kind: 'missing' };
  else if (flavour === null) daemon = undecidedDaemon(installed);
  else if (server?.status !== '0') daemon = { kind: 'down', error: (server?.body ?? 'no answer').trim() };
  else {
    daemon = {
      kind: 'up',
      version: serverOf(json<unknown>(server, {}), path).environment?.server_version ?? 'unknown',
      startedAt: daemonStart(facts),
    };
  }
  const profiles = observedProfiles(json<unknown>(facts.get('profiles'), []), path);
  const defaultProfile = profiles.find((p) => p.name === 'default');
  const asked = installed.length === 0 ? null : flavour;
  const pools = poolList(json<unknown>(facts.get('pools'), []), path);
  const kernelFact = facts.get('kernel');
  const kernel = kernelFact?.status === '0' ? kernelFact.body.trim() : '';
  return {
    path,
    flavour: asked,
    ...installedField(installed, asked),
    daemon,
    systemd: facts.get('systemd')?.status === 'yes',
    subuid: fileState(facts.get('subuid')),
    subgid: fileState(facts.get('subgid')),
    subidOriginal: { subuid: fileState(facts.get('subuid_orig')).text, subgid: fileState(facts.get('subgid_orig')).text },
    uidMap: parseProcIdMap(facts.get('uid_map')?.body ?? ''),
    storagePools: pools.map((p) => p.name),
    ...(pools.some((p) => p.driver)
      ? { poolDrivers: Object.fromEntries(pools.flatMap((p) => (p.driver ? [[p.name, p.driver]] : []))) }
      : {}),
    ...(kernel ? { kernel } : {}),
    networks: records<ApiNetwork>(json<unknown>(facts.get('networks'), []), 'the network list', path).map((n) => {
      const v4 = n.config?.['ipv4.address'];
      return { name: n.name, managed: Boolean(n.managed), ipv4: v4 && v4 !== 'none' ? v4 : null };
    }),
    defaultProfileHasRoot: Object.values(defaultProfile?.devices ?? {}).some((d) => d.type === 'disk' && d.path === '/'),
    images: observedImages(json<unknown>(facts.get('images'), []), path),
    instances: withAddresses(observedInstances(json<unknown>(facts.get('instances'), []), path), facts.get('addresses'), path),
    profiles,
    now: Number(facts.get('now')?.status ?? 0),
    ...observedCluster(serverOf(json<unknown>(server, {}), path), json<unknown>(facts.get('members'), []), path),
  };
}
