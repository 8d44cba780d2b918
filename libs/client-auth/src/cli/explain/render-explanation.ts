import type { AssertionExplanation, RuleStatus } from './explain-assertion.js';

const LABELS: Record<RuleStatus, string> = {
  pass: 'pass',
  fail: 'FAIL',
  skipped: 'skip',
  not_checked: '----',
};

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 78)}…"` : text;
}

function time(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value)
    ? new Date(value * 1000).toISOString()
    : short(value);
}

/**
 * Renders an explanation for the terminal: a summary line, the decoded header and claims (never
 * the signature or the compact assertion; `jti` by length only), one line per rule with its
 * reason code when it fails, and the verdict with the description the client would see.
 */
export function renderExplanation(report: AssertionExplanation): string {
  const lines: string[] = [];
  lines.push(
    `Client ${short(report.clientId)}${report.method ? ` (${report.method})` : ''} · issuer ${report.issuer} · ` +
      `audience policy ${report.policy} · at ${report.at}`,
  );
  if (report.header && report.claims) {
    const h = report.header;
    const c = report.claims;
    const header = ['alg', 'kid', 'typ']
      .filter((name) => h[name] !== undefined)
      .map((name) => `${name} ${short(h[name])}`);
    const others = Object.keys(h).filter((name) => !['alg', 'kid', 'typ'].includes(name));
    if (others.length) header.push(`also ${others.join(', ')}`);
    const claims = [
      ...['iss', 'sub', 'aud'].filter((n) => c[n] !== undefined).map((n) => `${n} ${short(c[n])}`),
      ...['iat', 'nbf', 'exp'].filter((n) => c[n] !== undefined).map((n) => `${n} ${time(c[n])}`),
      typeof c.jti === 'string' ? `jti (${c.jti.length} characters)` : 'no jti',
    ];
    lines.push(`Header: ${header.join(', ') || '(empty)'}`);
    lines.push(
      `Claims${report.claimsVerified ? '' : ' (unverified: the signature did not verify)'}: ${claims.join(', ')}`,
    );
  }
  lines.push('');
  const idWidth = Math.max(...report.rules.map((rule) => rule.id.length)) + 2;
  for (const rule of report.rules) {
    const outcome =
      rule.status === 'fail' && rule.reason ? `${rule.reason}: ${rule.detail}` : rule.detail;
    lines.push(
      `  ${LABELS[rule.status]}  ${rule.section.padEnd(5)} ${rule.id.padEnd(idWidth)}${rule.title} — ${outcome}`,
    );
  }
  lines.push('');
  const verdict = report.verdict;
  if (verdict.accepted) {
    lines.push(
      'Verdict: ACCEPTED' +
        (verdict.audienceForm ? ` (audience form ${verdict.audienceForm})` : '') +
        '; replay not checked offline: a jti already used would still be refused.',
    );
  } else {
    lines.push(`Verdict: REJECTED — ${verdict.error} (${verdict.reason}): ${verdict.detail}`);
    lines.push(`The client would see: error_description ${JSON.stringify(verdict.description)}`);
  }
  if (!report.consistent) {
    lines.push(
      'Note: the first failing rule above differs from the server verdict; the verdict is authoritative.',
    );
  }
  return lines.join('\n') + '\n';
}
