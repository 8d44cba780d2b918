/// <reference lib="dom" />
import { call } from './api.js';
import { field, h, replace, time } from './dom.js';
import type { Client, Credential, Failure, Readiness } from './types.js';
import { act, confirmAction, showError } from './ui.js';

/** Parses the JWK text area; a syntax error is shown like a server error, nothing is sent. */
function parseJwk(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the key is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('the key must be a JSON object (a public JWK)');
  }
  return value as Record<string, unknown>;
}

function dl(entries: readonly [string, Node | string][]): HTMLElement {
  const list = h('dl', { class: 'meta' });
  for (const [term, value] of entries) list.append(h('dt', {}, term), h('dd', {}, value));
  return list;
}

/** A client: metadata, credentials (add, rotate, revoke), status, readiness and failures. */
export async function renderClient(main: HTMLElement, clientId: string): Promise<void> {
  const base = `/admin/clients/${encodeURIComponent(clientId)}`;
  const [client, failures, readiness] = await Promise.all([
    call<Client>('GET', base),
    call<Failure[]>('GET', `${base}/failures?limit=20`),
    call<Readiness>('GET', `${base}/readiness`),
  ]);
  const reload = () => renderClient(main, clientId);

  const toggle = h(
    'button',
    { type: 'button', class: client.enabled ? 'danger' : '' },
    client.enabled ? 'Disable client' : 'Enable client',
  );
  toggle.addEventListener('click', async () => {
    if (
      client.enabled &&
      !(await confirmAction(
        `Disable ${client.client_id}? Its token requests are refused from the next one on.`,
        'Disable',
      ))
    ) {
      return;
    }
    await act(
      toggle,
      () => call('POST', `${base}/${client.enabled ? 'disable' : 'enable'}`),
      client.enabled ? 'Client disabled.' : 'Client enabled.',
      reload,
    );
  });

  const metadata = dl([
    ['Client id', h('code', {}, client.client_id)],
    ['Status', client.enabled ? 'enabled' : 'disabled'],
    ['Authentication method', h('code', {}, client.token_endpoint_auth_method)],
    ['Signing algorithm', client.token_endpoint_auth_signing_alg ?? 'any allowed'],
    ['Grant types', client.grant_types.join(', ')],
    ['Scope', client.scope ?? '—'],
    [
      'Keys from',
      client.jwks_uri ??
        (client.token_endpoint_auth_method === 'private_key_jwt' ? 'registered keys' : '—'),
    ],
    ['Audience policy', client.audience_policy ?? 'server default'],
    ['Created', time(client.created_at)],
    ['Updated', time(client.updated_at)],
    ['Version', String(client.version)],
    ['Last authenticated', time(client.last_authenticated_at)],
  ]);

  const credentialRows = client.credentials.map((credential) =>
    credentialRow(credential, base, reload),
  );
  const credentials = h(
    'table',
    { id: 'credentials-table' },
    h('caption', {}, 'Credentials'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...[
          'Key id',
          'Kind',
          'Algorithm',
          'Status',
          'Valid from',
          'Expires',
          'Last used',
          'Actions',
        ].map((title) => h('th', { scope: 'col' }, title)),
      ),
    ),
    h('tbody', {}, ...credentialRows),
  );

  const keyForms =
    client.token_endpoint_auth_method === 'private_key_jwt' && !client.jwks_uri
      ? [rotateKeyForm(base, reload), addKeyForm(base, reload)]
      : [];
  const secretForm = client.token_endpoint_auth_method.startsWith('client_secret')
    ? [rotateSecretForm(base, reload)]
    : [];

  const ready =
    readiness.passes_strict === true
      ? h('span', { class: 'badge ok' }, 'passes strict')
      : readiness.passes_strict === false
        ? h('span', { class: 'badge warn' }, 'would fail strict')
        : h('span', { class: 'badge' }, 'unknown');
  const readinessSection = h(
    'section',
    { 'aria-labelledby': 'readiness-title', id: 'readiness' },
    h('h2', { id: 'readiness-title' }, 'Audience readiness'),
    dl([
      ['Strict policy', ready],
      ['Why', readiness.reason],
      ['Effective policy', readiness.audience_policy ?? 'server default'],
      ['Last audience form', readiness.last_audience_form ?? '—'],
      ['Last assertion typ', readiness.last_assertion_typ ?? '—'],
    ]),
  );

  const failuresSection = h(
    'section',
    { 'aria-labelledby': 'failures-title' },
    h('h2', { id: 'failures-title' }, 'Recent authentication failures'),
    failures.length === 0
      ? h('p', { class: 'muted' }, 'No failures recorded.')
      : h(
          'table',
          { id: 'failures-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['When', 'Reason', 'Method', 'Request id', 'Detail'].map((title) =>
                h('th', { scope: 'col' }, title),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            ...failures.map((failure) =>
              h(
                'tr',
                {},
                h('td', {}, time(failure.at)),
                h('td', {}, h('code', { class: 'reason' }, failure.reason)),
                h('td', {}, failure.method ?? '—'),
                h('td', {}, h('code', {}, failure.request_id ?? '—')),
                h('td', {}, failure.detail),
              ),
            ),
          ),
        ),
  );

  replace(
    main,
    h('p', {}, h('a', { href: '#/clients' }, '← All clients')),
    h(
      'div',
      { class: 'title-row' },
      h('h1', { tabindex: '-1' }, client.client_name ?? client.client_id),
      h(
        'span',
        { class: client.enabled ? 'badge ok' : 'badge off', id: 'client-status' },
        client.enabled ? 'enabled' : 'disabled',
      ),
      toggle,
    ),
    h(
      'section',
      { 'aria-labelledby': 'meta-title' },
      h('h2', { id: 'meta-title' }, 'Metadata'),
      metadata,
    ),
    h(
      'section',
      { 'aria-labelledby': 'credentials-title' },
      h('h2', { id: 'credentials-title' }, 'Credentials'),
      credentials,
      ...keyForms,
      ...secretForm,
    ),
    readinessSection,
    failuresSection,
  );
}

function credentialRow(credential: Credential, base: string, reload: () => Promise<void>) {
  const name = credential.kid ?? credential.id.slice(0, 8);
  const actions = h('td', {});
  if (credential.status !== 'revoked' && credential.status !== 'expired') {
    const revoke = h(
      'button',
      { type: 'button', class: 'danger small', 'aria-label': `Revoke ${name}` },
      'Revoke',
    );
    revoke.addEventListener('click', async () => {
      if (
        !(await confirmAction(
          `Revoke credential ${name}? Requests using it are refused from the next one on; this cannot be undone.`,
          'Revoke',
        ))
      ) {
        return;
      }
      await act(
        revoke,
        () => call('POST', `${base}/credentials/${encodeURIComponent(credential.id)}/revoke`),
        `Credential ${name} revoked.`,
        reload,
      );
    });
    actions.append(revoke);
  }
  return h(
    'tr',
    { 'data-credential': credential.id, 'data-kid': credential.kid ?? '' },
    h('td', {}, h('code', {}, credential.kid ?? '—')),
    h('td', {}, credential.kind),
    h('td', {}, credential.alg ?? '—'),
    h('td', {}, h('span', { class: `badge state-${credential.status}` }, credential.status)),
    h('td', {}, time(credential.not_before)),
    h('td', {}, time(credential.expires_at)),
    h('td', {}, time(credential.last_used_at)),
    actions,
  );
}

function rotateKeyForm(base: string, reload: () => Promise<void>): HTMLElement {
  const jwk = h('textarea', { name: 'jwk', rows: 5, spellcheck: 'false', required: true });
  const overlap = h('input', {
    type: 'number',
    name: 'overlap',
    min: 0,
    value: 86400,
    required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Rotate');
  const form = h(
    'form',
    { class: 'card', id: 'rotate-form', 'aria-labelledby': 'rotate-title' },
    h('h3', { id: 'rotate-title' }, 'Rotate keys'),
    field('New public key (JWK, JSON)', jwk, 'The public half only: no "d" member.'),
    field('Overlap in seconds', overlap, 'The current keys stay valid this long, then expire.'),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body: unknown;
    try {
      body = { jwk: parseJwk(jwk.value), overlap_seconds: Number(overlap.value) };
    } catch (error) {
      showError(error);
      return;
    }
    if (
      !(await confirmAction(
        'Rotate? The current keys will expire when the overlap ends.',
        'Rotate',
      ))
    ) {
      return;
    }
    await act(
      submit,
      () => call('POST', `${base}/credentials/rotate`, body),
      'Key rotated.',
      reload,
    );
  });
  return form;
}

function addKeyForm(base: string, reload: () => Promise<void>): HTMLElement {
  const jwk = h('textarea', { name: 'jwk', rows: 5, spellcheck: 'false', required: true });
  const expires = h('input', {
    type: 'text',
    name: 'expires_at',
    placeholder: '2030-01-01T00:00:00Z',
  });
  const submit = h('button', { type: 'submit' }, 'Add key');
  const form = h(
    'form',
    { class: 'card', id: 'add-key-form', 'aria-labelledby': 'add-key-title' },
    h('h3', { id: 'add-key-title' }, 'Add a key'),
    field('Public key (JWK, JSON)', jwk),
    field('Expires at (optional, RFC 3339)', expires),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = { jwk: parseJwk(jwk.value) };
    } catch (error) {
      showError(error);
      return;
    }
    if (expires.value.trim()) body.expires_at = expires.value.trim();
    await act(submit, () => call('POST', `${base}/credentials`, body), 'Key added.', reload);
  });
  return form;
}

function rotateSecretForm(base: string, reload: () => Promise<void>): HTMLElement {
  const overlap = h('input', {
    type: 'number',
    name: 'overlap',
    min: 0,
    value: 3600,
    required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Rotate secret');
  const output = h('div', { class: 'once', hidden: true });
  const form = h(
    'form',
    { class: 'card', id: 'rotate-secret-form', 'aria-labelledby': 'rotate-secret-title' },
    h('h3', { id: 'rotate-secret-title' }, 'Rotate the secret'),
    field('Overlap in seconds', overlap, 'The old secret stays valid this long.'),
    h('div', { class: 'actions' }, submit),
    output,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (
      !(await confirmAction('Issue a new secret? The old one expires after the overlap.', 'Rotate'))
    ) {
      return;
    }
    let secret = '';
    const ok = await act(
      submit,
      async () => {
        const answer = await call<{ client_secret: string }>('POST', `${base}/secret/rotate`, {
          overlap_seconds: Number(overlap.value),
        });
        secret = answer.client_secret;
      },
      'Secret rotated.',
    );
    if (ok) {
      // Shown once, here only; the page is not reloaded so it stays visible until navigation.
      replace(
        output,
        h('p', {}, 'The new secret, shown once — copy it now:'),
        h('input', {
          type: 'text',
          readonly: true,
          value: secret,
          'aria-label': 'New client secret',
        }),
      );
      output.hidden = false;
      void reload;
    }
  });
  return form;
}
