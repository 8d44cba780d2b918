import { readFileSync } from 'node:fs';
import { helpText, parseCommandLine, PROGRAM, type CliCommand } from './cli-args.js';
import { CliFailure, CliUsageError, EXIT, type CliIo } from './cli-io.js';
import { assertionSignCommand } from './commands/assertion-sign.command.js';
import { explainCommand } from './commands/explain.command.js';
import { keysGenerateCommand, keysPublicCommand } from './commands/keys.command.js';
import { registerCommand } from './commands/register.command.js';

/** Every command, by its full name (`keys generate`). */
export const CLI_COMMANDS: readonly CliCommand[] = [
  keysGenerateCommand,
  keysPublicCommand,
  assertionSignCommand,
  explainCommand,
  registerCommand,
];

function packageVersion(): string {
  try {
    // src/cli/ and dist/cli/ both sit two levels below the package root.
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The tool's overview (`--help` without a command), or the commands of one group (`keys`). */
function overview(group?: string): string {
  const commands = CLI_COMMANDS.filter(
    (command) => group === undefined || command.spec.name.startsWith(`${group} `),
  );
  const width = Math.max(...commands.map((command) => command.spec.name.length)) + 4;
  return [
    `Usage: ${PROGRAM} ${group ?? '<command>'}${group ? ' <subcommand>' : ''} [options]`,
    '',
    ...(group
      ? []
      : [
          'OAuth 2.0 client authentication with JWT assertions (RFC 7523): keys, test assertions,',
          'explanations of rejected assertions, and dynamic client registration (RFC 7591).',
          '',
        ]),
    'Commands:',
    ...commands.map((command) => `  ${command.spec.name.padEnd(width)}${command.spec.summary}`),
    '',
    `Run '${PROGRAM} <command> --help' for a command's options.`,
    ...(group ? [] : [`'${PROGRAM} --version' prints the version.`]),
    '',
  ].join('\n');
}

/** Splits argv into the command and its arguments; undefined when argv names no command. */
function findCommand(argv: readonly string[]): { command: CliCommand; args: string[] } | undefined {
  for (const command of CLI_COMMANDS) {
    const words = command.spec.name.split(' ');
    if (words.every((word, i) => argv[i] === word)) {
      return { command, args: argv.slice(words.length) };
    }
  }
  return undefined;
}

/**
 * Runs the command-line tool in-process: `argv` without the node and script paths, `io` for
 * output. Resolves the exit code (see `EXIT`): 0 success, 1 failure, 2 wrong command line, 3
 * `explain` rejected the assertion. Never throws for a user error; messages go to `io.stderr`
 * and never contain a secret, a private key or an assertion.
 *
 * @example
 * ```ts
 * const out: string[] = [];
 * const code = await run(['keys', 'generate', '--alg', 'ES256', '--out', 'key.json'], {
 *   stdout: (text) => out.push(text),
 *   stderr: () => undefined,
 * });
 * ```
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    io.stderr(overview());
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h') {
    io.stdout(overview());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    io.stdout(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (first === 'help') {
    const target = argv.length > 1 ? findCommand(argv.slice(1)) : undefined;
    if (target) {
      io.stdout(helpText(target.command.spec));
      return EXIT.ok;
    }
    const group = argv[1];
    if (group !== undefined && CLI_COMMANDS.some((c) => c.spec.name.startsWith(`${group} `))) {
      io.stdout(overview(group));
      return EXIT.ok;
    }
    if (group !== undefined) {
      io.stderr(`error: unknown command '${group.slice(0, 40)}'\n\n${overview()}`);
      return EXIT.usage;
    }
    io.stdout(overview());
    return EXIT.ok;
  }

  const found = findCommand(argv);
  if (!found) {
    const isGroup = CLI_COMMANDS.some((c) => c.spec.name.startsWith(`${first} `));
    const sub = argv[1];
    if (isGroup && sub === undefined) {
      io.stderr(overview(first));
      return EXIT.usage;
    }
    if (isGroup && (sub === '--help' || sub === '-h')) {
      io.stdout(overview(first));
      return EXIT.ok;
    }
    // Command words are short: never echo a long argument, which could be a token.
    const shown = (isGroup ? `${first} ${sub ?? ''}` : first).slice(0, 40);
    io.stderr(
      `error: unknown command '${shown.trim()}'\n\n${overview(isGroup ? first : undefined)}`,
    );
    return EXIT.usage;
  }

  const { command, args } = found;
  try {
    const parsed = parseCommandLine(command.spec, args);
    if (parsed.help) {
      io.stdout(helpText(command.spec));
      return EXIT.ok;
    }
    return await command.execute(parsed.options, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr(
        `error: ${error.message}\nRun '${PROGRAM} ${command.spec.name} --help' for usage.\n`,
      );
      return EXIT.usage;
    }
    if (error instanceof CliFailure) {
      io.stderr(`error: ${error.message}\n`);
      return EXIT.failure;
    }
    // An unexpected error's message could quote input (a key, a token): name it only.
    const name = error instanceof Error ? error.name : typeof error;
    io.stderr(
      `error: ${command.spec.name} failed unexpectedly (${name})` +
        (io.env?.NESTJS_CLIENT_AUTH_DEBUG ? `\n${(error as Error)?.stack ?? String(error)}` : '') +
        '\n',
    );
    return EXIT.failure;
  }
}
