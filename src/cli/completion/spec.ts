// What shell completion knows, read from the commander program itself (the commands, their
// options and arguments as main.ts declares them), so no second list can fall behind it.

import { type Argument, type Command, Help, type Option } from 'commander';

/** What to offer for a value: node paths of the manifest on the line, file names, fixed words, or nothing. */
export type ValueKind = { kind: 'paths' } | { kind: 'files' } | { kind: 'words'; words: string[] } | { kind: 'free' };

export interface OptionSpec {
  /** `--target`; absent for a short-only option. */
  long?: string;
  /** `-v`. */
  short?: string;
  description: string;
  /** null: a flag that takes no value. */
  value: ValueKind | null;
}

export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** Its positional arguments, in order; the last may be variadic. */
  args: Array<{ name: string; value: ValueKind; variadic: boolean }>;
}

export interface CompletionSpec {
  program: string;
  options: OptionSpec[];
  commands: CommandSpec[];
}

/**
 * An option's value, by the name main.ts gives it: `<path>` is a node of the manifest (--target,
 * --replace), a file-like name a file, choices their words; anything else is free text.
 */
function optionValue(option: Option): ValueKind | null {
  if (!option.required && !option.optional) return null;
  if (option.argChoices) return { kind: 'words', words: [...option.argChoices] };
  const name = /<([^>]+)>|\[([^\]]+)\]/.exec(option.flags);
  const word = (name?.[1] ?? name?.[2] ?? '').replace(/\.\.\.$/, '');
  if (word === 'path') return { kind: 'paths' };
  if (word === 'file' || /\.(json|ya?ml)$/.test(word)) return { kind: 'files' };
  return { kind: 'free' };
}

function argumentValue(arg: Argument, program: Command): ValueKind {
  if (arg.argChoices) return { kind: 'words', words: [...arg.argChoices] };
  if (arg.name() === 'command') return { kind: 'words', words: new Help().visibleCommands(program).map((c) => c.name()) };
  return { kind: 'files' };
}

function optionSpec(option: Option): OptionSpec {
  return {
    ...(option.long ? { long: option.long } : {}),
    ...(option.short ? { short: option.short } : {}),
    description: option.description,
    value: optionValue(option),
  };
}

/** The commands help shows (hidden ones left out) with the options help lists for each, --help included. */
export function completionSpec(program: Command): CompletionSpec {
  const help = new Help();
  return {
    program: program.name(),
    options: help.visibleOptions(program).map(optionSpec),
    commands: help.visibleCommands(program).map((cmd) => ({
      name: cmd.name(),
      description: cmd.description(),
      options: help.visibleOptions(cmd).map(optionSpec),
      args: cmd.registeredArguments.map((a) => ({ name: a.name(), value: argumentValue(a, program), variadic: a.variadic })),
    })),
  };
}

/** Every spelling of an option: `--target`, `-v`. */
export const optionWords = (o: OptionSpec): string[] => [o.long, o.short].filter((w): w is string => w !== undefined);
