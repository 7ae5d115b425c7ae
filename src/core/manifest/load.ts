// Manifest text → validated Manifest, or every problem found, each at file:line:col.
// Pure: the caller reads the file and prints the diagnostics.

import { visit } from 'yaml';
import { type Diagnostic, sourceAt } from '../diagnostics.js';
import type { SourcePos } from './model.js';
import { buildManifest, type RawManifest } from './build.js';
import { semanticFindings } from './checks.js';
import { structureFindings, textFindings } from './hostile.js';
import type { Manifest } from './model.js';
import { schemaFindings } from './schema-check.js';
import { duplicateKeys, parseSource, posAt, type Source, yamlFindings } from './source.js';

export type LoadResult = { ok: true; manifest: Manifest; warnings: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

export function loadManifest(text: string, file: string): LoadResult {
  const refused = textFindings(text, file);
  if (refused.length > 0) return { ok: false, diagnostics: refused };
  const src = parseSource(text, file);
  const { data, findings } = check(src);
  const diagnostics = sorted(findings);
  if (data === undefined || diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };
  // No errors: the data matched the schema.
  return { ok: true, manifest: buildManifest(data as RawManifest, file, src), warnings: diagnostics };
}

function check(src: Source): { data?: unknown; findings: Diagnostic[] } {
  const syntax = yamlFindings(src);
  // After a syntax error the data is yaml's best guess; checking it would mostly report noise.
  if (syntax.some((f) => f.severity === 'error')) return { findings: syntax };
  const structure = structureFindings(src);
  if (structure.length > 0) return { findings: [...syntax, ...structure] };
  let data: unknown;
  try {
    data = src.doc.toJS();
  } catch (e) {
    // yaml's toJS refuses alias bombs ("billion laughs") here: its maxAliasCount (default 100)
    // bounds how many nodes aliases may expand to.
    const message = e instanceof Error ? e.message : String(e);
    const pos = firstAlias(src) ?? { line: 1, col: 1 };
    return {
      findings: [
        ...syntax,
        {
          severity: 'error',
          fault: 'user',
          where: sourceAt(src.file, pos),
          message: `YAML: ${message}`,
          hint: 'aliases here expand to too much data; write the values out, or use fewer aliases',
        },
      ],
    };
  }
  return { data, findings: [...syntax, ...duplicateKeys(src), ...schemaFindings(data, src), ...semanticFindings(data, src)] };
}

function firstAlias(src: Source): SourcePos | null {
  let offset: number | null = null;
  visit(src.doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? null;
      return visit.BREAK;
    },
  });
  return offset === null ? null : posAt(src, offset);
}

// Every manifest check places what it finds; the order is the file's.
const lineCol = (d: Diagnostic): [number, number] => (d.where.kind === 'source' ? [d.where.line, d.where.column] : [0, 0]);

function sorted(findings: Diagnostic[]): Diagnostic[] {
  return [...findings].sort((a, b) => lineCol(a)[0] - lineCol(b)[0] || lineCol(a)[1] - lineCol(b)[1]);
}
