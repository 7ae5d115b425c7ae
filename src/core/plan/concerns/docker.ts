// `docker: true`: what the plan can check before anything runs, so Docker inside an unprivileged
// container gets the overlay2 storage driver rather than falling back to a slow one. Warnings
// only: Docker still runs (fuse-overlayfs if installed, else vfs, a full copy of every layer).
//
// - The kernel: overlayfs can be mounted inside a user namespace only from Linux 5.11 (commit
//   459c7c565ac3, "ovl: unprivieged mounts"; Docker's rootless-mode docs: overlay2 needs 5.11).
//   One kernel runs every level, so any level's `uname -r` answers for all of them. Ubuntu's
//   kernels carry a patch that allowed it earlier; the release alone cannot tell, so they warn too.
// - The pool under the container's root disk: Docker's overlay2 refuses a zfs backing filesystem
//   (moby daemon/graphdriver/overlay2, ErrIncompatibleFS) unless ZFS supports what overlayfs needs
//   of its upper layer (RENAME_WHITEOUT, OpenZFS 2.2 and later), and the zfs version is not read.
//   dir, btrfs, lvm and ceph pools give Docker a filesystem it can use.
// An unknown fact (a level not seen yet) is said to be "not checked" rather than guessed.

import { lxdTrue } from '../../manifest/config-keys.js';
import { DAEMON_JSON } from '../../manifest/docker.js';
import type { ObservedLevel } from '../../observed.js';
import { type LevelChild, type LevelContext, pre } from '../level-context.js';
import type { Step } from '../model.js';
import { type ConcernResult, noConcern } from '../result.js';

/** The first kernel (major, minor) that mounts overlayfs in a user namespace. */
const OVERLAY_IN_USERNS: readonly [number, number] = [5, 11];

/** Pool drivers Docker cannot put overlay2 on (as far as nestctl can tell from the driver alone). */
const NO_OVERLAY2: Readonly<Record<string, string>> = {
  zfs: 'Docker refuses overlay2 on zfs unless it is OpenZFS 2.2 or later (its version is not checked)',
};

const FALLBACK = 'Docker inside falls back to fuse-overlayfs if installed, else vfs (a full copy of every layer)';

function kernelTooOld(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < OVERLAY_IN_USERNS[0] || (major === OVERLAY_IN_USERNS[0] && minor < OVERLAY_IN_USERNS[1]);
}

/** The pool a container's root disk comes from: the last of its profiles that has one (LXD applies them in order). */
function rootPool(obs: ObservedLevel, profiles: string[]): string | null {
  let pool: string | null = null;
  for (const name of profiles) {
    const devices = obs.profiles.find((p) => p.name === name)?.devices ?? {};
    pool = Object.values(devices).find((d) => d.type === 'disk' && d.path === '/' && d.pool)?.pool ?? pool;
  }
  return pool;
}

export function dockerChecks(ctx: LevelContext, child: LevelChild): ConcernResult {
  const out = noConcern();
  const { spec } = child;
  if (!spec.docker || lxdTrue(spec.config['security.privileged'] ?? '')) return out;
  const at = `${ctx.input.manifest.file}:${spec.pos.line}:${spec.pos.col}: ${spec.path}: docker: true`;
  const unchecked: string[] = [];
  const kernel = [ctx.obs, ...ctx.ancestors.map((a) => a.obs)].find((o) => o?.kernel)?.kernel ?? null;
  if (kernel === null) unchecked.push('the kernel release was not read');
  else if (kernelTooOld(kernel)) {
    out.warnings.push(
      `${at}, but the kernel is ${kernel}: an unprivileged container mounts overlayfs only from Linux ${OVERLAY_IN_USERNS.join('.')}, so ${FALLBACK}`,
    );
  }
  if (!ctx.obs || ctx.hidden) unchecked.push(`the pool under its root disk (${ctx.label}'s pools are known only after apply)`);
  else if (ctx.obs.poolDrivers !== undefined) {
    const pool = rootPool(ctx.obs, spec.profiles);
    const driver = pool === null ? undefined : ctx.obs.poolDrivers[pool];
    const why = driver === undefined ? undefined : NO_OVERLAY2[driver];
    if (why) out.warnings.push(`${at}, but its root disk is on ${ctx.label}'s pool "${pool}" (${driver}): ${why}; otherwise ${FALLBACK}`);
  } else if (ctx.obs.storagePools.length > 0) unchecked.push(`the pool under its root disk (${ctx.label}'s pool drivers were not read)`);
  if (unchecked.length > 0) out.warnings.push(`${at}: overlay2 not checked: ${unchecked.join('; ')}`);
  return out;
}

export const RESTART_DOCKER: readonly string[] = ['systemctl', 'restart', 'docker'];

export interface RemapSteps {
  /** The container is created by this plan. */
  created: boolean;
  /** The steps that make it run. */
  ready: string[];
  /** Its file pushes (daemon.json among them when it changes). */
  pushed: Step[];
  /** The write-subid steps of the level inside it (dockremap's entries). */
  subidWrites: string[];
}

/**
 * docker.userns_remap: Docker reads daemon.json and dockremap's subid entries only when it starts,
 * so it restarts after either changed, and in a container this plan creates (its image must carry
 * Docker), before the container's setup commands use it.
 */
export function dockerRestart(ctx: LevelContext, child: LevelChild, s: RemapSteps): ConcernResult {
  const out = noConcern();
  const daemonJson = s.pushed.filter((p) => p.kind === 'push-file' && p.file === DAEMON_JSON).map((p) => p.id);
  if (!s.created && daemonJson.length === 0 && s.subidWrites.length === 0) return out;
  const { spec } = child;
  const changed = [daemonJson.length > 0 && DAEMON_JSON, s.subidWrites.length > 0 && "dockremap's subid entries"]
    .filter(Boolean)
    .join(' and ');
  out.steps.push({
    id: `${spec.path}:restart-service:docker`,
    level: ctx.path,
    kind: 'restart-service',
    dependsOn: [...s.ready, ...daemonJson, ...s.subidWrites],
    reason:
      s.created && !changed ? `${spec.path} is new: Docker starts with its userns-remap` : `Docker reads ${changed} only when it starts`,
    name: spec.name,
    path: spec.path,
    service: 'docker',
    argv: [...RESTART_DOCKER],
    precondition: pre(ctx, { kind: 'none' }),
  });
  return out;
}
