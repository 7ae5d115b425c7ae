// ANSI colours, off when NO_COLOR is set, --no-color is given, or the output is not a terminal.

export interface Colours {
  /** Whether these write escape sequences at all. */
  readonly on: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

type Style = Exclude<keyof Colours, 'on'>;

/** SGR parameters that open and close each style (ECMA-48: 39 default colour, 22 normal intensity). */
const STYLES: Record<Style, readonly [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  bold: [1, 22],
  dim: [2, 22],
};

const sgr = (n: number): string => `\u001b[${n}m`;

/** The only escape sequences nestctl itself writes to a terminal (render/visible.ts keeps these and no other). */
export const OWN_SEQUENCES: ReadonlySet<string> = new Set(Object.values(STYLES).flatMap(([open, close]) => [sgr(open), sgr(close)]));

export function colours(enabled: boolean): Colours {
  const style = (name: Style) => {
    const [open, close] = STYLES[name];
    return enabled ? (s: string) => `${sgr(open)}${s}${sgr(close)}` : (s: string) => s;
  };
  return {
    on: enabled,
    green: style('green'),
    red: style('red'),
    yellow: style('yellow'),
    cyan: style('cyan'),
    bold: style('bold'),
    dim: style('dim'),
  };
}

export function colourWanted(stream: NodeJS.WriteStream, flag: boolean): boolean {
  return flag && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && Boolean(stream.isTTY);
}
