import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files the console is made of; nothing else under the assets folder is ever served. */
export const CONSOLE_ASSET_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};

/**
 * The Content-Security-Policy of every console response: scripts, styles and requests only
 * from this origin, no inline code, no framing (W3C CSP Level 3; `frame-ancestors` replaces
 * `X-Frame-Options`).
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Where the built console (`index.html`, `console.css`, `js/*.js`) is, when not configured:
 * beside the compiled library (`dist/console-app`), or, from the sources and from the reference
 * server's build, in `libs/client-auth/dist/console-app` (written by `npm run build:console`).
 * Returns `undefined` when it has not been built.
 */
export function findConsoleAssets(from: string = moduleDir()): string | undefined {
  const candidates = [
    join(from, '..', 'console-app'),
    join(from, '..', '..', 'dist', 'console-app'),
  ];
  // The reference server's `nest build` output: dist/libs/client-auth/src/console.
  for (let dir = from, i = 0; i < 8; i += 1, dir = dirname(dir)) {
    candidates.push(join(dir, 'libs', 'client-auth', 'dist', 'console-app'));
  }
  return candidates.map((dir) => resolve(dir)).find((dir) => existsSync(join(dir, 'index.html')));
}

function moduleDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}
