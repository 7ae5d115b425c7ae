// LXD instance names, which LXD also uses as hostnames: 1–63 ASCII letters, digits and "-", starting with a letter and
// not ending with "-". The schema carries the same rule as a pattern for editors.

export const NAME_RULE = 'container names are 1-63 ASCII letters, digits and "-", start with a letter and do not end with "-"';

/** Why name is not a valid LXD instance name, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > 63) return `it is ${name.length} characters long (at most 63)`;
  if (!/^[A-Za-z]/.test(name)) return 'it must start with a letter';
  const bad = /[^A-Za-z0-9-]/.exec(name);
  if (bad) return `${JSON.stringify(bad[0])} is not allowed`;
  if (name.endsWith('-')) return 'it must not end with "-"';
  return null;
}
