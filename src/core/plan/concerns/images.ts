// Images the children are created from: each is resolved once against the host's image store
// (a `remote:alias` missing there is fetched first), then copied into a level's store from the
// nearest level above that holds it, hop by hop.

import { nodeAt } from '../../diagnostics.js';
import { clientOf, daemonName } from '../../flavour/index.js';
import type { ContainerSpec, Manifest } from '../../manifest/model.js';
import type { ObservedLevel } from '../../observed.js';
import type { LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';

export interface ResolvedImage {
  ref: string;
  fingerprint: string | null;
  /** Alias to give it at nested levels (none for fingerprints). */
  alias: string | null;
  /** The host's fetch step for a remote image not there yet. */
  fetchStep: string | null;
}

export type ResolvedImages = Map<string, ResolvedImage>;

const isFingerprint = (ref: string): boolean => /^[0-9a-f]{12,64}$/.test(ref);
const isRemote = (ref: string): boolean => ref.includes(':');

/** On a remote host: how to copy the image there from this machine (nestctl does not relay it yet). */
function remoteImageHint(manifest: Manifest, ref: string): string | null {
  const place = manifest.host.place;
  if (place.kind !== 'remote') return null;
  const cli = place.cli ?? clientOf(manifest.host.flavour);
  return `copy it there from this machine: ${cli} image copy ${ref} ${place.remote}: --copy-aliases --mode relay${place.project ? ` --target-project ${place.project}` : ''}`;
}

/** Every image the manifest names, against the host's store; fetch steps for missing remote ones. */
export function resolveImages(manifest: Manifest, host: ObservedLevel): ConcernResult & { images: ResolvedImages } {
  const out = { ...noConcern(), images: new Map<string, ResolvedImage>() };
  const refs = new Map<string, ContainerSpec>();
  const walk = (specs: ContainerSpec[]): void =>
    specs.forEach((s) => {
      if (!refs.has(s.image)) refs.set(s.image, s);
      walk(s.containers);
    });
  walk(manifest.containers);
  for (const [ref, spec] of refs) {
    if (isRemote(ref)) {
      const alias = ref.slice(ref.indexOf(':') + 1);
      const local = host.images.find((i) => i.aliases.includes(alias));
      if (local) {
        out.images.set(ref, { ref, fingerprint: local.fingerprint, alias, fetchStep: null });
        continue;
      }
      const id = `host:fetch-image:${ref}`;
      out.steps.push({
        id,
        level: '',
        kind: 'fetch-image',
        dependsOn: [],
        reason: `${ref} is not in the host's image store yet`,
        remote: ref,
        alias,
        precondition: { kind: 'none' },
      });
      out.images.set(ref, { ref, fingerprint: null, alias, fetchStep: id });
      continue;
    }
    const found = isFingerprint(ref) ? host.images.find((i) => i.fingerprint.startsWith(ref)) : host.images.find((i) => i.aliases.includes(ref));
    if (!found) {
      out.problems.push({
        severity: 'error',
        fault: 'user',
        where: nodeAt(manifest.file, spec.path, spec.pos),
        message: `image "${ref}" (used by ${spec.path}) is not in the host's ${daemonName(host.flavour)} image store`,
        hint: remoteImageHint(manifest, ref) ?? `import it on the host (${clientOf(host.flavour)} image import … --alias ${ref}), or name a remote image as remote:alias`,
      });
      continue;
    }
    out.images.set(ref, { ref, fingerprint: found.fingerprint, alias: isFingerprint(ref) ? null : ref, fetchStep: null });
  }
  return out;
}

/**
 * Copies into a nested level of the images its children need and it lacks. `after`: the steps
 * that make its daemon ready. Returns, per image, the steps a child created from it waits for.
 */
export function imageSteps(ctx: LevelContext, images: ResolvedImages, after: string[]): ConcernResult & { byImage: Map<string, string[]> } {
  const out = { ...noConcern(), byImage: new Map<string, string[]>() };
  if (ctx.isHost) return out;
  const specs = ctx.children.map((c) => c.spec);
  for (const ref of new Set(specs.map((s) => s.image))) {
    const img = images.get(ref);
    if (!img) continue;
    const present = ctx.obs?.images.some((i) => (img.fingerprint ? i.fingerprint === img.fingerprint : img.alias !== null && i.aliases.includes(img.alias)));
    if (present) continue;
    const source =
      [...ctx.ancestors].reverse().find((a) => a.obs?.images.some((i) => i.fingerprint === img.fingerprint) && img.fingerprint) ?? ctx.ancestors[0]!;
    const hops = ctx.path.split('/').slice(source.path === '' ? 0 : source.path.split('/').length);
    const id = `${ctx.label}:copy-image:${ref}`;
    out.steps.push({
      id,
      level: ctx.path,
      kind: 'copy-image',
      dependsOn: [...after, ...(img.fetchStep ? [img.fetchStep] : [])],
      reason:
        (ctx.hidden ? `${ctx.unseenWhy}: ` : '') +
        `${specs.filter((s) => s.image === ref).map((s) => s.path).join(', ')} ${specs.length > 1 ? 'are' : 'is'} created from ${ref}, ` +
        (ctx.hidden ? `copied into ${ctx.label}'s image store once its ${daemonName(ctx.flavour)} runs, unless there` : `not yet in ${ctx.label}'s image store`),
      image: ref,
      fingerprint: img.fingerprint,
      source: source.path,
      hops,
      aliases: img.alias ? [img.alias] : [],
      precondition: pre(ctx, { kind: 'none' }),
    });
    out.byImage.set(ref, [id]);
  }
  return out;
}
