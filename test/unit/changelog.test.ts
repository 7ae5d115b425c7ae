// CHANGELOG.md keeps Keep a Changelog's shape: each release has each kind of heading at most
// once, and only the kinds that format names, in its order.

import { describe, expect, it } from 'vitest';
import { readDoc } from './helpers/docs.js';

const KINDS = ['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security'];

describe('CHANGELOG.md', () => {
  const releases = readDoc('CHANGELOG.md').split(/^## /m).slice(1);

  it('has releases, the first one [Unreleased]', () => {
    expect(releases[0]?.startsWith('[Unreleased]')).toBe(true);
  });

  it.each(releases.map((r) => [r.split('\n')[0]!, r] as const))('%s: each kind of change once, in order', (_, release) => {
    const kinds = [...release.matchAll(/^### (.+)$/gm)].map((m) => m[1]!);
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds).toEqual(KINDS.filter((k) => kinds.includes(k)));
  });
});
