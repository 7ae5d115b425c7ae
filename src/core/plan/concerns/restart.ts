// At most one daemon restart per level: LXD reads /etc/subuid and /etc/subgid only when it
// starts (LXD lxd/sys/os.go), so it restarts after the level's subid writes, when the files
// changed since it started, on a new level, and to start a daemon that is down.

import { daemonName } from '../../flavour/index.js';
import { restartPending } from '../../observe/restart-pending.js';
import { daemonDownReason } from '../daemon-down.js';
import type { LevelContext } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';
import { readsSubidAtStart, restartDaemonStep } from '../steps/restart.js';

/** `subidWrites`: the ids of the level's write-subid steps, which the restart follows. */
export function restartSteps(ctx: LevelContext, subidWrites: string[]): ConcernResult {
  const out = noConcern();
  const { obs, entry, down, label } = ctx;
  if (!ctx.hostsLxd) return out;
  const pending = obs !== null && entry !== null && restartPending(obs);
  if (subidWrites.length === 0 && !pending && !(obs === null && entry !== null) && !down) return out;
  const restart = restartDaemonStep({
    level: ctx.path,
    obs,
    flavour: ctx.flavour,
    manifest: ctx.input.manifest,
    hostRestart: ctx.input.options.hostRestart,
    dependsOn: [...ctx.entryDeps, ...subidWrites],
    reason: down
      ? daemonDownReason(label, down.error, ctx.flavour) +
        (subidWrites.length > 0 ? ' (it reads the new /etc/subuid and /etc/subgid as it starts)' : '')
      : subidWrites.length > 0
        ? readsSubidAtStart(label, ctx.flavour)
        : `/etc/subuid or /etc/subgid changed after ${label}'s ${daemonName(ctx.flavour)} started`,
    precondition: obs === null ? { kind: 'level-new' } : { kind: 'none' },
  });
  out.steps.push(restart.step);
  if (restart.problem) out.problems.push(restart.problem);
  return out;
}
