// Builds the admin console (docs/console.md): TypeScript modules compiled by `tsc` with their own
// tsconfig (browser ES2022 modules, no bundler), and the page and stylesheet copied beside them.
// Output: libs/client-auth/dist/console-app/, shipped in the package and served by Nest.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'console-app');
const started = performance.now();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
for (const file of ['index.html', 'console.css']) copyFileSync(join(here, file), join(out, file));

const sizes = (dir) =>
  readdirSync(dir).reduce((sum, name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return sum + (stat.isDirectory() ? sizes(path) : stat.size);
  }, 0);
const ms = Math.round(performance.now() - started);
console.warn(`admin console: ${(sizes(out) / 1024).toFixed(1)} KiB in ${out} (${ms} ms)`);
