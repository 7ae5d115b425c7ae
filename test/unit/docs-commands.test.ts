// docs/commands/ has one page per command: its index lists every page in the folder (and nothing
// else), and every command src/cli/main.ts declares has its page.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { readDoc } from './helpers/docs.js';

const pages = readdirSync(join(ROOT, 'docs/commands'))
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .sort();

/** The pages the index links to, between its commands:start and commands:end markers. */
const indexed = (): string[] => {
  const index = readDoc('docs/commands/README.md');
  const list = index.slice(index.indexOf('<!-- commands:start -->'), index.indexOf('<!-- commands:end -->'));
  return [...list.matchAll(/\]\(([^)#]+)\)/g)].map((m) => m[1]!);
};

describe('docs/commands', () => {
  it('its index lists every page of the folder, each once, in order', () => {
    expect(indexed()).toEqual(pages);
  });

  it('has a page for every command src/cli/main.ts declares', () => {
    const declared = [...readDoc('src/cli/main.ts').matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => `${m[1]}.md`);
    expect(declared.length).toBeGreaterThanOrEqual(7);
    expect(pages).toEqual(expect.arrayContaining(declared));
  });

  it("each page's title names its command", () => {
    for (const page of pages) expect(readDoc(`docs/commands/${page}`).split('\n')[0], page).toMatch(/^# `nestctl [a-z-]+/);
  });
});
