import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';

/**
 * Where a command reads and writes. The real entry point passes the process streams
 * ({@link processCliIo}); tests pass collectors, so every command runs in-process.
 */
export interface CliIo {
  /** Writes to standard output (the command's result). */
  stdout(text: string): void;
  /** Writes to standard error (diagnostics, warnings, errors). */
  stderr(text: string): void;
  /** Environment variables consulted for defaults. Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Reads all of standard input (for `--assertion -`). Default: unavailable. */
  readStdin?(): Promise<string>;
}

/** Exit codes of the command-line tool. */
export const EXIT = {
  /** The command did what was asked (`explain`: the assertion would be accepted). */
  ok: 0,
  /** The command failed at run time: unreadable file, unreachable server, refused request. */
  failure: 1,
  /** The command line is wrong: unknown option, missing or invalid value. */
  usage: 2,
  /** `explain` only: the assertion would be rejected (the report says why). */
  rejected: 3,
} as const;

/** A wrong command line: printed with a pointer to `--help`, exit code {@link EXIT}.usage. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/**
 * A run-time failure with a message fit for the terminal, exit code {@link EXIT}.failure. The
 * message never contains a secret, a private key or an assertion.
 */
export class CliFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliFailure';
  }
}

/** The process's own streams, environment and working directory. */
export function processCliIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Resolves a path given on the command line against the tool's working directory. */
export function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : resolve(io.cwd ?? process.cwd(), path);
}

/**
 * Reads a text file named on the command line; a missing or unreadable file is a
 * {@link CliFailure} naming the option and the path (never the content).
 */
export async function readTextFile(io: CliIo, path: string, option: string): Promise<string> {
  try {
    return await readFile(resolvePath(io, path), 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'unreadable';
    throw new CliFailure(`${option}: cannot read ${path} (${why})`, { cause });
  }
}

/** Reads a JSON file named on the command line; invalid JSON is a {@link CliFailure}. */
export async function readJsonFile(io: CliIo, path: string, option: string): Promise<unknown> {
  const text = await readTextFile(io, path, option);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new CliFailure(`${option}: ${path} is not valid JSON`, { cause });
  }
}
