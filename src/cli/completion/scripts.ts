// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are shell script text, whose ${…} is the shell's
// The completion scripts for bash, zsh and fish, written from a CompletionSpec (spec.ts). Node
// paths for --target and --replace come from `nestctl __complete-paths FILE` at completion time;
// its output is only ever compared and added as words, never evaluated by the shell.

import { type CommandSpec, type CompletionSpec, type OptionSpec, optionWords, type ValueKind } from './spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Words spliced into a script unquoted: the program's own names and flags, checked so. */
function word(w: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(w)) throw new Error(`completion: "${w}" is not a plain word`);
  return w;
}
const words = (ws: readonly string[]): string => ws.map(word).join(' ');

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
/** A POSIX single-quoted string (bash, zsh). */
const sq = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** Options that take a value, each spelling: the word after them is not an argument. */
const valued = (options: readonly OptionSpec[]): string[] => options.filter((o) => o.value !== null).flatMap(optionWords);
const allWords = (options: readonly OptionSpec[]): string[] => options.flatMap(optionWords);

// ---------------------------------------------------------------------------------------------
// bash

function bashValue(value: ValueKind): string {
  switch (value.kind) {
    case 'paths':
      return '_nestctl_paths "$file"';
    case 'files':
      return 'compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur")';
    case 'words':
      return `mapfile -t COMPREPLY < <(compgen -W ${sq(words(value.words))} -- "$cur")`;
    case 'free':
      return ':';
  }
}

function bashCommand(cmd: CommandSpec): string[] {
  const byValue = cmd.options.filter((o) => o.value !== null);
  const positional = cmd.args.map((a, i) => `        ${a.variadic ? '*' : i}) ${bashValue(a.value)} ;;`);
  return [
    `    ${word(cmd.name)})`,
    `      valued=${sq(` ${words(valued(cmd.options))} `)}`,
    '      _nestctl_scan',
    '      case "$prev" in',
    ...byValue.map((o) => `        ${optionWords(o).map(word).join('|')}) ${bashValue(o.value!)}; return 0 ;;`),
    '      esac',
    '      if [[ "$cur" == -* ]]; then',
    `        mapfile -t COMPREPLY < <(compgen -W ${sq(words(allWords(cmd.options)))} -- "$cur")`,
    '        return 0',
    '      fi',
    '      case "$n" in',
    ...positional,
    '      esac',
    '      ;;',
  ];
}

export function bashScript(spec: CompletionSpec): string {
  const top = [...allWords(spec.options), ...spec.commands.map((c) => c.name)];
  return `${[
    `# bash completion for ${word(spec.program)}, written by \`${spec.program} completion bash\` from its own command definitions.`,
    `# Load it in ~/.bashrc: source <(${spec.program} completion bash)`,
    '',
    '# The node paths of manifest $1 that start with the word being completed (nothing when it is not a valid manifest).',
    '_nestctl_paths() {',
    '  local p',
    '  [[ -n "$1" ]] || return 0',
    '  while IFS= read -r p; do',
    '    [[ "$p" == "$cur"* ]] && COMPREPLY+=("$p")',
    `  done < <(${word(spec.program)} __complete-paths "$1" 2>/dev/null)`,
    '}',
    '',
    "# The command's arguments, options and their values left out: file is the first (the manifest),",
    '# wherever it stands; n is how many come before the cursor.',
    '_nestctl_scan() {',
    '  local i w',
    '  file="" n=0',
    '  for ((i = at + 1; i < ${#COMP_WORDS[@]}; i++)); do',
    '    w="${COMP_WORDS[i]}"',
    '    if ((i == COMP_CWORD)); then continue; fi',
    '    if [[ "$w" == -* ]]; then',
    '      if [[ "$valued" == *" $w "* ]]; then',
    '        ((i++))',
    '        [[ "${COMP_WORDS[i]}" == "=" ]] && ((i++))',
    '      fi',
    '      continue',
    '    fi',
    '    [[ -z "$file" ]] && file="$w"',
    '    ((i < COMP_CWORD)) && ((n++))',
    '  done',
    '  return 0',
    '}',
    '',
    '_nestctl() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  local i at=0 cmd="" valued="" file="" n=0',
    '  COMPREPLY=()',
    '  # --target=c1: bash splits the = off as a word of its own.',
    '  if [[ "$cur" == "=" ]]; then cur=""; prev="${COMP_WORDS[COMP_CWORD-1]}"; fi',
    '  if [[ "$prev" == "=" ]] && ((COMP_CWORD > 1)); then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case "${COMP_WORDS[i]}" in',
    '      -*) ;;',
    '      *) cmd="${COMP_WORDS[i]}"; at=$i; break ;;',
    '    esac',
    '  done',
    '  case "$cmd" in',
    '    "")',
    `      mapfile -t COMPREPLY < <(compgen -W ${sq(words(top))} -- "$cur")`,
    '      ;;',
    ...spec.commands.flatMap(bashCommand),
    '  esac',
    '  return 0',
    '}',
    '',
    `complete -F _nestctl ${word(spec.program)}`,
  ].join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// zsh

/** Text inside an _arguments `[…]` description or a _describe item: brackets and colons escaped. */
const zshDescription = (text: string): string => oneLine(text).replace(/[\\[\]:]/g, (ch) => `\\${ch}`);

function zshValue(value: ValueKind, what: string): string {
  switch (value.kind) {
    case 'paths':
      return `:node path:{_nestctl_paths "$valued"}`;
    case 'files':
      return `:${what}:_files`;
    case 'words':
      return `:${what}:(${words(value.words)})`;
    case 'free':
      return `:${what}: `;
  }
}

function zshOption(o: OptionSpec): string {
  const spellings = optionWords(o).map(word);
  const desc = `[${zshDescription(o.description)}]`;
  const value = o.value === null ? '' : zshValue(o.value, o.long?.replace(/^--/, '') ?? 'value');
  const eq = o.value === null ? '' : '=';
  // A value option may be given again (--replace is repeatable); a flag, once.
  if (spellings.length === 1) return `    ${sq(`${o.value === null ? '' : '*'}${spellings[0]}${eq}${desc}${value}`)}`;
  return `    ${sq(`(${spellings.join(' ')})`)}{${spellings.map((s) => `${s}${eq}`).join(',')}}${sq(`${desc}${value}`)}`;
}

function zshCommand(cmd: CommandSpec): string[] {
  const args = cmd.args.map((a, i) => `    ${sq(`${a.variadic ? '*' : i + 1}${zshValue(a.value, a.name)}`)}`);
  return [
    `_nestctl_${cmd.name.replace(/-/g, '_')}() {`,
    `  local valued=${sq(` ${words(valued(cmd.options))} `)}`,
    '  _arguments -s -S \\',
    ...[...cmd.options.map(zshOption), ...args].map((l, i, all) => (i < all.length - 1 ? `${l} \\` : l)),
    '}',
    '',
  ];
}

export function zshScript(spec: CompletionSpec): string {
  const items = spec.commands.map((c) => `    ${sq(`${word(c.name)}:${zshDescription(c.description)}`)}`);
  return `${[
    `#compdef ${word(spec.program)}`,
    `# zsh completion for ${spec.program}, written by \`${spec.program} completion zsh\` from its own command definitions.`,
    `# Load it in ~/.zshrc (after compinit): source <(${spec.program} completion zsh)`,
    `# or save it as _${spec.program} in a directory of $fpath.`,
    '',
    "# The command's first argument that is not an option or an option's value: the manifest.",
    '_nestctl_manifest() {',
    '  local valued=$1 i w',
    '  for ((i = 2; i <= $#words; i++)); do',
    '    ((i == CURRENT)) && continue',
    '    w=$words[i]',
    '    if [[ $w == -* ]]; then',
    '      [[ $w != *=* && $valued == *" $w "* ]] && ((i++))',
    '      continue',
    '    fi',
    '    print -r -- $w',
    '    return',
    '  done',
    '}',
    '',
    '# The node paths of that manifest (nothing when it is not a valid manifest).',
    '_nestctl_paths() {',
    '  local file=$(_nestctl_manifest $1)',
    '  [[ -n $file ]] || return 1',
    '  local -a paths',
    `  paths=(\${(f)"$(${word(spec.program)} __complete-paths "$file" 2>/dev/null)"})`,
    '  compadd -a paths',
    '}',
    '',
    ...spec.commands.flatMap(zshCommand),
    '_nestctl() {',
    '  local curcontext="$curcontext" state line',
    '  typeset -A opt_args',
    '  _arguments -C \\',
    ...spec.options.map((o) => `${zshOption(o)} \\`),
    "    '1: :->command' \\",
    "    '*:: :->args'",
    '  case $state in',
    '    command)',
    '      local -a commands',
    '      commands=(',
    ...items.map((i) => `  ${i}`),
    '      )',
    "      _describe -t commands 'nestctl command' commands",
    '      ;;',
    '    args)',
    '      case $words[1] in',
    ...spec.commands.map((c) => `        ${word(c.name)}) _nestctl_${c.name.replace(/-/g, '_')} ;;`),
    '      esac',
    '      ;;',
    '  esac',
    '}',
    '',
    'if [[ $zsh_eval_context[-1] == loadautofunc ]]; then',
    '  _nestctl "$@"',
    'else',
    `  compdef _nestctl ${word(spec.program)}`,
    'fi',
  ].join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// fish

/** A fish single-quoted string: only \\ and ' are special in it. */
const fq = (text: string): string => `'${oneLine(text).replace(/[\\']/g, (ch) => `\\${ch}`)}'`;

function fishOption(condition: string, o: OptionSpec, valuedWords: string): string {
  const parts = [`complete -c nestctl -n ${fq(condition)}`];
  if (o.long) parts.push(`-l ${word(o.long.replace(/^--/, ''))}`);
  if (o.short) parts.push(`-s ${word(o.short.replace(/^-/, ''))}`);
  if (o.value?.kind === 'files') parts.push('-r -F');
  else if (o.value?.kind === 'words') parts.push(`-x -a ${fq(words(o.value.words))}`);
  else if (o.value?.kind === 'paths') parts.push(`-x -a ${fq(`(__nestctl_paths ${valuedWords})`)}`);
  else if (o.value?.kind === 'free') parts.push('-x');
  parts.push(`-d ${fq(o.description)}`);
  return parts.join(' ');
}

function fishArgs(condition: string, cmd: CommandSpec): string[] {
  // fish completes positionals by command, not by place: files if any argument takes files, else the words.
  const values = cmd.args.map((a) => a.value);
  if (values.some((v) => v.kind === 'files')) return [`complete -c nestctl -n ${fq(condition)} -F`];
  return values.flatMap((v) => (v.kind === 'words' ? [`complete -c nestctl -n ${fq(condition)} -a ${fq(words(v.words))}`] : []));
}

export function fishScript(spec: CompletionSpec): string {
  const subcommands = words(spec.commands.map((c) => c.name));
  const lines = [
    `# fish completion for ${spec.program}, written by \`${spec.program} completion fish\` from its own command definitions.`,
    `# Load it: ${spec.program} completion fish | source, or save it as ~/.config/fish/completions/${spec.program}.fish`,
    '',
    "# The command's first argument that is not an option or an option's value (the manifest); $argv: the options that take one.",
    'function __nestctl_manifest',
    '    set -l skip 0',
    '    set -l seen 0',
    '    for t in (commandline -op)[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $t',
    "            case '-*'",
    '                if contains -- $t $argv',
    '                    set skip 1',
    '                end',
    "            case '*'",
    '                if test $seen = 0',
    '                    set seen 1',
    '                    continue',
    '                end',
    '                printf "%s\\n" $t',
    '                return',
    '        end',
    '    end',
    'end',
    '',
    '# The node paths of that manifest (nothing when it is not a valid manifest).',
    'function __nestctl_paths',
    '    set -l file (__nestctl_manifest $argv)',
    '    test -n "$file"; or return',
    `    ${word(spec.program)} __complete-paths $file 2>/dev/null`,
    'end',
    '',
    'complete -c nestctl -f',
    ...spec.options.map((o) => fishOption('__fish_use_subcommand', o, '')),
    ...spec.commands.map(
      (c) => `complete -c nestctl -n ${fq(`not __fish_seen_subcommand_from ${subcommands}`)} -a ${word(c.name)} -d ${fq(c.description)}`,
    ),
    ...spec.commands.flatMap((c) => {
      const condition = `__fish_seen_subcommand_from ${word(c.name)}`;
      const valuedWords = words(valued(c.options));
      return ['', ...c.options.map((o) => fishOption(condition, o, valuedWords)), ...fishArgs(condition, c)];
    }),
  ];
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  switch (shell) {
    case 'bash':
      return bashScript(spec);
    case 'zsh':
      return zshScript(spec);
    case 'fish':
      return fishScript(spec);
  }
}
