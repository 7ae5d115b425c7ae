// What a command talks to: the LXD of this machine (and of each remote host), or a simulated
// world. Opened by connection.ts (real) and sim-connection.ts (simulated); not to be confused
// with --target (a node of the plan) or a container's target: (a cluster member).

import type { Plan } from '../core/plan/model.js';
import type { LxdLevel } from '../ports/lxd.js';
import type { HostConnection } from '../ports/remote.js';

export interface ConnectionOptions {
  simulate?: boolean;
  world?: string;
  /** A simulated world to continue: read when it exists, written after a successful apply or destroy. */
  state?: string;
  verbose?: boolean;
}

export interface Connection {
  /** This machine's level (the first host's, when there are several). */
  host: LxdLevel;
  /** Every host's connection, for a manifest of several hosts or a remote (core/plan/hosts.ts). */
  hosts?: HostConnection[];
  /** Recorded in saved plans so `apply PLAN.json` talks to the same kind of LXD. */
  simulation: Plan['simulation'];
  /** With --state: write the simulated world as it is now to the state file. */
  save?: () => Promise<void>;
  /** What a simulation took on trust (printed above a simulated plan); empty for a described world. */
  assumptions?: string[];
}
