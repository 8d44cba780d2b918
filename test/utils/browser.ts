import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONSOLE_SOURCE = join(ROOT, 'libs', 'client-auth', 'console-app');
const CONSOLE_OUTPUT = join(ROOT, 'libs', 'client-auth', 'dist', 'console-app');

/** Where browser tests leave screenshots for people to look at. */
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'console');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs);
  }
  return newest;
}

/**
 * Builds the admin console (`npm run build:console`) unless its output is newer than every
 * source file, so the browser tests always run the current front end.
 */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_OUTPUT, 'index.html');
  if (existsSync(index) && newestMtime(CONSOLE_OUTPUT) >= newestMtime(CONSOLE_SOURCE)) return;
  execFileSync(process.execPath, [join(CONSOLE_SOURCE, 'build.mjs')], { stdio: 'pipe' });
}

/** Debian's Chromium, headless, with nothing phoning home (no background networking). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/** What a page did that a test must refuse: CSP violations, errors, requests off loopback. */
export interface PageWatch {
  readonly cspViolations: string[];
  readonly consoleErrors: string[];
  readonly offLoopback: string[];
  readonly requests: string[];
}

/**
 * Records every console message and request of `page`: a CSP violation is reported by Chromium
 * as a console error naming the policy; a request is "off loopback" unless it goes to `origin`
 * (or is a `data:` URL, which never leaves the browser).
 */
export function watchPage(page: Page, origin: string): PageWatch {
  const watch: PageWatch = { cspViolations: [], consoleErrors: [], offLoopback: [], requests: [] };
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy|Content-Security-Policy/i.test(text))
      watch.cspViolations.push(text);
    else if (message.type() === 'error') watch.consoleErrors.push(text);
  });
  page.on('pageerror', (error) => watch.consoleErrors.push(String(error)));
  page.on('request', (request) => {
    const url = request.url();
    watch.requests.push(`${request.method()} ${url}`);
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:')) watch.offLoopback.push(url);
  });
  return watch;
}

/** Saves a full-page PNG under {@link SCREENSHOT_DIR}. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
