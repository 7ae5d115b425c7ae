// A child's `files:`: a push-file step for each file whose content, mode or owner is not what the
// manifest says (a hand edit inside the container is drift, repaired by the next apply), `+` for
// one that is absent. A container this plan creates or starts gets every file, checked when the
// step runs.

import { nodeAt } from '../../diagnostics.js';
import { BugError } from '../../errors.js';
import { lxdTrue } from '../../manifest/config-keys.js';
import type { FileSpec } from '../../manifest/model.js';
import { type ObservedFile, fileIsAsWanted } from '../../observed.js';
import { sha256 } from '../../hash.js';
import type { LevelChild, LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import type { Precondition, Step } from '../model.js';
import { type ConcernResult, noConcern } from '../result.js';

/** Texts up to this size are carried twice in the plan to show a diff; larger ones show sizes and hashes. */
const DIFF_MAX_BYTES = 65536;

/**
 * `existed`: the container is not created by this plan (its files were read if it ran); `ready`:
 * the steps that make it run; `copied`: the files that come with it from the source it is copied from.
 */
export function fileSteps(
  ctx: LevelContext,
  child: LevelChild,
  existed: boolean,
  ready: string[],
  copied: readonly string[] = [],
): ConcernResult {
  const out = noConcern();
  const { spec } = child;
  if (spec.files.length === 0) return out;
  const privileged = lxdTrue(spec.config['security.privileged'] ?? '');
  for (const f of spec.files) {
    const top = Math.max(f.uid, f.gid);
    if (!privileged && top >= child.map.size) {
      out.problems.push({
        severity: 'error',
        fault: 'user',
        where: nodeAt(ctx.input.manifest.file, spec.path, f.pos),
        message: `${f.path} in ${spec.path} is owned by ${f.uid}:${f.gid}, but ${spec.path} maps only ids 0-${child.map.size - 1}`,
        hint: `choose a uid and gid below ${child.map.size}`,
      });
    }
  }
  const seen = existed ? ctx.input.tree.files?.[spec.path] : undefined;
  if (seen?.kind === 'unseen') {
    out.problems.push({
      severity: 'error',
      fault: 'environment',
      where: { kind: 'node', path: spec.path },
      message: `cannot read the files inside ${spec.path}: ${seen.reason}`,
      hint: `${spec.path} must be able to run sh for nestctl to keep files in it`,
    });
    return out;
  }
  for (const f of spec.files) {
    if (copied.includes(f.path)) continue;
    if (f.data === null) throw new BugError(`the source of ${f.path} in ${spec.path} was not read`);
    const now = seen ? (seen.files[f.path] ?? null) : null;
    if (now?.kind === 'other') {
      out.problems.push({
        severity: 'error',
        fault: 'environment',
        where: nodeAt(ctx.input.manifest.file, spec.path, f.pos),
        message: `${f.path} in ${spec.path} is not a regular file (a directory, symlink or device)`,
        hint: 'nestctl never replaces it; remove it, or choose another path',
      });
      continue;
    }
    const step = pushStep(
      ctx,
      child,
      f,
      seen ? now : null,
      seen ? pre(ctx, { kind: 'file-sha256', sha256: now?.sha256 ?? null }) : { kind: 'none' },
      ready,
    );
    if (step) out.steps.push(step);
  }
  return out;
}

function pushStep(
  ctx: LevelContext,
  child: LevelChild,
  f: FileSpec,
  now: Extract<ObservedFile, { kind: 'file' }> | null,
  precondition: Precondition,
  ready: string[],
): Step | null {
  const { spec } = child;
  const bytes = Buffer.from(f.data!, 'base64');
  const hash = sha256(bytes);
  if (fileIsAsWanted(now, { sha256: hash, mode: f.mode, uid: f.uid, gid: f.gid })) return null;
  const before = now ? { sha256: now.sha256, size: now.size, mode: now.mode, uid: now.uid, gid: now.gid } : null;
  const oldText = now?.data != null ? asText(Buffer.from(now.data, 'base64')) : null;
  const newText = asText(bytes);
  const what = !now
    ? precondition.kind === 'none'
      ? `${spec.path} gets its files once it runs`
      : `${f.path} is absent`
    : now.sha256 !== hash
      ? `${f.path} differs from the manifest`
      : `${f.path}'s mode or owner differs from the manifest`;
  return {
    id: `${spec.path}:push-file:${f.path}`,
    level: ctx.path,
    kind: 'push-file',
    dependsOn: ready,
    reason: f.implied ? `${what} (nestctl writes it for ${f.implied})` : what,
    name: spec.name,
    path: spec.path,
    file: f.path,
    data: f.data!,
    sha256: hash,
    size: bytes.length,
    mode: f.mode,
    uid: f.uid,
    gid: f.gid,
    before,
    text: oldText !== null && newText !== null && now!.sha256 !== hash ? { before: oldText, after: newText } : null,
    precondition,
  };
}

/** The bytes as text, when they are small, valid UTF-8 and hold no NUL. */
function asText(bytes: Buffer): string | null {
  if (bytes.length > DIFF_MAX_BYTES || bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
