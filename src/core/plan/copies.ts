// The manifest's copies (`copy_of:`) that hold containers, against what was observed: the
// observation as it will be once each is copied from its source (the view the rest of the plan is
// made from: the source's inside, its levels and their files, under the copy's path, with the
// markers of nestctl's containers following it). What is planned inside a copy is then what a plan
// of its source's inside would be at the copy's place; a second plan after apply is empty. A copy
// that holds no containers needs no view: what it takes from its source is in the manifest
// (core/manifest/build.ts). Pure.

import { type ContainerSpec, type Manifest, hostsContainers } from '../manifest/model.js';
import type { InsideStart } from './model.js';
import { type ContainerFiles, type LevelObservation, MANAGED_PROJECT, type ObservedTree, managedInstance } from '../observed.js';
import { joinPath, parentPath } from '../paths.js';
import { MARKER_PATH } from './desired-config.js';

/** A copy whose inside is taken from its source's as observed. */
export interface CopyView {
  from: string;
  to: string;
  /** The containers seen running inside the source, by their paths in the copy, parents first: started in the copy. */
  inside: InsideStart[];
  /** nestctl's containers inside it, by their paths in the copy, parents first: their user.nestctl.path follows. */
  markers: string[];
}

const under = (path: string, ancestor: string): boolean => path === ancestor || path.startsWith(`${ancestor}/`);
const moved = (path: string, from: string, to: string): string => (under(path, from) ? `${to}${path.slice(from.length)}` : path);
const byDepth = (a: string, b: string): number => a.split('/').length - b.split('/').length || a.localeCompare(b);

/** The tree as it is once every copy that holds containers, whose parent runs and whose source runs, is made; and those copies. */
export function copiesView(manifest: Manifest, tree: ObservedTree): { tree: ObservedTree; copies: ReadonlyMap<string, CopyView> } {
  const copies = new Map<string, CopyView>();
  const levels: Record<string, LevelObservation> = { ...tree.levels };
  let files: Record<string, ContainerFiles> | undefined = tree.files ? { ...tree.files } : undefined;
  const walk = (specs: ContainerSpec[]): void => {
    for (const spec of specs) {
      const seen = levels[parentPath(spec.path)];
      const obs = seen?.kind === 'observed' ? seen.level : null;
      const source = spec.copyOf;
      if (source && hostsContainers(spec) && obs && !managedInstance(obs, spec.name)) {
        const found = managedInstance(obs, source.name);
        const inside = levels[source.path];
        if (found?.status === 'Running' && found.config[MARKER_PATH] === source.path && inside?.kind === 'observed') {
          const markers: string[] = [];
          const running: CopyView['inside'] = [];
          for (const key of Object.keys(levels).filter((k) => under(k, source.path))) {
            const value = levels[key]!;
            const path = moved(key, source.path, spec.path);
            if (value.kind !== 'observed') {
              levels[path] = value;
              continue;
            }
            const instances = value.level.instances.map((i) => {
              if (i.project !== MANAGED_PROJECT) return i;
              if (i.status === 'Running')
                running.push({ path: joinPath(path, i.name), waitBoot: levels[joinPath(key, i.name)]?.kind === 'observed' });
              if (i.config[MARKER_PATH] !== joinPath(key, i.name)) return i;
              markers.push(joinPath(path, i.name));
              return { ...i, config: { ...i.config, [MARKER_PATH]: joinPath(path, i.name) } };
            });
            levels[path] = { kind: 'observed', level: { ...value.level, path, instances } };
          }
          if (files) {
            const inner = Object.entries(files).filter(([k]) => k.startsWith(`${source.path}/`));
            files = { ...files, ...Object.fromEntries(inner.map(([k, v]) => [moved(k, source.path, spec.path), v])) };
          }
          running.sort((a, b) => byDepth(a.path, b.path));
          copies.set(spec.path, { from: source.path, to: spec.path, inside: running, markers: markers.sort(byDepth) });
        }
      }
      walk(spec.containers);
    }
  };
  walk(manifest.containers);
  return { tree: { ...tree, levels, ...(files ? { files } : {}) }, copies };
}
