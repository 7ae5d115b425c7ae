// The pure editors of LXC's files: lxc-usernet lines and a container's config keys.

import { describe, expect, it } from 'vitest';
import { lxcConfigDrift, setLxcConfig } from '../../src/core/lxc/config-file.js';
import { configuredText } from '../../src/core/lxc/desired.js';
import { markedPath } from '../../src/core/lxc/paths.js';
import { parseUsernet, withUsernet } from '../../src/core/lxc/usernet.js';

describe('lxc-usernet', () => {
  const FILE = '# USERNAME TYPE BRIDGE COUNT\nbob veth br0 2\nalice veth lxdbr0 1\n';
  it("raises the user's count for the link in place and keeps every other line", () => {
    expect(withUsernet(FILE, 'alice', 'lxdbr0', 3)).toBe('# USERNAME TYPE BRIDGE COUNT\nbob veth br0 2\nalice veth lxdbr0 3\n');
    expect(withUsernet(FILE, 'alice', 'br0', 1)).toBe(`${FILE}alice veth br0 1\n`);
    expect(withUsernet(null, 'alice', 'lxdbr0', 1)).toBe('alice veth lxdbr0 1\n');
  });
  it('never lowers a count someone gave, and reads past comments', () => {
    expect(withUsernet(FILE, 'bob', 'br0', 1)).toBe(FILE);
    expect(parseUsernet('alice veth lxdbr0 4 # four\n')).toEqual([{ user: 'alice', type: 'veth', link: 'lxdbr0', count: 4, line: 0 }]);
  });
});

describe("a container's LXC config", () => {
  const CONFIG = [
    'lxc.include = /usr/share/lxc/config/common.conf',
    'lxc.idmap = u 0 100000 65536',
    'lxc.net.0.link = lxcbr0',
    'lxc.start.auto = 0',
    'lxc.start.auto = 0',
    'lxc.uts.name = box',
    '',
  ].join('\n');
  it("replaces a key where it first stands, drops its later copies, appends new keys, adds a list key's line once", () => {
    const set: Array<[string, string]> = [
      ['lxc.net.0.link', 'lxdbr0'],
      ['lxc.start.auto', '1'],
      ['lxc.include', '/usr/share/lxc/config/nesting.conf'],
      ['lxc.apparmor.profile', 'unconfined'],
    ];
    expect(lxcConfigDrift(CONFIG, set).map(([k]) => k)).toEqual([
      'lxc.net.0.link',
      'lxc.start.auto',
      'lxc.include',
      'lxc.apparmor.profile',
    ]);
    const after = setLxcConfig(CONFIG, set);
    expect(after).toBe(
      [
        'lxc.include = /usr/share/lxc/config/common.conf',
        'lxc.idmap = u 0 100000 65536',
        'lxc.net.0.link = lxdbr0',
        'lxc.start.auto = 1',
        'lxc.uts.name = box',
        'lxc.include = /usr/share/lxc/config/nesting.conf',
        'lxc.apparmor.profile = unconfined',
        '',
      ].join('\n'),
    );
    expect(lxcConfigDrift(after, set)).toEqual([]);
    expect(setLxcConfig(after, set)).toBe(after);
  });
  it("records the node path as nestctl's marker once", () => {
    const once = configuredText(CONFIG, [], 'c1/box');
    expect(markedPath(once)).toBe('c1/box');
    expect(configuredText(once, [], 'c1/box')).toBe(once);
    expect(markedPath(CONFIG)).toBeNull();
  });
});
