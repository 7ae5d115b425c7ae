// An LXC config file (lxc.container.conf(5)): "key = value" lines, "#" comments. nestctl reads
// the keys of a container's config and edits it minimally: a single-valued key is replaced where
// it first stands (later copies dropped) or appended; a list key (lxc.include, lxc.idmap) gets its
// line added when missing. Every other line stays as lxc-create wrote it.

export interface LxcConfigLine {
  key: string;
  value: string;
  line: number;
}

/** Keys LXC reads as lists: each line adds one more. */
const LIST_KEYS = new Set([
  'lxc.include',
  'lxc.idmap',
  'lxc.mount.entry',
  'lxc.cap.drop',
  'lxc.cap.keep',
  'lxc.environment',
  'lxc.hook.pre-start',
  'lxc.hook.start',
  'lxc.prlimit',
]);
export const isListKey = (key: string): boolean => LIST_KEYS.has(key);

export function parseLxcConfig(text: string): LxcConfigLine[] {
  const found: LxcConfigLine[] = [];
  text.split('\n').forEach((raw, line) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const eq = trimmed.indexOf('=');
    if (eq < 0) return;
    found.push({ key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim(), line });
  });
  return found;
}

/** The value of a single-valued key as LXC reads it (the last line wins), or null. */
export function lxcValue(text: string, key: string): string | null {
  const lines = parseLxcConfig(text).filter((l) => l.key === key);
  return lines.length === 0 ? null : lines[lines.length - 1]!.value;
}

/** Whether a list key has this exact value among its lines. */
export const hasListValue = (text: string, key: string, value: string): boolean =>
  parseLxcConfig(text).some((l) => l.key === key && l.value === value);

/** The keys of `wanted` whose value in `text` differs (list keys: whose line is missing). */
export function lxcConfigDrift(text: string, wanted: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  return wanted
    .filter(([key, value]) => (isListKey(key) ? !hasListValue(text, key, value) : lxcValue(text, key) !== value))
    .map(([k, v]) => [k, v]);
}

/** The text with every `wanted` key set as described above. */
export function setLxcConfig(text: string, wanted: ReadonlyArray<readonly [string, string]>): string {
  const lines = text.length === 0 ? [] : text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  const parsed = parseLxcConfig(text);
  const drop = new Set<number>();
  const append: string[] = [];
  for (const [key, value] of wanted) {
    const line = `${key} = ${value}`;
    if (isListKey(key)) {
      if (!parsed.some((l) => l.key === key && l.value === value)) append.push(line);
      continue;
    }
    const at = parsed.filter((l) => l.key === key);
    if (at.length === 0) {
      append.push(line);
      continue;
    }
    lines[at[0]!.line] = line;
    for (const later of at.slice(1)) drop.add(later.line);
  }
  const kept = lines.filter((_, i) => !drop.has(i));
  return `${[...kept, ...append].join('\n')}\n`;
}
