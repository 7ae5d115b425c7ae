// Limits that keep loading bounded whatever the file holds: its size, the characters in it, how
// deep it nests, which YAML features it uses. Each problem is a finding at file:line:col, so no
// input reaches the recursive stages (yaml's toJS, the schema, the checks) in a shape they
// cannot handle.

import { isAlias, isCollection, isMap, isScalar, type Node, visit } from 'yaml';
import { type Diagnostic, sourceAt } from '../diagnostics.js';
import type { SourcePos } from './model.js';
import { posAt, type Source } from './source.js';

/** Far above any real manifest (a 32-level tree with config is a few KiB). */
export const MAX_BYTES = 1024 * 1024;

/** Mappings and lists inside each other; 32 container levels need about 70. */
export const MAX_NESTING = 160;

/** Tags that only say what plain YAML would infer anyway; !!str is how to force text. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'seq', 'map'].map((t) => `tag:yaml.org,2002:${t}`));

function textPos(text: string, offset: number): SourcePos {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, col: offset - lineStart + 1 };
}

const codePoint = (c: string): string => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Problems with the text itself, before it is parsed. */
export function textFindings(text: string, file: string): Diagnostic[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BYTES) {
    return [
      {
        severity: 'error',
        fault: 'user',
        where: sourceAt(file, { line: 1, col: 1 }),
        message: `the manifest is ${bytes} bytes, more than the ${MAX_BYTES} nestctl reads`,
        hint: 'a manifest describes containers, not data; check that this is the right file',
      },
    ];
  }
  const deep = bracketDepthOffset(text);
  if (deep !== null) {
    return [
      {
        severity: 'error',
        fault: 'user',
        where: sourceAt(file, textPos(text, deep)),
        message: `YAML: the manifest nests brackets more than ${MAX_NESTING} deep`,
        hint: 'containers can nest at most 32 levels; flatten the tree',
      },
    ];
  }
  // U+FFFD is what a reader puts where the file was not UTF-8; YAML allows tab, LF and CR only
  // among the C0 controls (YAML 1.2, production c-printable).
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.exec(text);
  if (!bad) return [];
  const c = bad[0];
  const message =
    c === '\ufffd'
      ? 'the manifest is not valid UTF-8 (or holds U+FFFD, the replacement character)'
      : `the manifest holds the control character ${codePoint(c)}${c === '\u0000' ? ' (NUL)' : ''}`;
  return [
    {
      severity: 'error',
      fault: 'user',
      where: sourceAt(file, textPos(text, bad.index)),
      message,
      hint: 'save the manifest as UTF-8 text; write control characters in values as escapes inside double quotes if LXD needs them',
    },
  ];
}

/**
 * Where "[" and "{" first stand open more than MAX_NESTING deep, counting every bracket (also
 * in quotes and comments, so it can only err towards refusing text that no manifest holds).
 * yaml parses flow collections recursively and would take seconds to fail on such text.
 */
function bracketDepthOffset(text: string): number | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > MAX_NESTING) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth -= 1;
  }
  return null;
}

/** How deep the document nests, walked without recursion so any depth is safe to measure. */
function nestingFinding(src: Source): Diagnostic | null {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: src.doc.contents, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth + 1 > MAX_NESTING) {
      return {
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, posAt(src, node.range?.[0] ?? 0)),
        message: `the manifest nests lists and mappings more than ${MAX_NESTING} levels deep`,
        hint: 'containers can nest at most 32 levels (the kernel limit on nested user namespaces); flatten the tree',
      };
    }
    for (const item of node.items) {
      if (isMap(node)) {
        const pair = item as { key: unknown; value: unknown };
        stack.push({ node: pair.key, depth: depth + 1 }, { node: pair.value, depth: depth + 1 });
      } else {
        stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
  return null;
}

/** Node features a manifest never needs: collection keys, tags that change types, cyclic aliases. */
function featureFindings(src: Source): Diagnostic[] {
  const found: Diagnostic[] = [];
  const at = (node: Node | null | undefined): SourcePos => posAt(src, node?.range?.[0] ?? 0);
  // The node each anchor name stands for at this point of the document (a later &x redefines
  // it), as the alias resolves it; looked up here instead of node.resolve(), which rescans the
  // document for every alias.
  const anchors = new Map<string, Node>();
  visit(src.doc, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, at(pair.key as Node)),
          message: 'a key is a list or mapping',
          hint: 'keys are plain words such as "name" or "limits.cpu"',
        });
      }
    },
    Node(_, node) {
      if (!isAlias(node) && node.anchor) anchors.set(node.anchor, node);
      if (isAlias(node) || node.tag === undefined || PLAIN_TAGS.has(node.tag)) return;
      found.push({
        severity: 'error',
        fault: 'user',
        where: sourceAt(src.file, at(node)),
        message: `YAML tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not used in manifests`,
        hint: 'remove the tag; quote a value to keep it as text',
      });
    },
    Alias(_, node, path) {
      const target = anchors.get(node.source);
      if (target && path.includes(target)) {
        found.push({
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, at(node)),
          message: `alias *${node.source} refers to the block that contains it`,
          hint: 'an alias must point to a block written elsewhere; a self-reference has no end',
        });
      }
    },
  });
  return found;
}

/** Structure problems after parsing; when any is found the data must not be built. */
export function structureFindings(src: Source): Diagnostic[] {
  const deep = nestingFinding(src);
  return deep ? [deep] : featureFindings(src);
}
