// A manifest of several hosts (or of one remote) is planned host by host with the one-host planner:
// each host gets the manifest cut to its root containers, and the plans are put together here into
// one plan whose steps and levels name their host (step ids become "HOST:ID", so root containers
// of one name on two hosts stay apart). Apply takes it apart again per host (hostPart).

import type { HostSpec } from '../manifest/model.js';
import type { ServerIdentity } from '../observe/parse-server.js';
import { serverChange } from '../observe/parse-server.js';
import { canonicalJson, sha256 } from '../hash.js';
import type { Plan, PlanHost, Step } from './model.js';

const hostId = (host: string, id: string): string => `${host}:${id}`;

export interface HostPlan {
  host: HostSpec;
  /** Who the remote's server is (null on this machine). */
  server: ServerIdentity | null;
  plan: Plan;
}

/** One plan of the hosts' plans (in manifest order), made with the same options. */
export function mergeHostPlans(parts: readonly HostPlan[]): Plan {
  const first = parts[0]!.plan;
  const hosts: PlanHost[] = parts.map(({ host, server, plan }) => ({
    name: host.name,
    remote:
      host.place.kind === 'remote' && server
        ? { remote: host.place.remote, serverName: server.serverName, fingerprint: server.fingerprint }
        : null,
    ...(plan.flavours ? { flavours: plan.flavours } : {}),
  }));
  const steps: Step[] = parts.flatMap(({ host, plan }) =>
    plan.steps.map((s) => ({
      ...s,
      id: hostId(host.name, s.id),
      dependsOn: s.dependsOn.map((d) => hostId(host.name, d)),
      host: host.name,
    })),
  );
  const { flavours: _, ...envelope } = first;
  return {
    ...envelope,
    observedSha256: sha256(canonicalJson(parts.map(({ host, plan }) => [host.name, plan.observedSha256]))),
    levels: parts.flatMap(({ host, plan }) => plan.levels.map((l) => ({ ...l, host: host.name }))),
    hosts,
    steps,
    warnings: parts.flatMap(({ host, plan }) => plan.warnings.map((w) => `host ${host.name}: ${w}`)),
    ...(parts.some((p) => p.plan.deferred)
      ? { deferred: parts.flatMap(({ host, plan }) => (plan.deferred ?? []).map((d) => ({ ...d, host: host.name }))) }
      : {}),
  };
}

/** The part of a several-host plan that runs on `host`, as the one-host engine reads a plan (ids as planned there). */
export function hostPart(plan: Plan, host: string): Plan {
  const strip = (id: string): string => id.slice(host.length + 1);
  const record = plan.hosts?.find((h) => h.name === host);
  const { hosts: _, ...rest } = plan;
  return {
    ...rest,
    levels: plan.levels.filter((l) => l.host === host).map(({ host: _h, ...l }) => l),
    ...(record?.flavours ? { flavours: record.flavours } : {}),
    steps: plan.steps
      .filter((s) => s.host === host)
      .map(({ host: _h, ...s }) => ({ ...s, id: strip(s.id), dependsOn: s.dependsOn.map(strip) }) as Step),
  };
}

/** Why a saved plan's remotes are not the servers their names reach now (one line each); empty when they all are. */
export function staleRemotes(saved: Pick<Plan, 'hosts'>, fresh: Pick<Plan, 'hosts'>): string[] {
  return (saved.hosts ?? []).flatMap((was) => {
    const now = fresh.hosts?.find((h) => h.name === was.name)?.remote;
    if (!was.remote || !now) return [];
    const change = serverChange(was.name, was.remote.remote, { ...was.remote, clustered: false }, { ...now, clustered: false });
    return change ? [change] : [];
  });
}
