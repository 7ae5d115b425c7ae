// Checks of `hosts:` and of the root containers' `host:` and `target:` that the schema cannot
// say in plain words: host names, one entry for this machine at most, remote and project words,
// the keys that need this machine or `shell:`, and which host each root container names. Also
// the client and flavour a remote is reached with when the manifest leaves them out (remoteDaemon).

import { type Diagnostic, sourceAt } from '../diagnostics.js';
import { FLAVOURS, flavourInfo } from '../flavour/index.js';
import type { Flavour } from '../flavour/model.js';
import { type ContainerSpec, type HostSpec, LOCAL_HOST, type Manifest } from './model.js';
import { isLxcNode } from './lxc-checks.js';
import { keyPos, type Path, type Source, valuePos } from './source.js';
import {
  PROJECT_RULE,
  projectProblem,
  REMOTE_RULE,
  remoteProblem,
  restartWordProblem,
  TARGET_RULE,
  targetProblem,
} from './words-on-argv.js';
import { closest, containerLabel, dataAt, isRecord } from './words.js';

export const HOST_NAME_RULE = 'a host name is a plain word: 1-63 lowercase letters, digits, "_" and "-", starting with a letter';
const HOST_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/** Keys that act on a host's own files and daemon: only where nestctl runs a command there. */
const HOST_LEVEL_KEYS = ['base', 'restart', 'owner'] as const;
/** Keys that only mean something for a remote. */
const REMOTE_KEYS = ['cli', 'project', 'shell'] as const;

const error = (src: Source, at: { line: number; col: number }, message: string, hint: string): Diagnostic => ({
  severity: 'error',
  fault: 'user',
  where: sourceAt(src.file, at),
  message,
  hint,
});

/** The host sections: `[['host']]`, or one path per entry of `hosts:`. Other checks (owner, restart words) run on each. */
export function hostSections(data: unknown): Path[] {
  const hosts = dataAt(data, ['hosts']);
  if (isRecord(hosts)) return Object.keys(hosts).map((name) => ['hosts', name]);
  return [['host']];
}

export function hostsFindings(data: unknown, src: Source): Diagnostic[] {
  const hosts = dataAt(data, ['hosts']);
  if (!isRecord(hosts)) return rootHostFindings(data, src, null);
  const found: Diagnostic[] = [];
  if (dataAt(data, ['host']) !== undefined) {
    found.push(
      error(
        src,
        keyPos(src, ['hosts']),
        'host: and hosts: both describe where the tree lives; write one of them',
        'move the keys of host: into an entry of hosts: without remote (e.g. "local:"), or remove hosts:',
      ),
    );
  }
  let thisMachine: string | null = null;
  for (const [name, entry] of Object.entries(hosts)) {
    const at: Path = ['hosts', name];
    if (!HOST_NAME.test(name)) found.push(error(src, keyPos(src, at), `invalid host name ${JSON.stringify(name)}`, HOST_NAME_RULE));
    if (!isRecord(entry)) continue; // the schema reports it
    const remote = entry['remote'];
    if (typeof remote !== 'string') {
      if (thisMachine !== null) {
        found.push(
          error(
            src,
            keyPos(src, at),
            `hosts ${thisMachine} and ${name} both have no remote:, so both would be this machine`,
            `give ${name} the remote: it is reached through (a name from "lxc remote list"), or merge the two`,
          ),
        );
      } else {
        thisMachine = name;
      }
      for (const key of REMOTE_KEYS) {
        if (entry[key] !== undefined)
          found.push(
            error(
              src,
              keyPos(src, [...at, key]),
              `hosts.${name}.${key} is only for a remote, and ${name} has no remote:`,
              `add remote: NAME (from "lxc remote list") or remove ${key}`,
            ),
          );
      }
      continue;
    }
    found.push(...remoteFindings(src, at, name, entry, remote));
  }
  return [...found, ...rootHostFindings(data, src, hosts)];
}

function remoteFindings(src: Source, at: Path, name: string, entry: Record<string, unknown>, remote: string): Diagnostic[] {
  const found: Diagnostic[] = [];
  const remoteBad = remote === '' ? null : remoteProblem(remote); // the schema reports an empty one
  if (remoteBad)
    found.push(
      error(src, valuePos(src, [...at, 'remote']), `invalid remote ${JSON.stringify(remote)} in hosts.${name}: ${remoteBad}`, REMOTE_RULE),
    );
  const project = entry['project'];
  const projectBad = typeof project === 'string' && project !== '' ? projectProblem(project) : null;
  if (projectBad)
    found.push(
      error(
        src,
        valuePos(src, [...at, 'project']),
        `invalid project ${JSON.stringify(project)} in hosts.${name}: ${projectBad}`,
        PROJECT_RULE,
      ),
    );
  const shell = entry['shell'];
  if (Array.isArray(shell)) {
    shell.forEach((word: unknown, i) => {
      const bad = typeof word === 'string' ? restartWordProblem(word, i) : null;
      if (bad)
        found.push(
          error(
            src,
            valuePos(src, [...at, 'shell', i]),
            `invalid word ${JSON.stringify(word)} in hosts.${name}.shell: ${bad}`,
            'shell is an argv prefix, program first, e.g. [ssh, root@lab1, --]',
          ),
        );
    });
  } else {
    for (const key of HOST_LEVEL_KEYS) {
      if (entry[key] === undefined) continue;
      found.push(
        error(
          src,
          keyPos(src, [...at, key]),
          `hosts.${name}.${key} needs shell: nestctl reaches remote ${remote} only through its API, which can neither edit /etc/subuid and /etc/subgid there nor restart its daemon`,
          `remove ${key} (the remote's id range is read from its daemon, and a plan that needs more says what to add there), or add shell: with the argv prefix that runs a command on that machine, e.g. [ssh, root@HOST, --]`,
        ),
      );
    }
  }
  const cli = entry['cli'];
  const flavour = entry['flavour'];
  if ((cli === 'lxc' || cli === 'incus') && typeof flavour === 'string' && (FLAVOURS as readonly string[]).includes(flavour)) {
    const client = flavourInfo(flavour as Flavour).client;
    if (client !== cli)
      found.push(
        error(
          src,
          valuePos(src, [...at, 'cli']),
          `hosts.${name} says cli: ${cli} but flavour: ${flavour}, whose client is ${client}`,
          `write cli: ${client}, or leave cli out (it follows the flavour)`,
        ),
      );
  }
  return found;
}

/**
 * A remote's client and the flavour of the daemon it reaches there, each following the other
 * (hostsFindings refuses the two disagreeing): `cli:`, else the flavour's client; `flavour:`,
 * else the client's daemon, Debian's LXD for `lxc`. The one place these defaults are written.
 */
export function remoteDaemon(cli: 'lxc' | 'incus' | null, flavour: Flavour | null): { client: 'lxc' | 'incus'; flavour: Flavour } {
  const client = cli ?? flavourInfo(flavour ?? 'debian').client;
  return { client, flavour: flavour ?? (client === 'incus' ? 'incus' : 'debian') };
}

/** `host:` and `target:` on containers: root containers only, naming a host that exists. */
function rootHostFindings(data: unknown, src: Source, hosts: Record<string, unknown> | null): Diagnostic[] {
  const list = dataAt(data, ['containers']);
  if (!Array.isArray(list)) return [];
  const names = hosts ? Object.keys(hosts) : [LOCAL_HOST];
  const found: Diagnostic[] = [];
  list.forEach((item: unknown, i) => {
    if (!isRecord(item)) return;
    const at: Path = ['containers', i];
    const label = containerLabel(data, at);
    const host = item['host'];
    if (typeof host === 'string' && host !== '' && !names.includes(host)) {
      const guess = closest(host, names);
      const message = hosts
        ? `container ${label} names host ${JSON.stringify(host)}, which hosts: does not have`
        : `container ${label} names host ${JSON.stringify(host)}, but the manifest has no hosts: map (host: is the one host, named "${LOCAL_HOST}")`;
      found.push(
        error(src, valuePos(src, [...at, 'host']), message, `${guess ? `did you mean "${guess}"? ` : ''}hosts here: ${names.join(', ')}`),
      );
    }
    if (host === undefined && names.length > 1) {
      found.push(
        error(
          src,
          valuePos(src, at),
          `container ${label} names no host, and hosts: has ${names.length}`,
          `add "host: NAME" with one of: ${names.join(', ')}`,
        ),
      );
    }
    const itsHost = typeof host === 'string' ? host : names.length === 1 ? names[0]! : null;
    found.push(...targetFindings(src, at, label, item, hosts, itsHost));
    found.push(...remoteLxcFindings(src, at, label, item, hosts, itsHost));
    found.push(...nestedHostFindings(data, src, [...at, 'containers']));
  });
  return found;
}

function targetFindings(
  src: Source,
  at: Path,
  label: string,
  item: Record<string, unknown>,
  hosts: Record<string, unknown> | null,
  host: string | null,
): Diagnostic[] {
  const target = item['target'];
  if (typeof target !== 'string' || target === '') return [];
  const bad = targetProblem(target);
  if (bad)
    return [
      error(src, valuePos(src, [...at, 'target']), `invalid target ${JSON.stringify(target)} in container ${label}: ${bad}`, TARGET_RULE),
    ];
  const entry = hosts && host !== null ? hosts[host] : undefined;
  if (host !== null && !(isRecord(entry) && typeof entry['remote'] === 'string')) {
    return [
      error(
        src,
        keyPos(src, [...at, 'target']),
        `container ${label} has target: but its host ${host} is this machine, not a clustered remote`,
        'target places a root container on a member of a clustered remote; remove it, or put the container on a remote host',
      ),
    ];
  }
  return [];
}

/**
 * A remote is reached only through its daemon's API, and classic LXC has none: lxc-create and
 * lxc-start would have to run on that machine itself. Inside a remote's container they run
 * through `lxc exec REMOTE:NAME`, like every step below a remote's top level.
 */
function remoteLxcFindings(
  src: Source,
  at: Path,
  label: string,
  item: Record<string, unknown>,
  hosts: Record<string, unknown> | null,
  host: string | null,
): Diagnostic[] {
  if (!isLxcNode(item) || hosts === null || host === null) return [];
  const entry = hosts[host];
  if (!(isRecord(entry) && typeof entry['remote'] === 'string')) return [];
  return [
    error(
      src,
      valuePos(src, [...at, 'runtime']),
      `LXC container ${label} is at the top level of remote host ${host}: nestctl reaches a remote only through its daemon's API and cannot run lxc-create on that machine`,
      `put it inside one of ${host}'s containers (nestctl runs LXC there through "lxc exec"), or on a host without remote:`,
    ),
  ];
}

function nestedHostFindings(data: unknown, src: Source, listPath: Path): Diagnostic[] {
  const list = dataAt(data, listPath);
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, i): Diagnostic[] => {
    if (!isRecord(item)) return [];
    const at: Path = [...listPath, i];
    const found = (['host', 'target'] as const)
      .filter((key) => item[key] !== undefined)
      .map((key) =>
        error(
          src,
          keyPos(src, [...at, key]),
          `container ${containerLabel(data, at)} is nested, and only root containers name a ${key}`,
          `remove ${key}: a nested container lives where its parent does`,
        ),
      );
    return [...found, ...nestedHostFindings(data, src, [...at, 'containers'])];
  });
}

/** The targets (cluster members or @groups) the root containers name, each once, sorted. */
export const targetsOf = (specs: readonly ContainerSpec[]): string[] =>
  [...new Set(specs.flatMap((c) => (c.target ? [c.target.value] : [])))].sort();

/** A manifest of several hosts, or whose only host is a remote, is planned host by host. */
export const plansByHost = (manifest: Pick<Manifest, 'hosts'>): boolean =>
  manifest.hosts.length > 1 || manifest.hosts.some((h) => h.place.kind === 'remote');

/** The manifest as the one-host planner sees one of its hosts: that host, its root containers and its own LXC containers. */
export function hostManifest(manifest: Manifest, host: HostSpec): Manifest {
  return {
    ...manifest,
    host,
    hosts: [host],
    containers: manifest.containers.filter((c) => c.host === host.name),
    lxc: manifest.lxc.filter((l) => l.host === host.name),
    hostPos: host.pos,
  };
}
