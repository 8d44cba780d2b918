/**
 * Output of the benchmark: the console summary and the Markdown tables ("vs peer", "vs limits")
 * written between the `<!-- bench:results:start -->` / `<!-- bench:results:end -->` markers of
 * docs/benchmarks.md (and of README.md when it carries the same markers).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const pct = (ratio) => (typeof ratio === 'number' ? `${Math.round(ratio * 100)}%` : '–');
const times = (ratio) => (typeof ratio === 'number' ? `${ratio.toFixed(2)}×` : '–');
const num = (value) => (typeof value === 'number' ? String(value) : '–');
const latency = (run) => (run ? `${run.latencyMs.p50} / ${run.latencyMs.p99}` : '–');

/** Figures of a scenario that did not run, or whose server did not serve it. */
const dashes = (n) => Array(n).fill('–');

/**
 * The "vs peer" table: the reference server and the peer (`oidc-provider`), one row per
 * scenario. A scenario the peer has no equivalent of (the guard) shows n/a, with the reason
 * under the table.
 */
const PEER_HEADER = [
  'scenario',
  'req/s',
  'p50 / p99 ms',
  'non-2xx',
  'peak RSS MiB',
  'peer req/s',
  'peer p50 / p99 ms',
  'peer non-2xx',
  'peer RSS MiB',
  'vs peer',
];

function peerRows(report) {
  return report.scenarios.map((s) => {
    if (s.skipped) return [s.label, ...dashes(PEER_HEADER.length - 1)];
    const { server, peer } = s;
    const na = s.peerNotApplicable ? 'n/a' : undefined;
    return [
      s.label,
      num(server?.requestsPerSecond),
      latency(server),
      num(server?.non2xx),
      num(server?.peakRssMiB),
      na ?? num(peer?.requestsPerSecond),
      na ?? latency(peer),
      na ?? num(peer?.non2xx),
      na ?? num(peer?.peakRssMiB),
      na ?? times(s.ratioToPeer),
    ];
  });
}

/**
 * The "vs limits" table: the reference server against the crypto limit and the floor
 * (bench/floor-server.mjs), and the floor against the crypto limit. The floor serves the token
 * endpoint only: n/a for the guard.
 */
const LIMITS_HEADER = [
  'scenario',
  'req/s',
  'crypto limit ops/s',
  'of crypto limit',
  'floor req/s',
  'floor p50 / p99 ms',
  'floor non-2xx',
  'floor of crypto limit',
  'of floor',
];

function limitsRows(report) {
  return report.scenarios.map((s) => {
    if (s.skipped) return [s.label, ...dashes(LIMITS_HEADER.length - 1)];
    const { server, floor } = s;
    const na = s.floorNotApplicable ? 'n/a' : undefined;
    return [
      s.label,
      num(server?.requestsPerSecond),
      num(s.cryptoLimit?.sequential),
      pct(server?.ratioToCryptoLimit),
      na ?? num(floor?.requestsPerSecond),
      na ?? latency(floor),
      na ?? num(floor?.non2xx),
      na ?? pct(floor?.ratioToCryptoLimit),
      na ?? pct(s.ratioToFloor),
    ];
  });
}

/**
 * The tables: a short title (console), a heading (Markdown), the header and the rows. The
 * "vs peer" table is left out when the run had no peer (`BENCH_PEER=0`).
 */
function tables(report) {
  const withPeer = report.settings.peer !== false;
  return [
    withPeer && {
      title: 'vs peer',
      heading: 'Against the peer (oidc-provider)',
      header: PEER_HEADER,
      rows: peerRows(report),
    },
    {
      title: 'vs limits',
      heading: 'Against the limits (crypto limit and floor)',
      header: LIMITS_HEADER,
      rows: limitsRows(report),
    },
  ].filter(Boolean);
}

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

/** Prints the summary tables and the outcome of the checks. */
export function printResults(report, log) {
  for (const { title, header, rows } of tables(report)) {
    log(`\nresults — ${title}`);
    const table = [header, ...rows];
    const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
    for (const row of table) log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '));
  }
  log('');
  for (const s of report.scenarios) if (s.skipped) log(`${s.label}: skipped — ${s.skipped}`);
  for (const s of report.scenarios) {
    if (s.peerNotApplicable) log(`${s.label}: peer n/a — ${s.peerNotApplicable}`);
    if (s.floorNotApplicable) log(`${s.label}: floor n/a — ${s.floorNotApplicable}`);
    const refusals = s.server?.refusals;
    if (refusals) {
      log(`${s.label}: ${refusals.sent} bad tokens sent, ${refusals.accepted} accepted`);
    }
  }
  log(`\n${context(report)}`);
}

/** The Markdown of the results section. */
export function resultsMarkdown(report) {
  const markdownTables = tables(report).map(({ heading, header, rows }) =>
    [
      `**${heading}**`,
      '',
      ...[header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`),
    ].join('\n'),
  );
  const skipped = report.scenarios
    .filter((s) => s.skipped)
    .map((s) => `- ${s.label}: skipped — ${s.skipped}.`);
  const notApplicable = report.scenarios.flatMap((s) => [
    ...(s.peerNotApplicable ? [`- ${s.label}: peer n/a — ${s.peerNotApplicable}.`] : []),
    ...(s.floorNotApplicable ? [`- ${s.label}: floor n/a — ${s.floorNotApplicable}.`] : []),
  ]);
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
    markdownTables.join('\n\n'),
    '',
    '"vs peer" is req/s divided by the peer\'s (oidc-provider). "of crypto limit" is req/s divided',
    "by the single-thread rate of the request's cryptography on the server CPU (token endpoint:",
    'verify the assertion + sign the access token, same algorithms; guard: verify one ES256 access',
    'token). The floor is a bare `node:http` server doing only that cryptography per request (no',
    'replay store, registry or claim checks: not an OAuth server); "floor of crypto limit" is the',
    'share Node\'s HTTP stack leaves on this core, "of floor" is req/s divided by the floor\'s.',
    `Replays after the load: ${replays.sent} used assertions re-sent, ${replays.accepted} accepted` +
      (report.settings.floor ? ' (the floor keeps no replay store: not replay-checked).' : '.') +
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
