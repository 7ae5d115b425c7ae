// Images the children are created from: each is resolved once against the host's image store
// (a `remote:alias` missing there is fetched first; on a remote host, one missing there but in
// this machine's store is relayed to it through the client), then copied into a level's store
// from the nearest level above that holds it, hop by hop.

import { nodeAt } from '../../diagnostics.js';
import { clientOf, daemonName } from '../../flavour/index.js';
import type { ContainerSpec, Manifest } from '../../manifest/model.js';
import type { ObservedImage, ObservedLevel } from '../../observed.js';
import type { LevelContext } from '../level-context.js';
import { pre } from '../level-context.js';
import { type ConcernResult, noConcern } from '../result.js';
import type { Step } from '../model.js';

export interface ResolvedImage {
  ref: string;
  fingerprint: string | null;
  /** Alias to give it at nested levels (none for fingerprints). */
  alias: string | null;
  /** The host's step that brings it there first: the fetch of a remote image, or the relay to a remote host. */
  fetchStep: string | null;
  /** The relay to a remote host, planned by imageSteps once the host's daemon-ready steps are known. */
  relay?: Step;
}

export type ResolvedImages = Map<string, ResolvedImage>;

const isFingerprint = (ref: string): boolean => /^[0-9a-f]{12,64}$/.test(ref);
const isRemote = (ref: string): boolean => ref.includes(':');

/** The image of the store that `ref` (an alias or a fingerprint's prefix) names. */
export const findImage = (ref: string, images: readonly ObservedImage[]): ObservedImage | undefined =>
  isFingerprint(ref) ? images.find((i) => i.fingerprint.startsWith(ref)) : images.find((i) => i.aliases.includes(ref));

/** The images the manifest names that are not `remote:alias` and not in `images` (a remote host's store: these are relayed). */
export function missingImages(manifest: Manifest, images: readonly ObservedImage[]): string[] {
  return [...new Set(allSpecs(manifest.containers).map((s) => s.image))].filter((ref) => !isRemote(ref) && !findImage(ref, images));
}

const allSpecs = (specs: ContainerSpec[]): ContainerSpec[] => specs.flatMap((s) => [s, ...allSpecs(s.containers)]);

/**
 * Every image the manifest names, against the host's store; fetch steps for missing remote ones.
 * `relay`: this machine's store, read for a remote host whose store lacks an image.
 */
export function resolveImages(
  manifest: Manifest,
  host: ObservedLevel,
  relay: readonly ObservedImage[] | null = null,
): ConcernResult & { images: ResolvedImages } {
  const out = { ...noConcern(), images: new Map<string, ResolvedImage>() };
  const refs = new Map<string, ContainerSpec>();
  for (const s of allSpecs(manifest.containers)) if (!refs.has(s.image)) refs.set(s.image, s);
  const place = manifest.host.place;
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
    const alias = isFingerprint(ref) ? null : ref;
    const found = findImage(ref, host.images);
    if (found) {
      out.images.set(ref, { ref, fingerprint: found.fingerprint, alias, fetchStep: null });
      continue;
    }
    const here = place.kind === 'remote' && relay ? findImage(ref, relay) : undefined;
    if (place.kind === 'remote' && here) {
      const id = `host:copy-image:${ref}`;
      const users = [
        ...new Set(
          allSpecs(manifest.containers)
            .filter((s) => s.image === ref)
            .map((s) => s.path),
        ),
      ];
      const relayStep: Step = {
        id,
        level: '',
        kind: 'copy-image',
        dependsOn: [],
        reason: `${users.join(', ')} ${users.length > 1 ? 'are' : 'is'} created from ${ref}, not in ${place.remote}'s image store but in this machine's: copied there through the client`,
        image: ref,
        fingerprint: here.fingerprint,
        source: '',
        hops: [],
        aliases: alias ? [alias] : [],
        relay: place.remote,
        precondition: { kind: 'none' },
      };
      out.images.set(ref, { ref, fingerprint: here.fingerprint, alias, fetchStep: id, relay: relayStep });
      continue;
    }
    out.problems.push({
      severity: 'error',
      fault: 'user',
      where: nodeAt(manifest.file, spec.path, spec.pos),
      message:
        place.kind === 'remote'
          ? `image "${ref}" (used by ${spec.path}) is neither in ${place.remote}'s ${daemonName(host.flavour)} image store nor in this machine's`
          : `image "${ref}" (used by ${spec.path}) is not in the host's ${daemonName(host.flavour)} image store`,
      hint: `import it on ${place.kind === 'remote' ? 'this machine (nestctl copies it to the remote)' : 'the host'} (${clientOf(host.flavour)} image import … --alias ${ref}), or name a remote image as remote:alias`,
    });
  }
  return out;
}

/**
 * Copies into a nested level of the images its children need and it lacks. `after`: the steps
 * that make its daemon ready. Returns, per image, the steps a child created from it waits for.
 */
export function imageSteps(ctx: LevelContext, images: ResolvedImages, after: string[]): ConcernResult & { byImage: Map<string, string[]> } {
  const out = { ...noConcern(), byImage: new Map<string, string[]>() };
  if (ctx.isHost) {
    // Root containers wait for the image's fetch, or its relay to a remote host; a relay waits for
    // the remote's daemon to be ready (a restart through shell: drops its HTTPS listener a while).
    for (const img of images.values()) {
      if (img.relay) out.steps.push({ ...img.relay, dependsOn: [...after] });
      if (img.fetchStep) out.byImage.set(img.ref, [img.fetchStep]);
    }
    return out;
  }
  const specs = ctx.children.map((c) => c.spec);
  for (const ref of new Set(specs.map((s) => s.image))) {
    const img = images.get(ref);
    if (!img) continue;
    const present = ctx.obs?.images.some((i) =>
      img.fingerprint ? i.fingerprint === img.fingerprint : img.alias !== null && i.aliases.includes(img.alias),
    );
    if (present) continue;
    const source =
      [...ctx.ancestors].reverse().find((a) => a.obs?.images.some((i) => i.fingerprint === img.fingerprint) && img.fingerprint) ??
      ctx.ancestors[0]!;
    const hops = ctx.path.split('/').slice(source.path === '' ? 0 : source.path.split('/').length);
    const id = `${ctx.label}:copy-image:${ref}`;
    out.steps.push({
      id,
      level: ctx.path,
      kind: 'copy-image',
      dependsOn: [...after, ...(img.fetchStep ? [img.fetchStep] : [])],
      reason:
        (ctx.hidden ? `${ctx.unseenWhy}: ` : '') +
        `${specs
          .filter((s) => s.image === ref)
          .map((s) => s.path)
          .join(', ')} ${specs.length > 1 ? 'are' : 'is'} created from ${ref}, ` +
        (ctx.hidden
          ? `copied into ${ctx.label}'s image store once its ${daemonName(ctx.flavour)} runs, unless there`
          : `not yet in ${ctx.label}'s image store`),
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
