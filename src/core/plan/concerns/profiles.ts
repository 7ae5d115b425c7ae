// The profiles a level declares (host.profiles, a container's inside.profiles), kept as declared
// like a container's config: created when absent, written whole again when their config,
// devices or description differ, deleted when nestctl made them and the manifest no longer
// declares them (only when nothing uses them). A profile of the declared name that nestctl did not
// make is refused. Runs after init (the daemon is ready) and before the level's images and children.

import { nodeAt } from '../../diagnostics.js';
import type { ProfileSpec } from '../../manifest/model.js';
import type { ObservedLevel, ObservedProfile } from '../../observed.js';
import { levelLabel } from '../../paths.js';
import { MARKER_MANAGED } from '../desired-config.js';
import { canonicalJson } from '../../hash.js';
import type { LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import type { ProfileBody, Step } from '../model.js';
import { type ConcernResult, noConcern } from '../result.js';

export interface ProfileResult extends ConcernResult {
  /** The create or update step of each declared profile that has one: its users wait for it. */
  stepOf: Map<string, string>;
}

/** The daemon's own profile, which every level has. */
export const DEFAULT_PROFILE = 'default';

/** What nestctl writes for a declared profile: its body, marked as nestctl's. */
export function desiredProfile(spec: ProfileSpec): ProfileBody {
  return { description: spec.description, config: { ...spec.config, [MARKER_MANAGED]: 'true' }, devices: spec.devices };
}

export const profileBody = (p: ObservedProfile): ProfileBody => ({ description: p.description, config: p.config, devices: p.devices });

export const isManagedProfile = (p: ObservedProfile): boolean => p.config[MARKER_MANAGED] === 'true';

/** The profiles the manifest declares at this level. */
export const declaredAt = (ctx: LevelContext): ProfileSpec[] => ctx.profiles;

/** `after`: the steps that make the level's daemon ready (init, restart, or the level's entry). */
export function profileSteps(ctx: LevelContext, after: string[]): ProfileResult {
  const out: ProfileResult = { ...noConcern(), stepOf: new Map() };
  const declared = declaredAt(ctx);
  const observed = ctx.hidden ? [] : (ctx.obs?.profiles ?? []);
  for (const spec of declared) {
    const want = desiredProfile(spec);
    const found = observed.find((p) => p.name === spec.name);
    const id = `${ctx.label}:profile:${spec.name}`;
    if (!found) {
      out.steps.push({
        id,
        level: ctx.path,
        kind: 'create-profile',
        dependsOn: after,
        reason: ctx.unseen
          ? `${ctx.unseenWhy}: profile ${spec.name} is created once its daemon runs, unless it exists`
          : `profile ${spec.name} does not exist in ${ctx.label}`,
        name: spec.name,
        profile: want,
        precondition: pre(ctx, { kind: 'profile', profile: null }),
      });
      out.stepOf.set(spec.name, id);
      continue;
    }
    if (!isManagedProfile(found)) {
      out.problems.push({
        severity: 'error',
        fault: 'user',
        where: nodeAt(ctx.input.manifest.file, ctx.path, spec.pos),
        message: `profile ${spec.name} exists in ${ctx.label} and was not created by nestctl`,
        hint: `rename the profile in the manifest, or remove the one in ${ctx.label} if nothing needs it; nestctl manages only the profiles it created (${MARKER_MANAGED}=true)`,
      });
      continue;
    }
    const before = profileBody(found);
    if (canonicalJson(before) === canonicalJson(want)) continue;
    out.steps.push({
      id,
      level: ctx.path,
      kind: 'update-profile',
      dependsOn: after,
      reason: `profile ${spec.name} in ${ctx.label} differs from the manifest`,
      name: spec.name,
      profile: want,
      before,
      precondition: pre(ctx, { kind: 'profile', profile: before }),
    });
    out.stepOf.set(spec.name, id);
  }
  for (const p of observed) {
    if (!isManagedProfile(p) || declared.some((d) => d.name === p.name)) continue;
    if (p.usedBy.length > 0) {
      out.warnings.push(`${ctx.label}: profile ${p.name} is no longer in the manifest but is kept: used by ${p.usedBy.join(', ')}`);
      continue;
    }
    out.steps.push({
      id: `${ctx.label}:profile:${p.name}`,
      level: ctx.path,
      kind: 'delete-profile',
      dependsOn: after,
      reason: `profile ${p.name} was created by nestctl and is no longer in the manifest`,
      name: p.name,
      precondition: pre(ctx, { kind: 'profile', profile: profileBody(p) }),
    });
  }
  // A level whose daemon could not list its profiles may well hold the ones its children attach.
  if (!ctx.hidden) out.problems.push(...unknownProfiles(ctx, observed));
  return out;
}

/** A child attaching a profile that is neither the daemon's own, declared here, nor there. */
function unknownProfiles(ctx: LevelContext, observed: ObservedProfile[]): ConcernResult['problems'] {
  const known = new Set([DEFAULT_PROFILE, ...declaredAt(ctx).map((p) => p.name), ...observed.map((p) => p.name)]);
  return ctx.children.flatMap(({ spec }) =>
    spec.profiles
      .filter((name) => !known.has(name))
      .map((name) => ({
        severity: 'error' as const,
        fault: 'user' as const,
        where: nodeAt(ctx.input.manifest.file, spec.path, spec.pos),
        message: `${spec.path} attaches profile ${name}, which ${ctx.label} does not have and the manifest does not declare there`,
        hint: ctx.isHost
          ? `declare it under host: {profiles: {${name}: …}}, or remove it from ${spec.path}'s profiles`
          : `declare it under inside: {profiles: {${name}: …}} of ${ctx.path}, or remove it from ${spec.path}'s profiles`,
      })),
  );
}

/**
 * Destroy: the declared profiles nestctl created at a level that survives, deleted after the
 * level's containers (`deleteIds`) when every instance using them goes too; else kept, with a warning.
 */
export function destroyProfileSteps(
  levelPath: string,
  level: ObservedLevel,
  declared: ProfileSpec[],
  deleteIds: string[],
  deleted: ReadonlySet<string>,
): { steps: Step[]; warnings: string[] } {
  const out: { steps: Step[]; warnings: string[] } = { steps: [], warnings: [] };
  for (const p of level.profiles) {
    if (!isManagedProfile(p) || !declared.some((d) => d.name === p.name)) continue;
    const staying = p.usedBy.filter((u) => !deleted.has(u));
    if (staying.length > 0) {
      out.warnings.push(`${levelLabel(levelPath)}: profile ${p.name} is kept: used by ${staying.join(', ')}`);
      continue;
    }
    out.steps.push({
      id: `${levelLabel(levelPath)}:profile:${p.name}`,
      level: levelPath,
      kind: 'delete-profile',
      dependsOn: deleteIds,
      reason: `profile ${p.name} was created by nestctl${p.usedBy.length > 0 ? ` and its users (${p.usedBy.join(', ')}) are deleted first` : ''}`,
      name: p.name,
      precondition: { kind: 'profile', profile: profileBody(p) },
    });
  }
  return out;
}
