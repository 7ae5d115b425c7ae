#!/usr/bin/env node
// Writes docs/reference.md, the manifest reference, from schemas/manifest.schema.json (the single
// source: its titles and descriptions are what editors show). Run by `npm run docs:reference`.
// `--check` writes nothing and exits 1 when the committed file differs from what the schema gives.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SCHEMA = 'schemas/manifest.schema.json';
const OUT = 'docs/reference.md';

const anchor = (name) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9_ -]/g, '')
    .replace(/ /g, '-');
const code = (v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
/** A table cell: one line, pipes escaped. */
const cell = (s) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

const refName = (ref) => ref.replace('#/definitions/', '');
const definitionLink = (name) => `[${name}](#${anchor(name)})`;

/** What a value may be, in words: type, enum, const, items, map values. */
function typeOf(s) {
  if (s.$ref) return definitionLink(refName(s.$ref));
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return `one of ${s.enum.map(code).join(', ')}`;
  const types = [s.type ?? []].flat();
  if (types.includes('array') && s.items) return `list of ${typeOf(s.items)}`;
  if (types.includes('object') && s.additionalProperties && typeof s.additionalProperties === 'object') {
    return `map of ${typeOf(s.additionalProperties)}`;
  }
  if (s.oneOf || s.anyOf) return (s.oneOf ?? s.anyOf).map(typeOf).join(' or ');
  return types.join(' or ') || 'any';
}

/** The constraints a schema states, as short phrases. */
function constraints(s) {
  const out = [];
  if (s.pattern) out.push(`pattern ${code(s.pattern)}`);
  if (s.propertyNames?.pattern) out.push(`names match ${code(s.propertyNames.pattern)}`);
  for (const [k, word] of [
    ['minimum', 'at least'],
    ['maximum', 'at most'],
    ['minLength', 'at least N characters'],
    ['maxLength', 'at most N characters'],
    ['minItems', 'at least N items'],
    ['maxItems', 'at most N items'],
    ['minProperties', 'at least N entries'],
  ]) {
    if (s[k] !== undefined) out.push(word.includes('N') ? word.replace('N', String(s[k])) : `${word} ${s[k]}`);
  }
  if (s.uniqueItems) out.push('no duplicates');
  if (s.default !== undefined) out.push(`default ${code(s.default)}`);
  if (s.examples) out.push(`e.g. ${s.examples.map(code).join(', ')}`);
  return out;
}

const sentence = (t) => t.trim().replace(/\.?$/, '.');
const capital = (t) => t.charAt(0).toUpperCase() + t.slice(1);

/** A property's words: its own title and description, else the title of the definition it refers to. */
function describe(s, definitions) {
  const own = [s.title, s.description].filter(Boolean).map(sentence);
  const words = own.length || !s.$ref ? own : [definitions[refName(s.$ref)]?.title].filter(Boolean).map(sentence);
  const more = constraints(s);
  return cell([...words, more.length ? capital(`${more.join('; ')}.`) : ''].filter(Boolean).join(' '));
}

/** An `if` schema in words: `defaults.image` is set, `runtime` is `lxc`. */
function condition(ifs, prefix = '') {
  return (ifs.required ?? [])
    .map((key) => {
      const p = ifs.properties?.[key];
      if (p?.const !== undefined) return `\`${prefix}${key}\` is ${code(p.const)}`;
      if (p?.required) return condition(p, `${prefix}${key}.`);
      return `\`${prefix}${key}\` is set`;
    })
    .join(' and ');
}

function propertyTable(s, definitions) {
  const required = new Set(s.required ?? []);
  const when = s.if ? condition(s.if) : '';
  const rows = Object.entries(s.properties).map(([key, p]) => {
    const [then, otherwise] = [s.then?.properties?.[key], s.else?.properties?.[key]];
    const value = then && otherwise ? `when ${when}: ${typeOf(then)}; otherwise ${typeOf(otherwise)}` : typeOf(p);
    const needed = required.has(key)
      ? 'yes'
      : s.else?.required?.includes(key)
        ? `unless ${when}`
        : s.then?.required?.includes(key)
          ? `when ${when}`
          : '';
    return `| \`${key}\` | ${cell(value)} | ${needed} | ${describe(p, definitions)} |`;
  });
  return ['| key | value | required | description |', '|---|---|---|---|', ...rows].join('\n');
}

function section(title, s, definitions, level = '##') {
  const parts = [`${level} ${title}`, ''];
  const words = [s.title, s.description].filter(Boolean).map(sentence);
  if (words.length) parts.push(words.join(' '), '');
  if (s.properties) {
    parts.push(propertyTable(s, definitions), '');
    const more = constraints(s);
    if (more.length) parts.push(capital(`${more.join('; ')}.`), '');
  } else {
    parts.push(`Value: ${typeOf(s)}.${constraints(s).length ? ` ${capital(constraints(s).join('; '))}.` : ''}`, '');
  }
  return parts.join('\n');
}

/** The reference text for a schema (pure: the test calls it on the schema in memory). */
export function renderReference(schema) {
  const inline = Object.entries(schema.properties).filter(([, p]) => p.properties);
  const parts = [
    '# Manifest reference',
    '',
    `Every key of a manifest, generated from [\`${SCHEMA}\`](../${SCHEMA}) by \`npm run docs:reference\`:`,
    'do not edit this file, edit the schema and run that command (a unit test fails when this file is',
    'stale). What the keys do together, with examples: [the manifest guide](manifest.md).',
    '',
    section('Top level', schema, schema.definitions),
    ...inline.map(([key, p]) => section(`\`${key}\``, p, schema.definitions)),
    '## Definitions',
    '',
    'The shared shapes the keys above refer to, in the order the schema defines them.',
    '',
    ...Object.entries(schema.definitions).map(([name, d]) => section(name, d, schema.definitions, '###')),
  ];
  return `${parts.join('\n').trimEnd()}\n`;
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) {
  const text = renderReference(JSON.parse(readFileSync(resolve(ROOT, SCHEMA), 'utf8')));
  const out = resolve(ROOT, OUT);
  if (process.argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(out, 'utf8');
    } catch {}
    if (committed !== text) {
      console.error(`${OUT} is stale: run npm run docs:reference`);
      process.exit(1);
    }
  } else {
    writeFileSync(out, text);
    console.log(`wrote ${OUT}`);
  }
}
