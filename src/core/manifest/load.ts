// Manifest text → validated Manifest, or every problem found, each at file:line:col.
// Pure: the caller reads the file and prints the diagnostics.

import { visit } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { buildManifest, type RawManifest } from './build.js';
import { semanticFindings } from './checks.js';
import { structureFindings, textFindings } from './hostile.js';
import type { Manifest } from './model.js';
import { schemaFindings } from './schema-check.js';
import { duplicateKeys, type Finding, parseSource, posAt, type Source, yamlFindings } from './source.js';

export type LoadResult =
  | { ok: true; manifest: Manifest; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

export function loadManifest(text: string, file: string): LoadResult {
  const refused = textFindings(text);
  if (refused.length > 0) return { ok: false, diagnostics: refused.map((f) => toDiagnostic(f, file)) };
  const src = parseSource(text);
  const { data, findings } = check(src);
  const diagnostics = sorted(findings).map((f) => toDiagnostic(f, file));
  if (data === undefined || diagnostics.some((d) => d.severity === 'error')) return { ok: false, diagnostics };
  // No errors: the data matched the schema.
  return { ok: true, manifest: buildManifest(data as RawManifest, file, src), warnings: diagnostics };
}

function check(src: Source): { data?: unknown; findings: Finding[] } {
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
    return { findings: [...syntax, { severity: 'error', pos, message: `YAML: ${message}`, hint: 'aliases here expand to too much data; write the values out, or use fewer aliases' }] };
  }
  return { data, findings: [...syntax, ...duplicateKeys(src), ...schemaFindings(data, src), ...semanticFindings(data, src)] };
}

function firstAlias(src: Source): Finding['pos'] | null {
  let offset: number | null = null;
  visit(src.doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? null;
      return visit.BREAK;
    },
  });
  return offset === null ? null : posAt(src, offset);
}

function sorted(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
}

function toDiagnostic(f: Finding, file: string): Diagnostic {
  return {
    severity: f.severity,
    file,
    line: f.pos.line,
    column: f.pos.col,
    message: f.message,
    ...(f.hint ? { hint: f.hint } : {}),
  };
}
