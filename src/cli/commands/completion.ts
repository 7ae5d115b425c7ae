// nestctl completion bash|zsh|fish: a completion script written from the program's own command
// definitions; and the hidden `__complete-paths FILE` the scripts call for --target and --replace.

import type { Command } from 'commander';
import { loadManifest } from '../../core/manifest/load.js';
import type { Manifest } from '../../core/manifest/model.js';
import { completionScript, type Shell } from '../completion/scripts.js';
import { completionSpec } from '../completion/spec.js';
import { EXIT_OK } from '../exit.js';
import { MANIFEST_MAX_BYTES, readText } from '../read.js';

export function completionCommand(shell: Shell, program: Command): number {
  process.stdout.write(completionScript(shell, completionSpec(program)));
  return EXIT_OK;
}

/** What --target accepts: every LXD container, and the LXC containers on a host or in one (engine/plan-pipeline.ts). */
export function nodePaths(manifest: Pick<Manifest, 'containers' | 'lxc'>): string[] {
  const out = manifest.lxc.map((l) => l.path);
  const walk = (specs: Manifest['containers']): void => {
    for (const s of specs) {
      out.push(s.path, ...s.lxc.map((l) => l.path));
      walk(s.containers);
    }
  };
  walk(manifest.containers);
  return out;
}

// Names are checked by the manifest's own rules; the pattern is a second guard, since a shell
// reads these lines while the user types.
const PLAIN_PATH = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/**
 * One node path a line; nothing at all (and exit 0) when FILE is not a manifest the loader
 * accepts. The ids need not fit: a tree too big for its host still has its paths.
 */
export async function completePathsCommand(file: string): Promise<number> {
  try {
    const checked = loadManifest(await readText(file, MANIFEST_MAX_BYTES), file);
    if (checked.ok) {
      const paths = nodePaths(checked.manifest).filter((p) => PLAIN_PATH.test(p));
      process.stdout.write(paths.map((p) => `${p}\n`).join(''));
    }
  } catch {
    // Completion must stay silent: a half-typed path or a broken file completes to nothing.
  }
  return EXIT_OK;
}
