// The plan: a versioned, JSON-serialisable value. The renderer never computes. Apply executes the
// steps of a plan it has just made; a saved plan is never executed as read: apply plans its
// manifest again with its recorded options and runs that fresh plan only when it equals the saved
// one (cli/plan-file.ts). Before it acts, a step re-checks on live state what it was planned from
// where a change would make it wrong (engine/execute-step.ts says which steps check what).

import type { IdRange } from '../ids/range.js';
import type { Flavour } from '../manifest/model.js';
import type { SubidEdit } from '../subid/file.js';
import type { PreseedNeeds } from './preseed.js';

export const PLAN_FORMAT_VERSION = 1;

/** A container inside the one a step stops, copies or restores, to be running again after it; `waitBoot`: its own boot is waited for when it is started. */
export interface InsideStart {
  path: string;
  waitBoot: boolean;
}

/** What a snapshot step and its restore share: the container, the snapshot, and what ran inside it. */
interface SnapshotFields {
  name: string;
  path: string;
  snapshot: string;
  inside: InsideStart[];
  precondition: Precondition;
}

interface StepBase {
  /** Stable id within the plan, e.g. "c1/c2:write-subid:subuid". */
  id: string;
  /** Level where the action runs: "" for the host, "c1" inside c1, ... */
  level: string;
  /** Steps that must have completed first. */
  dependsOn: string[];
  /** Why (display only). */
  reason: string;
  /** The host it runs on, in a plan of several hosts (Plan.hosts); absent when the manifest has one host on this machine. */
  host?: string;
}

/**
 * What the step was computed from. Apply refuses a step as stale when live state no longer
 * matches the file sha256, instance absence, planned config keys or status it checks, and a
 * delete re-checks the deletion rule (engine/execute-step.ts); `level-new` steps re-read the
 * level and work out what to do then.
 */
export type Precondition =
  | { kind: 'file-sha256'; sha256: string | null }
  | { kind: 'instance-absent' }
  | { kind: 'instance-config'; config: Record<string, string>; profiles: string[] }
  | { kind: 'instance-status'; status: string }
  /** The profile as observed (null: absent); a profile step refuses when it is not so any more. */
  | { kind: 'profile'; profile: ProfileBody | null }
  /** The level did not exist when planned: the step works out what to do when it runs. */
  | { kind: 'level-new' }
  | { kind: 'none' };

/** What `lxc profile edit` writes: the whole profile but its name. */
export interface ProfileBody {
  description: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
}

export type Step = StepBase &
  (
    | {
        kind: 'write-subid';
        file: 'subuid' | 'subgid';
        /** null when the level does not exist yet (known after apply). */
        before: string | null;
        after: string | null;
        /** Every owner's entries to set (root's, dockremap's); null for a restore (then `after` is the exact text). */
        edit: SubidEdit | null;
        /** Restoring the file as it was before nestctl (destroy --restore-ids). */
        restore: boolean;
        precondition: Precondition;
      }
    | { kind: 'restart-daemon'; command: string[] | null; precondition: Precondition }
    /** A service inside container `path` restarted after its configuration changed (Docker, for docker.userns_remap). */
    | { kind: 'restart-service'; name: string; path: string; service: string; argv: string[]; precondition: Precondition }
    | {
        kind: 'init-daemon';
        preseed: string;
        /** What the preseed creates; re-derived from live state for new levels. */
        needs: PreseedNeeds;
        /** Bridge address with prefix for a new bridge, e.g. "10.77.2.1/24". */
        subnet: string;
        precondition: Precondition;
      }
    | {
        kind: 'copy-image';
        /** Reference as written in the manifest. */
        image: string;
        /** null when only known after a fetch at the host. */
        fingerprint: string | null;
        /** Level the image is exported from; then pushed down through `hops` (container names). */
        source: string;
        hops: string[];
        aliases: string[];
        /** Present on a remote's top level: the client remote it is copied to from this machine's store (`--mode relay`); source "" and no hops then. */
        relay?: string;
        precondition: Precondition;
      }
    | { kind: 'fetch-image'; remote: string; alias: string; precondition: Precondition }
    | {
        kind: 'create-instance';
        name: string;
        /** Node path, e.g. "c1/c2". */
        path: string;
        image: string;
        fingerprint: string | null;
        profiles: string[];
        config: Record<string, string>;
        /** Why each key nestctl adds to the manifest's own is there (core/plan/desired-config.ts); absent when none. */
        implied?: Record<string, string>;
        /** Present when it replaces a container deleted just before (Terraform's -/+): why. */
        replace?: string;
        /** A root container on a cluster: the member or "@group" it is created on (`--target`); absent: the server chooses. */
        target?: string;
        precondition: Precondition;
      }
    | {
        kind: 'update-config';
        name: string;
        path: string;
        set: Record<string, string>;
        /** Keys not in the manifest (drift), removed with `config unset`. */
        unset: string[];
        /** The current value of each key set or unset that has one. */
        before: Record<string, string>;
        /** Why each key of `set` nestctl adds to the manifest's own is there; absent when none. */
        implied?: Record<string, string>;
        profiles: { before: string[]; after: string[] } | null;
        precondition: Precondition;
      }
    /** `waitBoot`: wait for the boot to finish (it holds containers, runs Docker or has setup commands to run). */
    | { kind: 'start-instance'; name: string; path: string; hosting: boolean; waitBoot: boolean; precondition: Precondition }
    /**
     * Stop and start a running container, the one way nestctl restarts one: for the config keys
     * its daemon applies only at start (`keys`, core/flavour/start-keys.ts; the idmap keys
     * among them), for a new id map waiting for the next start (volatile.idmap.next ≠ current;
     * `keys` empty, `grow` null), or with `grow`, because the daemon's range grew under a
     * non-isolated container: LXD recomputes its map only when an idmap key changes, so
     * security.idmap.size is set and unset first (ARCHITECTURE.md, "Growing a tree").
     * `inside`: the containers seen running inside it, which stop with it.
     */
    | {
        kind: 'restart-instance';
        name: string;
        path: string;
        hosting: boolean;
        waitBoot: boolean;
        keys: string[];
        grow: { from: IdRange; to: IdRange } | null;
        inside: number;
        precondition: Precondition;
      }
    /**
     * A root container moved to another cluster member: when it runs, stopped (long timeout),
     * moved, started; `stops` lists it and the containers of the manifest inside it, which stop
     * with it (their files move with its root filesystem).
     */
    | {
        kind: 'move-instance';
        name: string;
        path: string;
        from: string;
        to: string;
        running: boolean;
        stops: string[];
        /** The containers seen running inside it, parents first: waited for once it runs again (engine/steps/inside.ts). */
        inside: string[];
        precondition: Precondition;
      }
    /**
     * A container renamed in the manifest (`moved:`), at its parent's level: from `from` (at
     * `fromPath`) to `name` (at `path`). LXD renames only a stopped container, so a running one
     * is stopped, renamed and started again, in this one step: `inside` lists the containers seen
     * running inside it (by their new paths), which stop with it, come back by themselves (LXD
     * starts what ran when its daemon stopped) and are waited for. Its user.nestctl.path marker
     * follows the new path, and so do those of nestctl's containers inside it. Its inside is kept.
     */
    | {
        kind: 'rename-instance';
        name: string;
        path: string;
        from: string;
        fromPath: string;
        running: boolean;
        hosting: boolean;
        waitBoot: boolean;
        inside: string[];
        /** nestctl's containers inside it (new paths, parents first), whose user.nestctl.path is set to it once they run again. */
        markers: string[];
        precondition: Precondition;
      }
    /**
     * A container made as a copy of its sibling `source` (`copy_of:`, core/plan/concerns/children/copy.ts),
     * at its parent's level: a snapshot of the source, `lxc copy SOURCE/SNAPSHOT NAME`, the
     * snapshot deleted, `config` set (the copy's own keys and nestctl's markers), started. What the
     * source holds comes with it (files, setup, the containers inside it, which LXD leaves stopped
     * in a copy): `inside` lists those seen running in the source (by their paths in the copy,
     * parents first), started and waited for; `markers` those of nestctl's, whose user.nestctl.path
     * is set to their path in the copy.
     */
    | {
        kind: 'copy-instance';
        name: string;
        path: string;
        source: string;
        sourcePath: string;
        config: Record<string, string>;
        implied?: Record<string, string>;
        target?: string;
        hosting: boolean;
        waitBoot: boolean;
        inside: InsideStart[];
        markers: string[];
        precondition: Precondition;
      }
    /**
     * A snapshot of an existing container taken before this plan changes it (apply --snapshot,
     * core/plan/snapshots.ts), at its parent's level: `lxc snapshot NAME SNAPSHOT`. Every step
     * about it or inside it waits for it. `inside`: the containers seen running inside it,
     * parents first, which a restore leaves stopped.
     */
    | ({ kind: 'snapshot-instance' } & SnapshotFields)
    /**
     * A container put back as its snapshot holds it (apply --rollback-on-failure, after a failed
     * step about it or inside it): `lxc restore NAME SNAPSHOT`, which restarts a running one; then
     * `inside` started (LXD leaves them stopped) and waited for.
     */
    | ({ kind: 'restore-instance' } & SnapshotFields)
    /**
     * A manifest file written inside container `path` (core/plan/concerns/files.ts); `before` is
     * what was there (null: absent, or the container is new).
     */
    | {
        kind: 'push-file';
        name: string;
        path: string;
        file: string;
        /** The bytes, base64. */
        data: string;
        sha256: string;
        size: number;
        mode: number;
        uid: number;
        gid: number;
        before: { sha256: string; size: number; mode: number; uid: number; gid: number } | null;
        /** Both contents as text, when both are small UTF-8 text: shown as a diff. */
        text: { before: string; after: string } | null;
        precondition: Precondition;
      }
    /** The manifest's setup commands, run in order inside `path`; their hash is then recorded on it. */
    | {
        kind: 'run-setup';
        name: string;
        path: string;
        /** The commands to run: the list's, after the first `ran` (their hash is `before`: they ran to the end already). */
        commands: string[][];
        /** Of the whole list, recorded once `commands` succeeded. */
        sha256: string;
        before: string | null;
        /** How many of the list's first commands ran already (0: none; a copy's source ran its own). */
        ran: number;
        precondition: Precondition;
      }
    /**
     * A classic LXC file at the level (core/plan/concerns/lxc.ts): /etc/lxc/lxc-usernet (owner
     * root) or a user's ~/.config/lxc/default.conf (written as that user). `restore`: destroy puts
     * back the text nestctl found.
     */
    | {
        kind: 'write-lxc-file';
        file: string;
        owner: string;
        before: string | null;
        after: string;
        restore: boolean;
        precondition: Precondition;
      }
    /** lxc-create, run as `user` (null: root, with `config` as its -f file: the id map and network). */
    | {
        kind: 'create-lxc';
        name: string;
        path: string;
        user: string | null;
        template: string;
        templateArgs: string[];
        config: string | null;
        precondition: Precondition;
      }
    /** The container's own lxc.* keys and nestctl's marker set in its config; `before` null when lxc-create makes it in this plan. */
    | {
        kind: 'configure-lxc';
        name: string;
        path: string;
        user: string | null;
        set: Array<[string, string]>;
        before: string | null;
        after: string | null;
        precondition: Precondition;
      }
    /**
     * lxc-start (daemonised). `cgroup`: `none` where the level runs no systemd (LXC creates its
     * cgroup itself), `systemd-run` to start it in a delegated scope of the user's (LXC's
     * documented way on systemd hosts). `waitDaemon`: its network links the bridge of the level's
     * daemon, which exists only while that daemon runs: wait for it (waitready starts a
     * socket-activated one, which nothing else starts after its container restarts).
     */
    | {
        kind: 'start-lxc';
        name: string;
        path: string;
        user: string | null;
        cgroup: 'none' | 'systemd-run';
        waitDaemon: boolean;
        precondition: Precondition;
      }
    /** lxc-stop -k and lxc-destroy of a container nestctl made (its config carries the marker). */
    | { kind: 'delete-lxc'; name: string; path: string; user: string | null; precondition: Precondition }
    /** Only instances nestctl created (user.nestctl.path marker); `delete --force` of the outermost takes what it holds along (their steps follow it). */
    | {
        kind: 'delete-instance';
        name: string;
        path: string;
        /** Its LXC containers of nestctl's that go with it (lxcLabel); absent: none. Apply refuses to take along any other. */
        lxc?: string[];
        precondition: Precondition;
      }
    /** A profile the manifest declares at `level` (core/plan/concerns/profiles.ts): created, then written whole. */
    | { kind: 'create-profile'; name: string; profile: ProfileBody; precondition: Precondition }
    /** Written whole again (`lxc profile edit`); `before` is what was there. */
    | { kind: 'update-profile'; name: string; profile: ProfileBody; before: ProfileBody; precondition: Precondition }
    /** Only profiles nestctl created (user.nestctl.managed) that no instance uses. */
    | { kind: 'delete-profile'; name: string; precondition: Precondition }
  );

export type StepKind = Step['kind'];

/** How a level's flavour was decided: found installed, named by the manifest, or assumed from its parent. */
export type FlavourFrom = 'observed' | 'manifest' | 'assumed';

/** Per level: what the allocator decided, for display (viz) and review. */
export interface LevelSummary {
  path: string;
  /** Its host in a plan of several hosts; absent otherwise. */
  host?: string;
  flavour: Flavour;
  flavourFrom: FlavourFrom;
  /** The level exists and was observed (false: planned as wholly new). */
  observed: boolean;
  /** The root entry the level's daemon must use, in the level's own id space (null for snap). */
  entry: IdRange | null;
  /** Range the daemon hands out (for snap, derived from its namespace). */
  daemonRange: IdRange;
  /** Old root entries kept because these containers still use them. */
  pinned: Array<{ range: IdRange; by: string[] }>;
  /** Predicted map (in this level's id space) of each child; `dockremap`: its Docker's range, in the child's own id space. */
  children: Array<{ path: string; map: IdRange; isolated: boolean; dockremap?: IdRange }>;
  /**
   * What this level's LXD makes of its ids as observed, before apply: LXD falls back to
   * "privileged only" when its range does not fit the level's own namespace (typically nesting
   * with Debian's default root:100000:10000001). "unknown" for levels that do not exist yet.
   */
  verdictNow: 'unprivileged-ok' | 'privileged-only' | 'unknown';
}

/**
 * A host of a plan of several hosts (or of one remote): its name in the manifest and, for a remote,
 * who the server was when planned (`apply PLAN.json` refuses when the remote name now reaches
 * another server).
 */
export interface PlanHost {
  name: string;
  remote: { remote: string; serverName: string; fingerprint: string } | null;
  /** Destroy plans: the flavour of each level a step of this host runs at (as Plan.flavours). */
  flavours?: Record<string, Flavour>;
}

/** Planning options besides mode, target and simulation (recorded in their own fields). */
export interface PlanRecordedOptions {
  /** Also destroy instances nestctl created that the manifest no longer lists (--prune). */
  prune: boolean;
  /** destroy --restore-ids. */
  restoreIds: boolean;
  /** argv that restarts the host daemon (--host-restart), or null for the manifest's or the default. */
  hostRestart: string[] | null;
  /** Node paths replaced though the manifest does not require it (--replace); absent when none. */
  replace?: string[];
  /** Snapshot each existing container before the plan changes it (--snapshot); absent when not. */
  snapshot?: boolean;
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  tool: string;
  /** What applying it does: converge to the manifest, or remove what nestctl created. */
  mode: 'apply' | 'destroy';
  /** The manifest as planned (text included, so `apply PLAN.json` needs nothing else). */
  manifest: { file: string; sha256: string; text: string };
  /** Planned against a simulated LXD (and which starting world), or null for this machine. */
  simulation: { world: string | null } | null;
  /** Only this subtree and what it needs (--target), or null for the whole tree. */
  target: string | null;
  /** The other options it was planned with, so `apply PLAN.json` can plan again exactly so. */
  options: PlanRecordedOptions;
  /** sha256 over everything observed; a saved plan is refused when it no longer matches. */
  observedSha256: string;
  levels: LevelSummary[];
  /**
   * Destroy plans, which have no level summaries: the flavour of the host and of every level a
   * step runs at, so each word names the daemon that is there. Absent in apply plans.
   */
  flavours?: Record<string, Flavour>;
  /** Present when the manifest has several hosts or a remote: steps and levels then name theirs. */
  hosts?: PlanHost[];
  /** Levels inside classic LXC containers (LXC inside LXC), by path: the container's owner (null: root), whose lxc-attach enters it. */
  lxcLevels?: Record<string, { user: string | null }>;
  steps: Step[];
  warnings: string[];
  /**
   * Copies (copy_of) of a container that holds containers and is made by this plan: what the copy
   * will hold is known only once the source runs, so apply plans and makes them after the rest
   * (cli/commands/apply.ts). Absent when there are none.
   */
  deferred?: DeferredCopy[];
}

export interface DeferredCopy {
  path: string;
  source: string;
  /** In a plan of several hosts: the host it is on. */
  host?: string;
}

export const isEmptyPlan = (plan: Plan): boolean => plan.steps.length === 0;

/** The flavour the plan decided for a level (its summary, or a destroy plan's `flavours`); null where it says none. */
export function flavourAt(plan: Pick<Plan, 'levels' | 'flavours'>, level: string): Flavour | null {
  return plan.levels.find((l) => l.path === level)?.flavour ?? plan.flavours?.[level] ?? null;
}
