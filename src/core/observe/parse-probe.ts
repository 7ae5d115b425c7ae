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

interface Fact {
  status: string;
  body: string;
}

export function parseProbeFacts(output: string, mark: string): Map<string, Fact> {
  const facts = new Map<string, Fact>();
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${mark} `)) continue;
    const [, name, status, b64 = ''] = line.split(' ');
    if (!name || status === undefined) continue;
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
export function installedFlavours(output: string, mark: string): Flavour[] {
  const facts = parseProbeFacts(output, mark);
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
export function observedImages(api: ApiImage[]): ObservedImage[] {
  return api.map((i) => ({ fingerprint: i.fingerprint, aliases: (i.aliases ?? []).map((a) => a.name) }));
}

/** The answer of `lxc query '/1.0/instances?recursion=1&all-projects=true'` (the probe's instances fact). */
export function observedInstances(api: ApiInstance[]): ObservedInstance[] {
  return api.map((i) => ({
    name: i.name,
    project: i.project || MANAGED_PROJECT,
    status: i.status,
    profiles: i.profiles ?? [],
    config: i.config ?? {},
    ...(i.location && i.location !== 'none' ? { location: i.location } : {}),
  }));
}

/** The members of a clustered server (`/1.0` says environment.server_clustered), from the probe's members fact; absent otherwise. */
export function observedCluster(server: ApiServer, members: ApiMember[]): { cluster?: { members: ClusterMember[] } } {
  if (server.environment?.server_clustered !== true) return {};
  return { cluster: { members: members.map((m) => ({ name: m.server_name, status: m.status ?? 'Online', groups: m.groups ?? [] })) } };
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
export function observedProfiles(api: ApiProfile[]): ObservedProfile[] {
  return api.map((p) => ({
    name: p.name,
    description: p.description ?? '',
    config: p.config ?? {},
    devices: p.devices ?? {},
    usedBy: (p.used_by ?? []).map(userName),
  }));
}

export function parseProbe(path: string, output: string, mark: string, flavour: Flavour | null): ObservedLevel {
  const facts = parseProbeFacts(output, mark);
  const installed = installedFlavours(output, mark);
  const server = facts.get('server');
  let daemon: DaemonState;
  if (installed.length === 0) daemon = { kind: 'missing' };
  else if (flavour === null) daemon = undecidedDaemon(installed);
  else if (server?.status !== '0') daemon = { kind: 'down', error: (server?.body ?? 'no answer').trim() };
  else {
    daemon = {
      kind: 'up',
      version: json<ApiServer>(server, {}).environment?.server_version ?? 'unknown',
      startedAt: daemonStart(facts),
    };
  }
  const profiles = json<ApiProfile[]>(facts.get('profiles'), []);
  const defaultProfile = profiles.find((p) => p.name === 'default');
  const asked = installed.length === 0 ? null : flavour;
  const pools = json<Array<ApiPool | string>>(facts.get('pools'), []).map(poolOf);
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
    networks: json<ApiNetwork[]>(facts.get('networks'), []).map((n) => {
      const v4 = n.config?.['ipv4.address'];
      return { name: n.name, managed: Boolean(n.managed), ipv4: v4 && v4 !== 'none' ? v4 : null };
    }),
    defaultProfileHasRoot: Object.values(defaultProfile?.devices ?? {}).some((d) => d.type === 'disk' && d.path === '/'),
    images: observedImages(json<ApiImage[]>(facts.get('images'), [])),
    instances: observedInstances(json<ApiInstance[]>(facts.get('instances'), [])),
    profiles: observedProfiles(profiles),
    now: Number(facts.get('now')?.status ?? 0),
    ...observedCluster(json<ApiServer>(server, {}), json<ApiMember[]>(facts.get('members'), [])),
  };
}
