// The restart-daemon step, and whether it can run at all: apply and destroy --restore-ids ask the
// same question, so a restart nobody knows how to do is a plan problem before anything runs.

import { daemonName, flavourInfo } from '../../flavour/index.js';
import type { Flavour, Manifest } from '../../manifest/model.js';
import type { ObservedLevel } from '../../observed.js';
import { levelLabel } from '../../paths.js';
import type { Precondition, Step } from '../model.js';
import { type Diagnostic, nodeAt } from '../../diagnostics.js';

/** Why a level's daemon restarts after its subid files are written (LXD lxd/sys/os.go reads them once, at start). */
export const readsSubidAtStart = (label: string, flavour: Flavour | null): string =>
  `${label}'s ${daemonName(flavour)} reads /etc/subuid and /etc/subgid only when it starts`;

export interface RestartRequest {
  level: string;
  /** The level as observed (null: a new level). */
  obs: ObservedLevel | null;
  flavour: Flavour | null;
  manifest: Manifest;
  /** --host-restart, which wins over host.restart. */
  hostRestart: string[] | null;
  dependsOn: string[];
  reason: string;
  precondition: Precondition;
}

/**
 * Nested levels restart by detection (snap or systemd, adapters/lxd/level.ts). The host does too
 * unless told how (--host-restart, host.restart); with neither systemd nor snap nor a command,
 * there is no way to restart it without stopping its containers, and the plan is refused.
 */
export function restartDaemonStep(r: RestartRequest): { step: Step; problem: Diagnostic | null } {
  const isHost = r.level === '';
  const command = isHost ? (r.hostRestart ?? r.manifest.host.restart) : null;
  const info = flavourInfo(r.flavour ?? 'debian');
  const refused = isHost && !command && r.obs !== null && !r.obs.systemd && info.restartNeedsSystemd;
  return {
    step: {
      id: `${levelLabel(r.level)}:restart-daemon`,
      level: r.level,
      kind: 'restart-daemon',
      dependsOn: r.dependsOn,
      reason: r.reason,
      command,
      precondition: r.precondition,
    },
    problem: refused
      ? {
          severity: 'error',
          fault: 'environment',
          where: nodeAt(r.manifest.file, '', r.manifest.hostPos),
          message: `the host ${info.daemonName} must be restarted, but this host runs neither systemd nor snap`,
          hint: `set host.restart in the manifest (argv, e.g. [${info.restartArgv.join(', ')}]) or pass --host-restart`,
        }
      : null,
  };
}
