// What `nestctl import` found, as a manifest says it: plain data between the observed tree
// (tree.ts) and the YAML text (render.ts). Every `notes` entry becomes a `# not expressible:` comment.

import type { Flavour } from '../manifest/model.js';

export interface ImportedProfile {
  name: string;
  description: string;
  config: Record<string, string>;
  devices: Record<string, Record<string, string>>;
}

export interface ImportedLxd {
  kind: 'lxd';
  name: string;
  /** Its path in the tree ("c1/c2"). */
  path: string;
  image: string;
  /** null: ["default"], left unsaid. */
  profiles: string[] | null;
  config: Record<string, string>;
  idmap: { isolated: true; size: number | null } | null;
  docker: boolean;
  /** docker.userns_remap's size: dockremap's entry inside it (null: none). */
  dockerRemap: number | null;
  flavour: Flavour | null;
  /** A root container of a cluster: the member it is on (`target:`); null elsewhere. */
  target: string | null;
  /** nestctl did not create it (no marker, or another path's). */
  adopt: boolean;
  insideProfiles: ImportedProfile[];
  containers: ImportedNode[];
  notes: string[];
  /** On what of its inside was left out. */
  containerNotes: string[];
}

export interface ImportedLxc {
  kind: 'lxc';
  name: string;
  /** null: root's. */
  user: string | null;
  bridge: string | null;
  /** lxc-create's template, written only where the manifest needs one (null: left unsaid). */
  template: string | null;
  /** LXC containers inside it. */
  containers: ImportedLxc[];
  notes: string[];
}

export type ImportedNode = ImportedLxd | ImportedLxc;

export interface ImportedHost {
  /** The key in `hosts:` (with several hosts, or a remote), the one in `host:` otherwise. */
  name: string;
  /** A remote of the client's configuration; null: this machine. */
  remote: { name: string; cli: 'lxc' | 'incus' | null } | null;
  flavour: Flavour | null;
  /** Start of the root entry, when writing it keeps the entry as it is (index.ts decides). */
  base?: number;
  notes: string[];
  profiles: ImportedProfile[];
  containers: ImportedNode[];
  containerNotes: string[];
}
