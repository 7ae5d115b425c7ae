// An argv as one line for people to read (plans, failure reports). For display only: nestctl
// never runs a command line, every command it runs is an argv array.

/** Words a shell would take as they are stay bare; any other is quoted as a JSON string. */
export function argvText(argv: readonly string[]): string {
  return argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w))).join(' ');
}
