// A running command's output as lines: chunks of stdout and stderr cut into lines as they
// complete, each made safe to draw and bounded in length, the last few kept for the failure
// report. Memory stays bounded whatever the command prints: one partial line a stream (at most
// LINE_MAX_CHARS) and a ring of TAIL_LINES lines.

import type { OutputStream } from '../ports/exec.js';

export interface OutputLine {
  stream: OutputStream;
  text: string;
}

/** A longer line is cut here and ends with "…"; the rest of it is dropped. */
export const LINE_MAX_CHARS = 1000;
/** How many of the last lines a failed command's report shows. */
export const TAIL_LINES = 20;

// Terminal control sequences and control characters: a command's output must not move the
// cursor, clear the screen or recolour the progress view it is drawn in.
const CSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

function clean(raw: string, cut: boolean): string {
  // A progress bar redraws its line with \r: the last redraw is what a terminal would show.
  const shown = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const text = shown
    .slice(shown.lastIndexOf('\r') + 1)
    .replace(CSI, '')
    .replace(CONTROL, '');
  return cut ? `${text}…` : text;
}

export class OutputLines {
  private readonly partial: Record<OutputStream, { text: string; cut: boolean }> = {
    stdout: { text: '', cut: false },
    stderr: { text: '', cut: false },
  };
  private ring: OutputLine[] = [];

  /** `onLines`: the lines each chunk completed (never called with none). */
  constructor(private readonly onLines: (lines: OutputLine[]) => void = () => undefined) {}

  push(stream: OutputStream, chunk: string): void {
    if (chunk === '') return;
    const pieces = chunk.split('\n');
    const done: OutputLine[] = [];
    const part = this.partial[stream];
    for (let i = 0; i < pieces.length; i += 1) {
      const piece = pieces[i]!;
      if (!part.cut) {
        const room = LINE_MAX_CHARS - part.text.length;
        if (piece.length > room) {
          part.text += piece.slice(0, room);
          part.cut = true;
        } else part.text += piece;
      }
      if (i < pieces.length - 1) {
        done.push({ stream, text: clean(part.text, part.cut) });
        part.text = '';
        part.cut = false;
      }
    }
    this.emit(done);
  }

  /** The command ended: an unterminated last line counts as a line. */
  end(): void {
    const done: OutputLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const part = this.partial[stream];
      if (part.text !== '' || part.cut) done.push({ stream, text: clean(part.text, part.cut) });
      this.partial[stream] = { text: '', cut: false };
    }
    this.emit(done);
  }

  /** The last TAIL_LINES lines, stdout and stderr in the order they came. */
  tail(): string[] {
    return this.ring.slice(-TAIL_LINES).map((l) => l.text);
  }

  private emit(lines: OutputLine[]): void {
    if (lines.length === 0) return;
    this.ring.push(...lines.slice(-TAIL_LINES));
    if (this.ring.length > 2 * TAIL_LINES) this.ring = this.ring.slice(-TAIL_LINES);
    this.onLines(lines);
  }
}
