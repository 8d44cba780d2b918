/**
 * The reference server as it runs in production: compiled with `nest build` and started with
 * `node …/src/main.js` in a child process. The build goes to a private directory (not `dist/`,
 * which other builds may delete meanwhile) under `node_modules/.cache`, so Node still resolves
 * the project's dependencies from it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A private build of the reference server. */
export interface ServerBuild {
  /** Absolute path of the compiled `src/main.js`. */
  readonly entry: string;
  /** Deletes the build. */
  remove(): void;
}

/** Compiles the app and the library with `nest build` into a private directory. */
export async function buildServer(): Promise<ServerBuild> {
  const dir = join(
    ROOT,
    'node_modules',
    '.cache',
    `client-auth-build-${randomBytes(4).toString('hex')}`,
  );
  const out = join(dir, 'out');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.build.json'),
      compilerOptions: { outDir: out, rootDir: ROOT, sourceMap: false },
    }),
  );
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    await new Promise<void>((done, fail) => {
      execFile(
        process.execPath,
        [
          join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js'),
          'build',
          '-p',
          relative(ROOT, join(dir, 'tsconfig.json')),
        ],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          error ? fail(new Error(`nest build failed:\n${stdout}\n${stderr}`)) : done(),
      );
    });
  } catch (error) {
    remove();
    throw error;
  }
  // Under node_modules Node looks no further up for the package scope: name the format here.
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  return { entry: join(out, 'src', 'main.js'), remove };
}

/** A started server process with its output. */
export interface ServerProcess {
  readonly process: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  readonly lines: readonly string[];
  /** Resolves with the exit code (or signal) when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves the first line (from the start) matching `pattern` and not in `skip`. */
  waitForLine(pattern: RegExp, timeoutMs: number, skip?: ReadonlySet<string>): Promise<string>;
}

/** Starts `node <entry>` with `env` added to this process's environment. */
export function startServerProcess(entry: string, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
      for (const wake of waiters) wake();
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      done({ code, signal });
    }),
  );
  const waitForLine = (pattern: RegExp, timeoutMs: number, skip: ReadonlySet<string> = new Set()) =>
    new Promise<string>((done, fail) => {
      const check = () => {
        const line = lines.find((l) => pattern.test(l) && !skip.has(l));
        if (line !== undefined) {
          finish();
          done(line);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          fail(new Error(`server exited before logging ${pattern}:\n${lines.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        fail(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${lines.join('\n')}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { process: child, lines, exited, waitForLine };
}

/** A response read in full. */
export interface PlainResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

/**
 * One HTTP request on a connection of its own (no keep-alive), so that a cluster's primary
 * hands each request to the next worker.
 */
export function freshRequest(
  url: string,
  options: {
    method?: string;
    /** Sent form-encoded. */
    form?: Record<string, string>;
    /** Sent as JSON. */
    json?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<PlainResponse> {
  const body = options.form
    ? new URLSearchParams(options.form).toString()
    : options.json !== undefined
      ? JSON.stringify(options.json)
      : undefined;
  const type = options.form ? 'application/x-www-form-urlencoded' : 'application/json';
  return new Promise((done, fail) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: false,
        headers: {
          connection: 'close',
          ...(body !== undefined && { 'content-type': type }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          done({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
