// ANSI colours, off when NO_COLOR is set, --no-color is given, or the output is not a terminal.

export interface Colours {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export function colours(enabled: boolean): Colours {
  if (!enabled) {
    const id = (s: string): string => s;
    return { green: id, red: id, yellow: id, cyan: id, bold: id, dim: id };
  }
  return { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), cyan: wrap(36, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

export function colourWanted(stream: NodeJS.WriteStream, flag: boolean): boolean {
  return flag && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && Boolean(stream.isTTY);
}
