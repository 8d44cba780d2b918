/// <reference lib="dom" />
import { call } from './api.js';
import { failureChart } from './chart.js';
import { h, replace, time } from './dom.js';
import type { AuthenticationStats, Overview } from './types.js';

function stat(label: string, value: number | string, id?: string): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('span', { class: 'value', id }, String(value)),
    h('span', { class: 'label' }, label),
  );
}

/** Overview: clients by method, expiring credentials, failures by reason (24 h), strict readiness. */
export async function renderOverview(main: HTMLElement): Promise<void> {
  const [overview, stats] = await Promise.all([
    call<Overview>('GET', '/admin/stats/overview?days=30'),
    call<AuthenticationStats>('GET', '/admin/stats/authentications?hours=24'),
  ]);
  const readiness = overview.strict_readiness;
  const assertionClients = readiness.passing + readiness.failing + readiness.unknown;
  const methods = Object.entries(overview.clients_by_method).filter(([, count]) => count > 0);
  const process = stats.process_totals;

  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Overview'),
    h(
      'div',
      { class: 'stats' },
      stat('clients', overview.total_clients, 'stat-total'),
      stat('enabled', overview.enabled_clients),
      stat('disabled', overview.disabled_clients),
      stat(
        `would pass strict (of ${assertionClients} using assertions)`,
        readiness.passing,
        'stat-strict',
      ),
      stat(
        `credentials expiring within ${overview.expiring_within_days} days`,
        overview.expiring_credentials.length,
        'stat-expiring',
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'chart-heading' },
      h('h2', { id: 'chart-heading' }, 'Authentication failures, last 24 hours'),
      failureChart(stats),
      process
        ? h(
            'p',
            { class: 'muted' },
            `This instance since it started: ${process.success} succeeded, ${process.failure} failed, ${process.unavailable} unavailable.`,
          )
        : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'methods-heading' },
      h('h2', { id: 'methods-heading' }, 'Clients by method'),
      methods.length === 0
        ? h('p', { class: 'muted' }, 'No clients yet.')
        : h(
            'table',
            { id: 'methods-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Method'),
                h('th', { scope: 'col' }, 'Clients'),
              ),
            ),
            h(
              'tbody',
              {},
              ...methods.map(([method, count]) =>
                h(
                  'tr',
                  {},
                  h(
                    'td',
                    {},
                    h('a', { href: `#/clients?method=${encodeURIComponent(method)}` }, method),
                  ),
                  h('td', {}, String(count)),
                ),
              ),
            ),
          ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'readiness-heading' },
      h('h2', { id: 'readiness-heading' }, 'Strict audience readiness'),
      h(
        'p',
        {},
        `${readiness.passing} pass, ${readiness.failing} would fail, ${readiness.unknown} not seen yet; ${readiness.not_applicable} use no assertion.`,
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'expiring-heading' },
      h(
        'h2',
        { id: 'expiring-heading' },
        `Credentials expiring within ${overview.expiring_within_days} days`,
      ),
      overview.expiring_credentials.length === 0
        ? h('p', { class: 'muted' }, 'None.')
        : h(
            'table',
            { id: 'expiring-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Client', 'Key id', 'Kind', 'Expires'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              ...overview.expiring_credentials.map((credential) =>
                h(
                  'tr',
                  {},
                  h(
                    'td',
                    {},
                    h(
                      'a',
                      { href: `#/clients/${encodeURIComponent(credential.client_id)}` },
                      credential.client_id,
                    ),
                  ),
                  h('td', {}, h('code', {}, credential.kid ?? '—')),
                  h('td', {}, credential.kind),
                  h('td', {}, time(credential.expires_at)),
                ),
              ),
            ),
          ),
    ),
    overview.truncated
      ? h('p', { class: 'muted' }, 'Counts cover the newest 10 000 clients.')
      : null,
  );
}
