// A host that is a client remote, as the engine will use it: who the server is, its daemon's map
// (per cluster member), its lock, images relayed from this machine, and moves between members.
// The real client implements it (adapters/lxd/remote-host.ts), over this machine or a simulated
// one (sim/client.ts). Every method throws EnvironmentError (CommandError) on failure.

import type { IdRange } from '../core/ids/range.js';
import type { ObservedImage } from '../core/observed.js';
import type { ServerIdentity } from '../core/observe/parse-server.js';
import type { LxdLevel } from './lxd.js';

export interface RemoteHost {
  /** The remote's name in the client's configuration. */
  readonly remote: string;
  server(): Promise<ServerIdentity>;
  /** The daemon's uid and gid ranges on the server, or on `member` of a cluster. */
  probeRange(member: string | null): Promise<{ uid: IdRange; gid: IdRange }>;
  /** Takes the server-side lock recording `owner`; resolves to its release. A held lock is refused naming its holder. */
  lock(owner: string): Promise<() => Promise<void>>;
  /** The image store of this machine's daemon: what a relay copy can send. */
  localImages(): Promise<ObservedImage[]>;
  /** Copies an image of this machine's daemon to the remote, through the client. */
  relayImage(fingerprint: string, aliases: readonly string[]): Promise<void>;
  /** Moves a root container to another cluster member: when `running`, stop (long timeout), move, start; else only the move. */
  move(name: string, member: string, running: boolean): Promise<void>;
}

/** How the engine reaches one host of the manifest: its top level, and for a remote its server. */
export interface HostConnection {
  /** The host's name in the manifest. */
  name: string;
  /** Its top level: this machine's daemon, or the remote's instances through `REMOTE:`. */
  level: LxdLevel;
  remote: RemoteHost | null;
}
