// The write-subid step: at apply, one edit per file of every owner entry nestctl manages at the
// level (root's for its daemon, with root's LXC slices; dockremap's; each LXC user's); at destroy,
// a restore of the original.

import { applySubidEdit, type SubidEdit } from '../../subid/file.js';
import { levelLabel } from '../../paths.js';
import type { Precondition, Step } from '../model.js';

export interface SubidWrite {
  level: string;
  file: 'subuid' | 'subgid';
  dependsOn: string[];
  reason: string;
  before: string | null;
  after: string | null;
  edit: SubidEdit | null;
  restore: boolean;
  precondition: Precondition;
}

export function writeSubidStep(w: SubidWrite): Step {
  return { id: `${levelLabel(w.level)}:write-subid:${w.file}`, kind: 'write-subid', ...w };
}

/**
 * The apply-time edit of a level's file as observed (`state` null: a new level, whose file is
 * known only when the step runs): its text before and after, and the sha256 it must still have.
 */
export function editSubidStep(w: {
  level: string;
  file: 'subuid' | 'subgid';
  dependsOn: string[];
  reason: string;
  edit: SubidEdit;
  state: { text: string | null; sha256: string | null } | null;
}): Step {
  const { state, edit } = w;
  return writeSubidStep({
    level: w.level,
    file: w.file,
    dependsOn: w.dependsOn,
    reason: w.reason,
    before: state === null ? null : state.text,
    after: state === null ? null : applySubidEdit(state.text, edit),
    edit,
    restore: false,
    precondition: state === null ? { kind: 'level-new' } : { kind: 'file-sha256', sha256: state.sha256 },
  });
}
