#!/usr/bin/env node
/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `BENCH_PROFILE_DIR=… npm run bench`):
 * self time per function and per file, as a share of the profiled time, heaviest first.
 *
 * When the profile directory holds the `windows.json` the benchmark writes, only the samples
 * taken during the measured runs count (not start-up, warm-up, or the time the server waited
 * while the other server was measured). `(idle)` is time the main thread waited: on a server
 * pinned to one CPU that is mostly WebCrypto work running on libuv's thread pool.
 *
 * Usage: `node bench/profile-summary.mjs <file.cpuprofile> [top=25] [scenario-id]`
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Self time per function and per file of a `.cpuprofile`, in ms and as a share of the total,
 * counting only samples inside `windows` (`[startMicros, endMicros]` pairs on the profile's
 * clock) when given.
 */
export function summarizeProfile(profile, root = process.cwd(), windows = undefined) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map();
  const deltas = profile.timeDeltas ?? [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += deltas[i] ?? 0;
    if (windows && !windows.some(([from, to]) => at >= from && at <= to)) return;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (deltas[i] ?? 0));
  });
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const functions = new Map();
  const files = new Map();
  const packages = new Map();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id).callFrame;
    const file = shortUrl(frame.url, root);
    const fn = `${file}:${frame.functionName || '(anonymous)'}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
    files.set(file, (files.get(file) ?? 0) + micros);
    const pkg = packageOf(file, frame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  }
  const ranked = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .map(([name, micros]) => ({ name, ms: micros / 1000, share: micros / total }));
  return {
    totalMs: total / 1000,
    functions: ranked(functions),
    files: ranked(files),
    packages: ranked(packages),
  };
}

/** A coarse owner of a file: an npm package, a Node subsystem, the library or the app. */
function packageOf(file, functionName) {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (inModules) return inModules[1];
  if (file.startsWith('node:internal/crypto')) return 'node:crypto (WebCrypto glue)';
  if (/^node:(_http|http|net|stream|internal\/(streams|stream_base|http))/.test(file))
    return 'node:http/net/streams';
  if (file.startsWith('node:')) return 'node:other';
  if (file.includes('libs/client-auth/src/'))
    return `library ${file.split('libs/client-auth/src/')[1].split('/')[0]}/`;
  if (/(^|\/)dist\/src\//.test(file)) return 'reference server (src/)';
  if (file === '(native)') return `(native) ${functionName}`;
  return file;
}

function shortUrl(url, root) {
  if (!url) return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:')) return path;
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, topText = '25', scenario] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top] [scenario-id]');
    process.exit(2);
  }
  const top = Number(topText);
  const windowsFile = join(dirname(file), 'windows.json');
  let windows;
  if (existsSync(windowsFile)) {
    const server = basename(file).split('-')[0]; // server-….cpuprofile / peer-….cpuprofile
    windows = (JSON.parse(readFileSync(windowsFile, 'utf8'))[server] ?? []).filter(
      (w) => !scenario || w[2] === scenario,
    );
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), process.cwd(), windows);
  const line = (row) =>
    `${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}`;
  process.stdout.write(
    `total ${summary.totalMs.toFixed(0)} ms sampled` +
      (windows ? ` in ${windows.length} measured run(s)${scenario ? ` of ${scenario}` : ''}` : '') +
      '\n\nself time by function\n',
  );
  for (const row of summary.functions.slice(0, top)) process.stdout.write(`${line(row)}\n`);
  process.stdout.write('\nself time by package or subsystem\n');
  for (const row of summary.packages.slice(0, top)) process.stdout.write(`${line(row)}\n`);
  process.stdout.write('\nself time by file\n');
  for (const row of summary.files.slice(0, top)) process.stdout.write(`${line(row)}\n`);
}
