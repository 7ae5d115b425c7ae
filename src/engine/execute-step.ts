// One step against live LXD. Each step first checks what it was planned from; steps of levels
// that did not exist at plan time work out their details from the level as it is now.

import { EnvironmentError, SetupCommandError } from '../core/errors.js';
import { argvText } from '../core/argv-text.js';
import { type OutputLine, OutputLines } from './output-lines.js';
import { fileIsAsWanted, managedInstance } from '../core/observed.js';
import { refusedDeleteMessage } from '../core/plan/deletion.js';
import { deleteStepId } from '../core/plan/steps/delete.js';
import { deletionNow } from './live-deletion.js';
import { executeLxcStep } from './lxc-steps.js';
import { type ImageExports, imageExports } from './image-exports.js';
import type { Plan, Step } from '../core/plan/model.js';
import { bridgeName } from '../core/flavour/index.js';
import { buildPreseed } from '../core/plan/preseed.js';
import { canonicalJson } from '../core/hash.js';
import { profileBody } from '../core/plan/concerns/profiles.js';
import { applySubidEdit, entryLines } from '../core/subid/file.js';
import type { ImageBundle, LxdLevel } from '../ports/lxd.js';
import type { LevelResolver } from './levels.js';
import type { RemoteHost } from '../ports/remote.js';
import { joinPath } from '../core/paths.js';
import { MARKER_PATH, MARKER_SETUP } from '../core/plan/desired-config.js';
import { halfMade } from '../core/plan/half-made.js';

/** What a step did: "changed" or why nothing was needed. */
export type StepResult = { changed: true } | { changed: false; why: string };

const CHANGED: StepResult = { changed: true };
const stale = (step: Step, what: string): EnvironmentError =>
  new EnvironmentError(`plan is stale: ${what}`, 'run nestctl plan again', step.level);

/** A copy from this machine's store to a remote host's, skipped when the image is there already. */
async function relayImage(step: Extract<Step, { kind: 'copy-image' }>, level: LxdLevel, context: StepContext): Promise<StepResult> {
  if (!context.relay || step.fingerprint === null) throw new EnvironmentError(`${step.id}: a relay copy needs a remote host and the image's fingerprint`, 'report this as a bug', step.level);
  const fingerprint = step.fingerprint;
  if ((await level.images()).some((i) => i.fingerprint === fingerprint)) return { changed: false, why: 'image already there' };
  await context.relay(fingerprint, step.aliases);
  return CHANGED;
}

/** What a step may know of the plan it belongs to. */
export interface StepContext {
  /** Paths of the containers the plan deletes, and the LXC containers (lxcLabel) they take along. */
  deleting: ReadonlySet<string>;
  /** The image bundles the plan's copies share (engine/image-exports.ts). */
  exports: ImageExports;
  /** A running setup command's output, the lines each chunk completed. */
  output?: (step: Step, lines: OutputLine[]) => void;
  /** On a remote host: copies an image of this machine's store to it (RemoteHost.relayImage). */
  relay?: (fingerprint: string, aliases: readonly string[]) => Promise<void>;
  /** On a remote host: moves a root container to a cluster member (RemoteHost.move). */
  move?: RemoteHost['move'];
}

/** A root container to another cluster member, only from where and in the state it was planned in. */
async function moveInstance(step: Extract<Step, { kind: 'move-instance' }>, level: LxdLevel, context: StepContext): Promise<StepResult> {
  if (!context.move) throw new EnvironmentError(`${step.id}: a move needs a clustered remote host`, 'report this as a bug', step.level);
  const now = await instanceOf(level, step.name, step);
  if (now.location === step.to) return { changed: false, why: `already on ${step.to}` };
  if (now.location !== step.from) throw stale(step, `${step.path} is on ${now.location ?? 'no member'} now, not ${step.from}`);
  if ((now.status === 'Running') !== step.running) throw stale(step, `${step.path} is ${now.status.toLowerCase()} now`);
  await context.move(step.name, step.to, step.running);
  return CHANGED;
}

/** The context of the steps of `plan`; its exports start at once, so close them when the apply ends. */
export function stepContext(plan: Pick<Plan, 'steps'>, levels: LevelResolver): StepContext {
  return { deleting: new Set(plan.steps.flatMap((s) => (s.kind === 'delete-instance' ? [s.path, ...(s.lxc ?? [])] : []))), exports: imageExports(plan, levels) };
}

export async function executeStep(step: Step, levels: LevelResolver, context: StepContext): Promise<StepResult> {
  const level = levels(step.level);
  const isNew = step.precondition.kind === 'level-new';
  switch (step.kind) {
    case 'write-subid': {
      if (!isNew || !step.edit) {
        const expected = step.precondition.kind === 'file-sha256' ? step.precondition.sha256 : null;
        await level.writeSubid(step.file, step.after ?? '', expected, { forgetOriginal: step.restore, entries: entryLines(step.edit) });
        return CHANGED;
      }
      const live = await level.readSubid(step.file);
      const after = applySubidEdit(live.text, step.edit);
      if (after === live.text) return { changed: false, why: 'already as planned' };
      await level.writeSubid(step.file, after, live.sha256, { entries: entryLines(step.edit) });
      return CHANGED;
    }
    case 'restart-daemon':
      await level.restartDaemon(step.command);
      return CHANGED;
    case 'move-instance':
      return moveInstance(step, level, context);
    case 'restart-service': {
      await instanceOf(level, step.name, step);
      const r = await level.runIn(step.name, step.argv);
      if (r.code !== 0) throw new EnvironmentError(`restarting ${step.service} in ${step.path} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`, `look at ${step.service} inside ${step.path} (journalctl -u ${step.service}), then apply again`, step.level);
      return CHANGED;
    }
    case 'init-daemon': {
      if (!isNew) {
        await level.initDaemon(step.preseed);
        return CHANGED;
      }
      const live = await level.probe();
      const needs = {
        pool: live.storagePools.length === 0,
        bridge: !live.networks.some((n) => n.managed),
        profile: !live.defaultProfileHasRoot,
      };
      if (!needs.pool && !needs.bridge && !needs.profile) return { changed: false, why: 'already initialised' };
      await level.initDaemon(buildPreseed(needs, step.subnet, bridgeName(live.flavour)));
      return CHANGED;
    }
    case 'fetch-image':
      await level.fetchImage(step.remote, step.alias);
      return CHANGED;
    case 'copy-image': {
      if (step.relay !== undefined) return relayImage(step, level, context);
      // The bundle was staged for the whole apply (engine/image-exports.ts), when the plan knew it was needed.
      const shared = context.exports.stages(step);
      try {
        const target = await level.images();
        const fingerprint = step.fingerprint ?? (await fingerprintAt(levels, step.source, step.aliases));
        if (target.some((i) => i.fingerprint === fingerprint)) return { changed: false, why: 'image already there' };
        const staged = shared ? await context.exports.take(step) : { bundle: await levels(step.source).exportImage(fingerprint), hopsDone: 0 };
        let bundle = staged.bundle;
        let here = bundle.level;
        const drop = async (b: ImageBundle): Promise<void> => {
          if (b !== staged.bundle || !shared) await levels(b.level).discardBundle(b);
        };
        try {
          for (const hop of step.hops.slice(staged.hopsDone)) {
            const next = await levels(here).pushBundle(bundle, hop);
            await drop(bundle);
            bundle = next;
            here = joinPath(here, hop);
          }
          await level.importImage(bundle, step.aliases);
        } finally {
          await drop(bundle).catch(() => undefined);
        }
        return CHANGED;
      } finally {
        if (shared) await context.exports.release(step);
      }
    }
    case 'create-instance': {
      const existing = managedInstance({ instances: await level.instances() }, step.name);
      if (existing) {
        // A level planned unseen may hold it already: nestctl's own, finished create is kept; one
        // left half-made, or another's, is for a new plan (with the level seen) to deal with.
        if (isNew && existing.config[MARKER_PATH] === step.path && !halfMade(existing, step.path)) return { changed: false, why: 'already created' };
        throw stale(step, isNew ? `${step.path} exists, but could not be looked at when the plan was made` : `${step.path} appeared after the plan was made`);
      }
      const fingerprint = step.fingerprint ?? (await fingerprintAt(levels, step.level, [step.image.slice(step.image.indexOf(':') + 1)]));
      try {
        await level.createInstance({ name: step.name, fingerprint, profiles: step.profiles, config: step.config, ...(step.target !== undefined ? { target: step.target } : {}) });
      } catch (error) {
        // The image is looked for only when the create failed: one read less on every create.
        if (!(await level.images()).some((i) => i.fingerprint === fingerprint)) {
          throw new EnvironmentError(`image ${fingerprint.slice(0, 12)} for ${step.path} is not in ${step.level || 'the host'}'s image store`, undefined, step.level);
        }
        throw error;
      }
      return CHANGED;
    }
    case 'start-instance': {
      if (isNew || step.precondition.kind === 'instance-status') {
        const live = await instanceOf(level, step.name, step);
        if (live.status === 'Running') {
          if (isNew) return { changed: false, why: 'already running' };
          throw stale(step, `${step.path} is already running`);
        }
      }
      await level.startInstance(step.name, step.waitBoot);
      return CHANGED;
    }
    case 'update-config': {
      if (step.precondition.kind === 'instance-config') {
        const live = await instanceOf(level, step.name, step);
        const planned = step.precondition.config;
        const drift = [...Object.keys(step.set), ...step.unset].find((k) => live.config[k] !== planned[k]);
        if (drift) throw stale(step, `${step.path}'s ${drift} changed after the plan was made`);
      }
      await level.updateInstance(step.name, { set: step.set, ...(step.unset.length > 0 ? { unset: step.unset } : {}), ...(step.profiles ? { profiles: step.profiles.after } : {}) });
      return CHANGED;
    }
    case 'restart-instance': {
      const live = await instanceOf(level, step.name, step);
      if (step.grow) {
        // Any change to an idmap key makes the daemon copy its current range again; the key is
        // removed at once, so the container's config ends as the manifest has it.
        await level.updateInstance(step.name, { set: { 'security.idmap.size': String(step.grow.to.size) } });
        await level.updateInstance(step.name, { set: { 'security.idmap.size': '' } });
      }
      if (live.status === 'Running') await level.stopInstance(step.name);
      await level.startInstance(step.name, step.waitBoot);
      return CHANGED;
    }
    case 'push-file': {
      if (step.precondition.kind !== 'file-sha256') {
        // Planned before the container ran: what is there now decides.
        const now = (await level.readFiles(step.name, [step.file]))[step.file] ?? null;
        if (fileIsAsWanted(now, step)) return { changed: false, why: 'already as planned' };
      }
      const expected = step.precondition.kind === 'file-sha256' ? step.precondition.sha256 : 'any';
      await level.writeFile(step.name, { path: step.file, data: step.data, mode: step.mode, uid: step.uid, gid: step.gid, expected });
      return CHANGED;
    }
    case 'run-setup': {
      const live = await instanceOf(level, step.name, step);
      const recorded = live.config[MARKER_SETUP] ?? null;
      if (recorded === step.sha256) return { changed: false, why: 'setup already ran' };
      if (step.precondition.kind === 'instance-config' && recorded !== step.before) throw stale(step, `${step.path}'s setup record changed after the plan was made`);
      for (const [i, argv] of step.commands.entries()) {
        const lines = new OutputLines((l) => context.output?.(step, l));
        const r = await level.runIn(step.name, argv, (stream, chunk) => lines.push(stream, chunk));
        // What was not streamed: all of it from a level that does not stream, a timeout's note.
        lines.push('stdout', r.stdout);
        lines.push('stderr', r.stderr);
        lines.end();
        if (r.code !== 0) throw setupFailed(step, i, argv, r.code, lines.tail());
      }
      await level.updateInstance(step.name, { set: { [MARKER_SETUP]: step.sha256 } });
      return CHANGED;
    }
    case 'write-lxc-file':
    case 'create-lxc':
    case 'configure-lxc':
    case 'start-lxc':
    case 'delete-lxc':
      return executeLxcStep(step, level);
    case 'delete-instance': {
      // Deleted with the container it was in, whose step (a dependency) proved it deletable.
      if (step.dependsOn.includes(deleteStepId(step.level))) return { changed: true };
      const live = managedInstance({ instances: await level.instances() }, step.name);
      if (!live) return { changed: false, why: 'already gone' };
      // Never delete what nestctl did not create or cannot prove empty, whatever the plan says:
      // the container may have changed since it was planned.
      const now = await deletionNow(level, step.level, live, context.deleting);
      if (now.verdict === 'keep') throw stale(step, refusedDeleteMessage(now));
      await level.deleteInstance(step.name);
      return CHANGED;
    }
    case 'create-profile': {
      const live = (await level.profiles()).find((p) => p.name === step.name);
      if (live) {
        // A level planned unseen may hold it already, as planned.
        if (isNew && canonicalJson(profileBody(live)) === canonicalJson(step.profile)) return { changed: false, why: 'already as planned' };
        throw stale(step, `profile ${step.name} ${isNew ? 'exists, but could not be looked at when the plan was made' : 'appeared after the plan was made'}`);
      }
      await level.createProfile(step.name, step.profile);
      return CHANGED;
    }
    case 'update-profile':
    case 'delete-profile': {
      const live = (await level.profiles()).find((p) => p.name === step.name);
      const planned = step.precondition.kind === 'profile' ? step.precondition.profile : null;
      if (!live || (planned && canonicalJson(profileBody(live)) !== canonicalJson(planned))) throw stale(step, `profile ${step.name} ${live ? 'changed' : 'was deleted'} after the plan was made`);
      if (step.kind === 'update-profile') await level.writeProfile(step.name, step.profile);
      else {
        if (live.usedBy.length > 0) throw stale(step, `profile ${step.name} is now used by ${live.usedBy.join(', ')}`);
        await level.deleteProfile(step.name);
      }
      return CHANGED;
    }
  }
}

function setupFailed(step: Extract<Step, { kind: 'run-setup' }>, index: number, argv: readonly string[], code: number, tail: string[]): SetupCommandError {
  const left = step.commands.length - index - 1;
  return new SetupCommandError(
    `setup command ${index + 1} of ${step.commands.length} in ${step.path} failed (exit ${code}): ${argvText(argv)}${tail.length > 0 ? `\n${tail.map((l) => `  │ ${l}`).join('\n')}` : ''}`,
    `${left > 0 ? `the ${left} command${left === 1 ? '' : 's'} after it did not run; ` : ''}fix the command or the container and apply again: the whole list runs again`,
    step.level,
    argv,
    code,
    tail,
  );
}

async function instanceOf(level: LxdLevel, name: string, step: Step) {
  const inst = managedInstance({ instances: await level.instances() }, name);
  if (!inst) throw stale(step, `${name} no longer exists in ${step.level || 'the host'}`);
  return inst;
}

async function fingerprintAt(levels: LevelResolver, path: string, aliases: string[]): Promise<string> {
  const img = (await levels(path).images()).find((i) => i.aliases.some((a) => aliases.includes(a)));
  if (!img) throw new EnvironmentError(`no image with alias ${aliases.join(', ')} in ${path || 'the host'}'s image store`, undefined, path);
  return img.fingerprint;
}
