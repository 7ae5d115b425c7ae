import { describe, expect, it } from 'vitest';
import { applySubidEdit, firstUsable, parseSubid } from '../../src/core/subid/file.js';

const FILE = '# managed by hand\nalice:100000:65536\nroot:100000:10000001\nroot:5:10\nbob:200000:65536';

describe('subid files', () => {
  it('parses entries with their line numbers and skips comments', () => {
    expect(parseSubid(FILE).map((e) => [e.owner, e.start, e.size, e.line])).toEqual([
      ['alice', 100000, 65536, 1],
      ['root', 100000, 10000001, 2],
      ['root', 5, 10, 3],
      ['bob', 200000, 65536, 4],
    ]);
  });

  it('finds the first usable root entry (>= 65536 ids), as LXD does', () => {
    expect(firstUsable('root:5:10\nroot:500000:196608\nroot:1:70000\n', 'root')).toMatchObject({ start: 500000, size: 196608 });
    expect(firstUsable('alice:1:70000\n', 'root')).toBeNull();
    expect(firstUsable(null, 'root')).toBeNull();
  });

  it('replaces root usable entries in place and keeps every other line byte for byte', () => {
    const after = applySubidEdit(FILE, [{ owner: 'root', entry: { start: 500000, size: 196608 }, keep: [] }]);
    expect(after).toBe('# managed by hand\nalice:100000:65536\nroot:500000:196608\nroot:5:10\nbob:200000:65536\n');
  });

  it('writes the new entry first and keeps pinned old entries after it', () => {
    const after = applySubidEdit('root:100000:10000001\n', [
      {
        owner: 'root',
        entry: { start: 20000000, size: 196608 },
        keep: [{ start: 100000, size: 10000001 }],
      },
    ]);
    expect(after).toBe('root:20000000:196608\nroot:100000:10000001\n');
    expect(firstUsable(after, 'root')).toMatchObject({ start: 20000000 });
  });

  it('appends when there is no root entry, and creates a missing file', () => {
    expect(applySubidEdit('alice:100000:65536\n', [{ owner: 'root', entry: { start: 65536, size: 65536 }, keep: [] }])).toBe(
      'alice:100000:65536\nroot:65536:65536\n',
    );
    expect(applySubidEdit(null, [{ owner: 'root', entry: { start: 65536, size: 65536 }, keep: [] }])).toBe('root:65536:65536\n');
  });

  it('is idempotent', () => {
    const edit = [{ owner: 'root', entry: { start: 500000, size: 196608 }, keep: [] }];
    const once = applySubidEdit(FILE, edit);
    expect(applySubidEdit(once, edit)).toBe(once);
  });
});
