// /etc/lxc/lxc-usernet: "USER TYPE LINK COUNT" lines (lxc-user-nic(1)); lxc-user-nic lets USER
// attach COUNT veth devices to LINK. Like the subid editor (core/subid/file.ts): a minimal edit
// of one user's line for one link, every other line kept byte for byte.

export interface UsernetLine {
  user: string;
  type: string;
  link: string;
  count: number;
  /** Index of the line in the file. */
  line: number;
}

/** The lines lxc-user-nic reads: a comment starts at "#", fields are blank-separated. */
export function parseUsernet(text: string): UsernetLine[] {
  const found: UsernetLine[] = [];
  text.split('\n').forEach((raw, line) => {
    const fields = raw.split('#')[0]!.trim().split(/\s+/);
    if (fields.length !== 4) return;
    const [user, type, link, count] = fields as [string, string, string, string];
    if (!/^\d+$/.test(count)) return;
    found.push({ user, type, link, count: Number(count), line });
  });
  return found;
}

/** The user's veth line for `link`, if any. */
export function usernetEntry(text: string | null, user: string, link: string): UsernetLine | null {
  return parseUsernet(text ?? '').find((l) => l.user === user && l.type === 'veth' && l.link === link) ?? null;
}

/**
 * The text with `USER veth LINK COUNT` (COUNT at least `count`): the user's line for the link
 * is replaced in place when it allows fewer, or appended; other lines are untouched.
 */
export function withUsernet(text: string | null, user: string, link: string, count: number): string {
  const source = text ?? '';
  const had = usernetEntry(source, user, link);
  if (had && had.count >= count) return source;
  const wanted = `${user} veth ${link} ${count}`;
  const lines = source.length === 0 ? [] : source.split('\n');
  if (source.endsWith('\n')) lines.pop();
  if (had) lines[had.line] = wanted;
  else lines.push(wanted);
  return `${lines.join('\n')}\n`;
}
