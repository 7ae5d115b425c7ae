// The write-subid step: an edit of root's entries (apply) or a restore of the original (destroy).

import type { RootEdit } from '../../subid/file.js';
import { levelLabel } from '../../paths.js';
import type { Precondition, Step } from '../model.js';

export interface SubidWrite {
  level: string;
  file: 'subuid' | 'subgid';
  dependsOn: string[];
  reason: string;
  before: string | null;
  after: string | null;
  edit: RootEdit | null;
  restore: boolean;
  precondition: Precondition;
}

export function writeSubidStep(w: SubidWrite): Step {
  return { id: `${levelLabel(w.level)}:write-subid:${w.file}`, kind: 'write-subid', ...w };
}
