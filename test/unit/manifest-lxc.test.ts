// runtime: lxc nodes: what the loader builds, and every refusal at its file:line:col.

import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/core/diagnostics.js';
import { checkManifest } from '../../src/core/manifest/check.js';
import { renamedLxcKey } from '../../src/core/manifest/lxc-keys.js';
import { NESTING_TEMPLATES } from '../../src/core/manifest/lxc-checks.js';
import { loadManifest } from '../../src/core/manifest/load.js';
import { lineCol } from './helpers/placed.js';

const doc = (...lines: string[]): string => `${lines.join('\n')}\n`;

function errors(text: string): Array<[string, string]> {
  const r = loadManifest(text, 'm.yaml');
  if (r.ok) throw new Error('expected the manifest to be rejected');
  return r.diagnostics.filter((d: Diagnostic) => d.severity === 'error').map((d) => [lineCol(d), d.message]);
}

describe('manifest: runtime: lxc', () => {
  it('builds an LXC node apart from the LXD containers, with its defaults and no image needed', () => {
    const r = loadManifest(
      doc(
        'apiVersion: nestctl/v1',
        'containers:',
        '  - name: web',
        '    image: busybox',
        '    containers:',
        '      - name: inner',
        '        runtime: lxc',
        '  - name: box',
        '    runtime: lxc',
        '    user: alice',
        '    template: download',
        '    template_args: [--dist, debian]',
        '    bridge: br0',
        '    config:',
        '      lxc.start.auto: 1',
      ),
      'm.yaml',
    );
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
    const m = r.manifest;
    expect(m.containers.map((c) => c.path)).toEqual(['web']);
    expect(m.containers[0]!.lxc.map((c) => [c.path, c.user, c.template, c.bridge])).toEqual([['web/inner', null, 'busybox', null]]);
    expect(m.lxc).toEqual([
      {
        runtime: 'lxc',
        name: 'box',
        path: 'box',
        user: 'alice',
        template: 'download',
        templateArgs: ['--dist', 'debian'],
        config: { 'lxc.start.auto': '1' },
        bridge: 'br0',
        host: 'local',
        containers: [],
        pos: { line: 8, col: 5 },
      },
    ]);
  });

  it('refuses LXC 1.0 key names with the new name, and the keys nestctl owns', () => {
    const text = doc(
      'apiVersion: nestctl/v1',
      'containers:',
      '  - name: box',
      '    runtime: lxc',
      '    config:',
      '      lxc.utsname: box',
      '      lxc.network.link: br0',
      '      lxc.network.1.ipv4: 10.0.0.2/24',
      '      lxc.id_map: u 0 100000 65536',
      '      lxc.rootfs: /srv/box',
      '      lxc.idmap: u 0 100000 65536',
      '      lxc.include: /etc/lxc/other.conf',
      '      lxc.pivotdir: x',
      '      LXC.Start: 1',
      '      lxc.uts.name: "two\\nlines"',
    );
    const found = errors(text);
    expect(found).toEqual([
      ['6:7', 'config key "lxc.utsname" in LXC container box is an LXC 1.0 name that LXC 3.0 and later refuse'],
      ['7:7', 'config key "lxc.network.link" in LXC container box is an LXC 1.0 name that LXC 3.0 and later refuse'],
      ['8:7', 'config key "lxc.network.1.ipv4" in LXC container box is an LXC 1.0 name that LXC 3.0 and later refuse'],
      ['9:7', 'config key "lxc.id_map" in LXC container box is an LXC 1.0 name that LXC 3.0 and later refuse'],
      ['10:7', 'config key "lxc.rootfs" in LXC container box is an LXC 1.0 name that LXC 3.0 and later refuse'],
      ['11:7', 'config key "lxc.idmap" in LXC container box is set by nestctl'],
      ['12:7', 'config key "lxc.include" in LXC container box is set by nestctl'],
      ['13:7', 'config key "lxc.pivotdir" in LXC container box no longer exists in LXC'],
      ['14:7', 'invalid LXC config key "LXC.Start" in LXC container box'],
      [
        '15:21',
        'config key "lxc.uts.name" in LXC container box has a value LXC cannot take: it spans several lines; LXC reads its config one key = value per line',
      ],
    ]);
    const r = loadManifest(text, 'm.yaml');
    const hints = r.ok ? [] : r.diagnostics.map((d) => d.hint);
    expect(hints.slice(0, 5)).toEqual(
      ['lxc.uts.name', 'lxc.net.0.link', 'lxc.net.1.ipv4', 'lxc.idmap', 'lxc.rootfs.path'].map(
        (k) => `write "${k}" instead (LXC 2.1 renamed it; see lxc-update-config)`,
      ),
    );
  });

  it("renames as LXC's lxc-update-config does", () => {
    expect(renamedLxcKey('lxc.network.type')).toBe('lxc.net.0.type');
    expect(renamedLxcKey('lxc.network')).toBe('lxc.net.0');
    expect(renamedLxcKey('lxc.network.2.hwaddr')).toBe('lxc.net.2.hwaddr');
    expect(renamedLxcKey('lxc.limit.nofile')).toBe('lxc.prlimit.nofile');
    expect(renamedLxcKey('lxc.aa_profile')).toBe('lxc.apparmor.profile');
    expect(renamedLxcKey('lxc.net.0.type')).toBeNull();
    expect(renamedLxcKey('lxc.networkx')).toBeNull();
  });

  it('refuses LXD keys on an LXC node and LXC keys on an LXD node, each at its key', () => {
    const found = errors(
      doc(
        'apiVersion: nestctl/v1',
        'defaults:',
        '  image: busybox',
        'containers:',
        '  - name: box',
        '    runtime: lxc',
        '    image: busybox',
        '    profiles: [default]',
        '    idmap: {isolated: true}',
        '    docker: true',
        '    setup: [["true"]]',
        '  - name: web',
        '    user: alice',
        '    bridge: br0',
      ),
    );
    expect(found).toEqual([
      ['7:5', '"image" is an LXD key, but LXC container box has runtime: lxc'],
      ['8:5', '"profiles" is an LXD key, but LXC container box has runtime: lxc'],
      ['9:5', '"idmap" is an LXD key, but LXC container box has runtime: lxc'],
      ['10:5', '"docker" is an LXD key, but LXC container box has runtime: lxc'],
      ['11:5', '"setup" is an LXD key, but LXC container box has runtime: lxc'],
      ['13:5', '"user" is a key of LXC containers, but container web is an LXD container'],
      ['14:5', '"bridge" is a key of LXC containers, but container web is an LXD container'],
    ]);
  });

  it('takes LXC containers inside an LXC container whose template can hold LXC, and refuses busybox (the default) there, saying which can', () => {
    const nested = (template: string | null): string =>
      doc(
        'apiVersion: nestctl/v1',
        'containers:',
        '  - name: box',
        '    runtime: lxc',
        ...(template ? [`    template: ${template}`] : []),
        '    containers:',
        '      - name: deep',
        '        runtime: lxc',
      );
    expect(loadManifest(nested('local'), 'm.yaml').ok).toBe(true);
    expect(loadManifest(nested('download'), 'm.yaml').ok).toBe(true);
    expect(errors(nested(null))).toEqual([
      ['5:5', 'LXC container box holds LXC containers, but a busybox container (the default template) has no LXC to run them'],
    ]);
    expect(errors(nested('busybox'))).toEqual([
      ['5:15', 'LXC container box holds LXC containers, but a busybox container has no LXC to run them'],
    ]);
    const r = loadManifest(nested(null), 'm.yaml');
    expect(r.ok ? [] : r.diagnostics.map((d) => d.hint)).toEqual([NESTING_TEMPLATES]);
  });

  it('refuses words that would be options or break a line, LXD children and users inside LXC', () => {
    const found = errors(
      doc(
        'apiVersion: nestctl/v1',
        'containers:',
        '  - name: box',
        '    runtime: lxc',
        '    user: Alice',
        '    template: -t',
        '    template_args: ["a\\nb"]',
        '    bridge: "br 0"',
        '    containers:',
        '      - name: web',
        '        image: busybox',
        '      - name: deep',
        '        runtime: lxc',
        '        user: bob',
        '      - name: box2',
        '        runtime: lxd',
        '  - name: box',
        '    runtime: lxc',
        '  - name: odd',
        '    runtime: docker',
      ),
    );
    expect(found).toEqual([
      ['5:11', 'invalid user "Alice" in LXC container box: "A" is not allowed'],
      ['6:15', 'invalid template "-t" in LXC container box'],
      ['7:21', 'template_args[0] of LXC container box contains a control character'],
      ['8:13', 'invalid bridge "br 0" in LXC container box'],
      ['10:9', 'LXC container box can hold only LXC containers, but box/web is not one'],
      ['14:9', 'LXC container box/deep is inside an LXC container and cannot be run by a user'],
      ['15:9', 'container box/box2 is missing the required key "image"'],
      ['16:18', 'LXC container box can hold only LXC containers, but box/box2 is not one'],
      ['17:11', 'duplicate container name "box" at the top level (first at line 3)'],
      ['19:5', 'container odd is missing the required key "image"'],
      ['20:14', '"runtime" in container odd must be one of lxd, lxc, not "docker"'],
    ]);
  });

  it('an LXD node still needs an image when defaults.image is absent; an LXC node does not', () => {
    expect(errors(doc('apiVersion: nestctl/v1', 'containers:', '  - name: web', '    runtime: lxd'))).toEqual([
      ['3:5', 'container web is missing the required key "image"'],
    ]);
    expect(checkManifest(doc('apiVersion: nestctl/v1', 'containers:', '  - name: box', '    runtime: lxc'), 'm.yaml').ok).toBe(true);
  });
});
