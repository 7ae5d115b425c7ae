// The reasons a level's context cannot be built, as the problems the plan reports.

import { daemonName } from '../flavour/index.js';
import type { ContainerSpec, Flavour, Manifest } from '../manifest/model.js';
import { type Diagnostic, nodeAt } from '../diagnostics.js';

/** A container whose inside could not be probed (no sh): nothing can be planned in it. */
export function unseenProblem(path: string, reason: string, execArgv: string): Diagnostic {
  return {
    severity: 'error',
    fault: 'environment',
    where: { kind: 'node', path },
    message: `cannot look inside ${path}: ${reason}`,
    hint: `${path} must be able to run sh (${execArgv}) to host containers`,
  };
}

/** A container the manifest gives containers, with no LXD or Incus installed in it. */
export function daemonlessProblem(manifest: Manifest, spec: ContainerSpec, adopted: boolean): Diagnostic {
  return {
    severity: 'error',
    fault: 'user',
    where: nodeAt(manifest.file, spec.path, spec.pos),
    message: `${spec.path} holds containers in the manifest, but no LXD or Incus is installed in it`,
    hint: adopted
      ? `install LXD or Incus in ${spec.path} before adopting it, or give it no containers`
      : `replace it from an image with LXD inside (nestctl plan --replace ${spec.path}), or give it no containers`,
  };
}

/** The snap LXD hands out every id of its namespace from 100000 up (core/flavour): a dockremap range there would be its children's too. */
export function snapRemapProblem(manifest: Manifest, spec: ContainerSpec, flavour: Flavour): Diagnostic {
  return {
    severity: 'error',
    fault: 'user',
    where: nodeAt(manifest.file, spec.path, spec.pos),
    message: `${spec.path} remaps Docker (docker.userns_remap), but its ${daemonName(flavour)} (${flavour}) hands its containers every id from 100000 up, so dockremap's range would overlap them`,
    hint: `drop userns_remap, or run the Debian LXD or Incus in ${spec.path} (flavour: debian or incus)`,
  };
}

export function remapRoomProblem(manifest: Manifest, spec: ContainerSpec, own: number, needed: number, flavour: Flavour): Diagnostic {
  return {
    severity: 'error',
    fault: 'user',
    where: nodeAt(manifest.file, spec.path, spec.pos),
    message: `${spec.path} holds ${own} ids but it${spec.containers.length > 0 ? ', its children' : ''} and Docker's dockremap range need ${needed}`,
    hint: `${daemonName(flavour)} gives a running container a bigger map only when it is created again: nestctl plan --replace ${spec.path} (its filesystem and every container inside it are lost)`,
  };
}
