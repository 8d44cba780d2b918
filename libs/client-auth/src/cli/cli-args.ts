import { parseArgs } from 'node:util';
import { CliUsageError, type CliIo } from './cli-io.js';

/** One option of a command, as `--help` shows it and `node:util` `parseArgs` parses it. */
export interface CliOptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** May be given more than once (values collected in order). */
  readonly multiple?: boolean;
  /** Placeholder shown in help (`<url>`). */
  readonly value?: string;
  readonly description: string;
}

/** A command's interface: what `--help` prints and what the parser accepts. */
export interface CliCommandSpec {
  /** `keys generate`, `explain`, … */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis after the command name. */
  readonly synopsis: string;
  /** Paragraphs printed after the synopsis. */
  readonly description?: readonly string[];
  readonly options: Readonly<Record<string, CliOptionSpec>>;
  readonly examples?: readonly string[];
}

/** A command of the tool: its interface and what it does. */
export interface CliCommand {
  readonly spec: CliCommandSpec;
  /** Runs the command with parsed options; resolves the exit code. */
  execute(options: ParsedOptions, io: CliIo): Promise<number>;
}

const HELP_OPTION: CliOptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** The program name shown in help and errors. */
export const PROGRAM = 'nestjs-client-auth';

/** Breaks a paragraph into lines of at most `width` characters (at spaces). */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

/** Renders a command's `--help`. */
export function helpText(spec: CliCommandSpec): string {
  const lines = [`Usage: ${PROGRAM} ${spec.name} ${spec.synopsis}`.trimEnd(), '', spec.summary];
  for (const paragraph of spec.description ?? []) lines.push('', wrap(paragraph, 90));
  const entries = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.value ? ` ${option.value}` : ''}`;
    return [flag, option.description + (option.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.min(34, Math.max(...entries.map(([flag]) => flag.length)) + 2);
  lines.push('', 'Options:');
  for (const [flag, description] of entries) {
    lines.push(
      flag.length + 2 > width
        ? `  ${flag}\n  ${' '.repeat(width)}${description}`
        : `  ${flag.padEnd(width)}${description}`,
    );
  }
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const example of spec.examples) lines.push(`  ${example}`);
  }
  return lines.join('\n') + '\n';
}

/** Parsed options of one command, with typed accessors that raise {@link CliUsageError}. */
export class ParsedOptions {
  constructor(
    private readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>,
  ) {}

  /** Whether a boolean option was given. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** Whether any value was given for the option. */
  has(name: string): boolean {
    const value = this.values[name];
    return value !== undefined && !(Array.isArray(value) && value.length === 0);
  }

  /** A single string option, or undefined. An empty value is refused. */
  string(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new CliUsageError(`--${name} takes a single value`);
    if (value.trim() === '') throw new CliUsageError(`--${name} must not be empty`);
    return value;
  }

  /** Every value of a repeatable string option (possibly none). */
  strings(name: string): string[] {
    const value = this.values[name];
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : [String(value)];
    if (list.some((item) => item.trim() === '')) {
      throw new CliUsageError(`--${name} must not be empty`);
    }
    return list;
  }

  /** A string option that must be present; `hint` completes the error message. */
  required(name: string, hint = ''): string {
    const value = this.string(name);
    if (value === undefined) throw new CliUsageError(`--${name} is required${hint}`);
    return value;
  }

  /** An integer option within bounds, or `fallback` when absent. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const text = this.string(name);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text.trim())) throw new CliUsageError(`--${name} must be an integer`);
    const value = Number(text);
    if (value < min || value > max) {
      throw new CliUsageError(`--${name} must be from ${min} to ${max}`);
    }
    return value;
  }

  /** An absolute http(s) URL option, or undefined. */
  url(name: string): string | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    return checkUrl(text, `--${name}`);
  }

  /** An ISO 8601 date-time option, or undefined. */
  date(name: string): Date | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const date = new Date(text);
    if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
      throw new CliUsageError(`--${name} must be an ISO 8601 date-time (2026-01-31T12:00:00Z)`);
    }
    return date;
  }

  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const text = this.string(name);
    if (text === undefined) return fallback;
    if (!(choices as readonly string[]).includes(text)) {
      throw new CliUsageError(`--${name} must be one of ${choices.join(', ')}`);
    }
    return text as T;
  }
}

/** Checks that `text` is an absolute http(s) URL; the error names `what`, never the value. */
export function checkUrl(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(`${what} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CliUsageError(`${what} must be an http or https URL`);
  }
  if (url.username || url.password) {
    throw new CliUsageError(`${what} must not carry credentials`);
  }
  return text;
}

/**
 * Parses a command's arguments with `node:util` `parseArgs` (strict: unknown options and
 * positionals are refused). A non-repeatable option given twice is refused rather than the last
 * value silently winning. Errors never repeat a value from the command line, which may be a
 * secret.
 */
export function parseCommandLine(
  spec: CliCommandSpec,
  argv: readonly string[],
): { readonly help: boolean; readonly options: ParsedOptions } {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, option]) => [
      name,
      {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new CliUsageError(`${spec.name} takes no positional arguments (options only)`);
    }
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = /'([^'=]+)/.exec((error as Error).message)?.[1] ?? 'an option';
      throw new CliUsageError(`unknown option ${name} for ${spec.name}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // These messages name the option only (e.g. "Option '--aud <value>' argument missing").
      throw new CliUsageError((error as Error).message);
    }
    throw error;
  }
  const seen = new Map<string, number>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    seen.set(token.name, (seen.get(token.name) ?? 0) + 1);
  }
  for (const [name, count] of seen) {
    if (count > 1 && !spec.options[name]?.multiple && name !== 'help') {
      throw new CliUsageError(`--${name} given more than once`);
    }
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  return { help: values.help === true, options: new ParsedOptions(values) };
}
