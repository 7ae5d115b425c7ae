// Every relative link in README.md and docs/**/*.md points at a file of the repository, and every
// `#anchor` at a heading of the file it names (GitHub's heading slugs). Links to other sites are
// not followed.

import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { anchors, links, markdownFiles, readDoc } from './helpers/docs.js';

const external = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe.each(markdownFiles())('links in %s', (file) => {
  const text = readDoc(file);

  it('point at files that exist, and at headings those files have', () => {
    const broken: string[] = [];
    for (const target of links(text).filter((t) => !external(t))) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const linked = path === '' ? file : normalize(join(dirname(file), decodeURI(path)));
      if (linked.startsWith('..')) broken.push(`${target}: outside the repository`);
      else if (!existsSync(join(ROOT, linked))) broken.push(`${target}: no file ${linked}`);
      else if (anchor && linked.endsWith('.md') && !anchors(readDoc(linked)).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${linked}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the link checker', () => {
  it('finds links outside code, and GitHub anchors of headings', () => {
    const md = ['# A `b` (c:)', '## A `b` (c:)', 'see [x](docs/x.md#a-b-c) and `[y](no.md)`', '```', '[z](no.md)', '```'].join('\n');
    expect(links(md)).toEqual(['docs/x.md#a-b-c']);
    expect([...anchors(md)]).toEqual(['a-b-c', 'a-b-c-1']);
  });
});
