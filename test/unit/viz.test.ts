// viz: each level's range and its children's maps on an axis of host ids, free ids and overlaps
// flagged, the rules it used, and a standalone SVG form.

import { describe, expect, it } from 'vitest';
import { rangeLayout } from '../../src/core/ids/layout.js';
import type { LevelSummary, Plan } from '../../src/core/plan/model.js';
import { colours } from '../../src/render/colour.js';
import { renderViz } from '../../src/render/viz.js';
import { renderVizSvg } from '../../src/render/viz-svg.js';
import { nestctl } from './helpers/cli.js';

const HOSTILE = `t<script>alert("x")</script>&'`;

const summary = (path: string, over: Partial<LevelSummary> = {}): LevelSummary => ({
  path,
  flavour: 'debian',
  flavourFrom: 'observed',
  observed: true,
  entry: { start: 65536, size: 262144 },
  daemonRange: { start: 65536, size: 262144 },
  pinned: [],
  children: [],
  verdictNow: 'unprivileged-ok',
  ...over,
});

/** A host with ci, and in ci two isolated siblings whose slices share ids (65536 from 196608). */
const overlapping: Pick<Plan, 'levels'> = {
  levels: [
    summary('', {
      entry: { start: 1000000, size: 327680 },
      daemonRange: { start: 1000000, size: 327680 },
      children: [{ path: 'ci', map: { start: 1000000, size: 327680 }, isolated: false }],
    }),
    summary('ci', {
      children: [
        { path: 'ci/a', map: { start: 131072, size: 131072 }, isolated: true },
        { path: `ci/${HOSTILE}`, map: { start: 196608, size: 65536 }, isolated: true },
      ],
    }),
  ],
};

describe('rangeLayout', () => {
  it('finds the free ids, overlapping isolated siblings, and a slice the strict fit rule refuses', () => {
    const children = [
      { path: 'a', map: { start: 131072, size: 65536 }, isolated: true },
      { path: 'b', map: { start: 163840, size: 65536 }, isolated: true },
      { path: 'c', map: { start: 262144, size: 65536 }, isolated: true },
    ];
    const range = { start: 65536, size: 262144 };
    const strict = rangeLayout(range, children, 'strict');
    expect(strict.free).toEqual([
      { start: 65536, size: 65536 },
      { start: 229376, size: 32768 },
    ]);
    expect(strict.overlaps).toEqual([['a', 'b']]);
    expect(strict.misfit).toEqual(['c']);
    expect(strict.outside).toEqual([]);
    expect(rangeLayout(range, children, 'inclusive').misfit).toEqual([]);
  });

  it('does not count shared children, which all get the whole range, as overlapping', () => {
    const whole = { start: 65536, size: 131072 };
    const l = rangeLayout(
      whole,
      [
        { path: 'a', map: whole, isolated: false },
        { path: 'b', map: whole, isolated: false },
      ],
      'strict',
    );
    expect(l).toEqual({ free: [], overlaps: [], outside: [], misfit: [] });
  });
});

describe('renderViz (text)', () => {
  const out = renderViz(overlapping, colours(false));

  it('draws the ranges in host ids and flags the overlap on both siblings', () => {
    expect(out).toContain('Legend: ');
    expect(out).toContain('  host ids 1000000 ');
    expect(out).toMatch(/ {2}ci\/a {2,}1131072\.\.1262143 {2}131072 ids \(isolated\) {2}! OVERLAPS ci\/t<script>/);
    expect(out).toContain(`! OVERLAPS ci/a`);
  });

  it('says where the range comes from, which fit rule applies, and what is free', () => {
    expect(out).toContain("range from root's /etc/subuid and /etc/subgid entry 65536:262144 (in ci's own ids)");
    expect(out).toContain('fit rule, LXD: an isolated slice must end before the range does (offset + size < end)');
    expect(out).toContain('free: 1065536..1131071 (65536 ids), 1262144..1327679 (65536 ids)');
  });
});

/**
 * A small XML well-formedness check without regular expressions: tags nest and close, attribute
 * values are quoted, text and attribute values carry no raw `<` and only known entities.
 * Returns the elements as [name, attributes].
 */
function parseXml(xml: string): Array<[string, Record<string, string>]> {
  const elements: Array<[string, Record<string, string>]> = [];
  const stack: string[] = [];
  const checkText = (t: string): void => {
    if (t.includes('<')) throw new Error(`raw < in ${t}`);
    let at = t.indexOf('&');
    while (at >= 0) {
      const end = t.indexOf(';', at);
      if (!['&amp;', '&lt;', '&gt;', '&quot;', '&apos;'].includes(t.slice(at, end + 1))) throw new Error(`bad entity in ${t}`);
      at = t.indexOf('&', at + 1);
    }
  };
  let i = 0;
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const open = xml.indexOf('<', i);
    if (open < 0) {
      checkText(xml.slice(i));
      break;
    }
    checkText(xml.slice(i, open));
    let j = open + 1;
    let quote: string | null = null;
    while (j < xml.length && (quote !== null || xml[j] !== '>')) {
      if (quote === null && (xml[j] === '"' || xml[j] === "'")) quote = xml[j]!;
      else if (quote !== null && xml[j] === quote) quote = null;
      else if (xml[j] === '<') throw new Error(`raw < inside a tag at ${j}`);
      j += 1;
    }
    const tag = xml.slice(open + 1, j);
    i = j + 1;
    if (tag.startsWith('/')) {
      if (stack.pop() !== tag.slice(1)) throw new Error(`unbalanced </${tag.slice(1)}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const space = body.indexOf(' ');
    const name = space < 0 ? body : body.slice(0, space);
    const attrs: Record<string, string> = {};
    let rest = space < 0 ? '' : body.slice(space + 1).trim();
    while (rest !== '') {
      const eq = rest.indexOf('=');
      const q = rest[eq + 1];
      if (eq < 1 || (q !== '"' && q !== "'")) throw new Error(`unquoted attribute in <${name}>`);
      const close = rest.indexOf(q, eq + 2);
      const value = rest.slice(eq + 2, close);
      checkText(value);
      attrs[rest.slice(0, eq)] = value;
      rest = rest.slice(close + 1).trim();
    }
    elements.push([name, attrs]);
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed ${stack.join(', ')}`);
  return elements;
}

describe('renderVizSvg', () => {
  const svg = renderVizSvg(overlapping);

  it('is one well-formed, standalone SVG document', () => {
    const elements = parseXml(svg);
    expect(elements[0]![0]).toBe('svg');
    expect(elements[0]![1].xmlns).toBe('http://www.w3.org/2000/svg');
    expect(elements.filter(([n]) => n === 'svg')).toHaveLength(1);
    expect(elements.some(([n]) => n === 'script' || n === 'image' || n === 'use')).toBe(false);
  });

  it('draws one rect per child slice, the overlapping ones flagged', () => {
    const slices = parseXml(svg).filter(([n, a]) => n === 'rect' && (a.class ?? '').split(' ').includes('slice'));
    expect(slices).toHaveLength(3);
    expect(slices.filter(([, a]) => (a.class ?? '').split(' ').includes('flagged'))).toHaveLength(2);
  });

  it("escapes every text, a hostile container name's too", () => {
    expect(() => parseXml(svg)).not.toThrow();
    expect(svg).not.toContain('<script');
    expect(svg).toContain('t&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&apos;');
  });
});

describe('nestctl viz --format svg', () => {
  it('writes an SVG with one slice per container of the manifest', async () => {
    const r = await nestctl(['viz', '--simulate', '--format', 'svg', 'examples/isolated.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const slices = parseXml(r.stdout).filter(([n, a]) => n === 'rect' && (a.class ?? '').split(' ').includes('slice'));
    expect(slices).toHaveLength(4);
  });

  it('refuses a format it does not know, changing nothing', async () => {
    const r = await nestctl(['viz', '--simulate', '--format', 'png', 'examples/isolated.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("argument 'png' is invalid. Allowed choices are text, svg");
    expect(r.stdout).toBe('');
  });
});
