// Every human-readable line nestctl prints goes out through here, past render/visible.ts's last
// guard: text from containers cannot reach the terminal as escape sequences even where a renderer
// forgot to clean it. Machine output (--json) is written as it is.

import type { Colours } from '../render/colour.js';
import { terminalText } from '../render/visible.js';

/** Human text on stdout. */
export const printOut = (text: string, c: Colours): boolean => process.stdout.write(terminalText(text, c.on));

/** Human text on stderr. */
export const printErr = (text: string, c: Colours): boolean => process.stderr.write(terminalText(text, c.on));
