// What a new /etc/subuid or /etc/subgid must look like before it replaces the old one: a whole
// file (ends in a newline; not empty unless restoring or the file was empty), every line one
// LXD and shadow both read (owner:start:count, blank, or a comment; lxd/idmap getFromShadow
// fails on any other line), holding every planned line (core/subid/file.ts entryLines). The real adapter's script
// (adapters/lxd/write-subid-script.ts) applies the same rules with the same words.

/** Said with every refusal, by the real adapter and the simulator alike. */
export const REFUSED_HINT = 'nothing was changed; apply again, and report it if it repeats (nestctl planned a text it should not)';

const LINE = /^\s*(#.*)?$|^\s*[^:#\s]+:[0-9]+:[0-9]+\s*(#.*)?$/;

/** Why `text` must not replace `current` at `name`, or null when it may. */
export function refuseSubidText(
  name: string,
  current: string | null,
  text: string,
  entries: readonly string[],
  restoring: boolean,
): string | null {
  const refuse = (why: string): string => `refusing the new ${name}: ${why}`;
  if (text.length === 0) {
    if (!restoring && current) return refuse(`it is empty and ${name} is not`);
  } else {
    if (!text.endsWith('\n')) return refuse('it does not end in a newline (cut short?)');
    const bad = text
      .slice(0, -1)
      .split('\n')
      .findIndex((l) => !LINE.test(l));
    if (bad >= 0) return refuse(`line ${bad + 1} is neither owner:start:count nor a comment`);
  }
  const lines = text.split('\n');
  const missing = entries.find((e) => !lines.includes(e));
  if (missing !== undefined) return refuse(`it lacks the planned entry ${missing}`);
  return null;
}
