// docs/reference.md is what scripts/docs-reference.mjs makes of schemas/manifest.schema.json
// today (the script's --check regenerates it in memory), and names every key the schema has.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCommand } from './helpers/cli.js';
import { readDoc } from './helpers/docs.js';

type Schema = { properties?: Record<string, Schema>; definitions?: Record<string, Schema>; [k: string]: unknown };

/** Every (section, key) of the schema: the top level, its inline objects, and each definition. */
function keys(schema: Schema): { section: string; key: string }[] {
  const of = (section: string, s: Schema) => Object.keys(s.properties ?? {}).map((key) => ({ section, key }));
  const inline = Object.entries(schema.properties ?? {}).filter(([, p]) => p.properties);
  return [
    ...of('## Top level', schema),
    ...inline.flatMap(([k, p]) => of(`## \`${k}\``, p)),
    ...Object.entries(schema.definitions ?? {}).flatMap(([name, d]) => of(`### ${name}`, d)),
  ];
}

/** The text under a heading, up to the next heading. */
const under = (doc: string, heading: string): string => {
  const at = doc.indexOf(`\n${heading}\n`);
  if (at < 0) return '';
  const next = doc.slice(at + heading.length + 2).search(/^#{2,3} /m);
  return next < 0 ? doc.slice(at) : doc.slice(at, at + heading.length + 2 + next);
};

describe('docs/reference.md', () => {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas/manifest.schema.json'), 'utf8')) as Schema;
  const doc = readDoc('docs/reference.md');

  it('is up to date with the schema (npm run docs:reference rewrites it)', async () => {
    const r = await runCommand(['node', join(ROOT, 'scripts/docs-reference.mjs'), '--check']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('has a row for every property of the schema, in its own section', () => {
    const all = keys(schema);
    expect(all.length).toBeGreaterThan(50);
    const missing = all.filter(({ section, key }) => !under(doc, section).includes(`| \`${key}\` |`));
    expect(missing).toEqual([]);
  });

  it('has a section for every definition', () => {
    for (const name of Object.keys(schema.definitions ?? {})) expect(doc).toContain(`\n### ${name}\n`);
  });
});
