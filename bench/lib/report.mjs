/**
 * Output of the benchmark: the console summary and the Markdown table written between the
 * `<!-- bench:results:start -->` / `<!-- bench:results:end -->` markers of docs/benchmarks.md
 * (and of README.md when it carries the same markers).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const pct = (ratio) => (typeof ratio === 'number' ? `${Math.round(ratio * 100)}%` : '–');
const times = (ratio) => (typeof ratio === 'number' ? `${ratio.toFixed(2)}×` : '–');
const num = (value) => (typeof value === 'number' ? String(value) : '–');
const latency = (run) => (run ? `${run.latencyMs.p50} / ${run.latencyMs.p99}` : '–');

/** One row per scenario: the reference server, its crypto limit and the peer. */
function rows(report) {
  return report.scenarios.map((s) => {
    if (s.skipped) return [s.label, ...Array(11).fill('–')];
    const server = s.server;
    const peer = s.peer;
    // A scenario the peer has no equivalent of (the guard): n/a, with the reason under the table.
    const na = s.peerNotApplicable ? 'n/a' : undefined;
    return [
      s.label,
      num(server?.requestsPerSecond),
      latency(server),
      num(server?.non2xx),
      num(server?.peakRssMiB),
      num(s.cryptoLimit?.sequential),
      pct(server?.ratioToCryptoLimit),
      na ?? num(peer?.requestsPerSecond),
      na ?? latency(peer),
      na ?? num(peer?.non2xx),
      na ?? num(peer?.peakRssMiB),
      na ?? times(s.ratioToPeer),
    ];
  });
}

const HEADER = [
  'scenario',
  'req/s',
  'p50 / p99 ms',
  'non-2xx',
  'peak RSS MiB',
  'crypto limit ops/s',
  'of crypto limit',
  'peer req/s',
  'peer p50 / p99 ms',
  'peer non-2xx',
  'peer RSS MiB',
  'vs peer',
];

/** The settings line under the table's heading. */
function context(report) {
  const s = report.settings;
  const pinned = s.pinned
    ? `servers pinned to CPU ${s.pinned.server}, load generator to CPU ${s.pinned.load}`
    : 'no CPU pinning';
  return (
    `Measured ${report.date.slice(0, 10)} on ${report.machine.cpu} (${report.machine.cpus} CPUs), ` +
    `Node ${report.machine.node}; ${s.durationSeconds} s per scenario after ${s.warmupSeconds} s ` +
    `warm-up, ${s.connections} connections, ${s.database === 'postgres' ? 'PostgreSQL' : 'SQLite'} ` +
    `registry and replay store, ${s.workers === '1' ? 'one process' : `WORKERS=${s.workers}`}; ${pinned}.`
  );
}

/** Prints the summary table and the outcome of the checks. */
export function printResults(report, log) {
  log('\nresults');
  const table = [HEADER, ...rows(report)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  for (const s of report.scenarios) if (s.skipped) log(`${s.label}: skipped — ${s.skipped}`);
  for (const s of report.scenarios) {
    if (s.peerNotApplicable) log(`${s.label}: peer n/a — ${s.peerNotApplicable}`);
    const refusals = s.server?.refusals;
    if (refusals) {
      log(`${s.label}: ${refusals.sent} bad tokens sent, ${refusals.accepted} accepted`);
    }
  }
  log(`\n${context(report)}`);
}

/** The Markdown of the results section. */
export function resultsMarkdown(report) {
  const table = [HEADER, HEADER.map(() => '---'), ...rows(report)]
    .map((row) => `| ${row.join(' | ')} |`)
    .join('\n');
  const skipped = report.scenarios
    .filter((s) => s.skipped)
    .map((s) => `- ${s.label}: skipped — ${s.skipped}.`);
  const notApplicable = report.scenarios
    .filter((s) => s.peerNotApplicable)
    .map((s) => `- ${s.label}: peer n/a — ${s.peerNotApplicable}.`);
  const refusals = report.scenarios
    .filter((s) => s.server?.refusals)
    .map(
      (s) =>
        `${s.label}: ${s.server.refusals.sent} requests with a missing, altered, foreign, expired ` +
        `or other-audience token after the load, ${s.server.refusals.accepted} accepted.`,
    );
  const replays = report.scenarios
    .filter((s) => s.server?.replay)
    .map((s) => s.server.replay)
    .reduce((sum, r) => ({ sent: sum.sent + r.sent, accepted: sum.accepted + r.accepted }), {
      sent: 0,
      accepted: 0,
    });
  return [
    START,
    '',
    context(report),
    '',
    table,
    '',
    '"of crypto limit" is req/s divided by the single-thread rate of the request\'s cryptography',
    'on the server CPU (token endpoint: verify the assertion + sign the access token, same',
    'algorithms; guard: verify one ES256 access token); "vs peer" is req/s divided by the',
    "peer's (oidc-provider).",
    `Replays after the load: ${replays.sent} used assertions re-sent, ${replays.accepted} accepted.` +
      (refusals.length ? ` ${refusals.join(' ')}` : '') +
      (report.ok ? '' : ` Run failed: ${report.failures.join('; ')}.`),
    ...(skipped.length || notApplicable.length ? ['', ...skipped, ...notApplicable] : []),
    '',
    END,
  ].join('\n');
}

async function formatMarkdown(text, file) {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text; // prettier is a dev dependency; without it the table is still valid Markdown
  }
}

/**
 * Writes the results section into docs/benchmarks.md (appended when the markers are missing)
 * and into README.md when it has the markers. Resolves the files written.
 */
export async function writeMarkdown(report, root) {
  const section = resultsMarkdown(report);
  const written = [];
  for (const [relative, required] of [
    ['docs/benchmarks.md', true],
    ['README.md', false],
  ]) {
    const file = join(root, relative);
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const start = current.indexOf(START);
    const end = current.indexOf(END);
    let next;
    if (start >= 0 && end > start) {
      next = current.slice(0, start) + section + current.slice(end + END.length);
    } else if (required) {
      next = `${current || '# Benchmarks\n'}\n## Results\n\n${section}\n`;
    } else {
      continue;
    }
    writeFileSync(file, await formatMarkdown(next, file));
    written.push(relative);
  }
  return written;
}
