/// <reference lib="dom" />
import { call } from './api.js';
import { field, h, replace, time } from './dom.js';
import type { InitialAccessToken } from './types.js';
import { act, confirmAction } from './ui.js';

/** Initial access tokens (RFC 7591 §3): issue with an expiry and a use count, list, revoke. */
export async function renderTokens(main: HTMLElement, issued?: string): Promise<void> {
  const tokens = await call<InitialAccessToken[]>('GET', '/admin/initial-access-tokens');
  const reload = (token?: string) => renderTokens(main, token);

  const description = h('input', { type: 'text', name: 'description', maxlength: 255 });
  const expiresIn = h('input', {
    type: 'number',
    name: 'expires_in',
    min: 1,
    value: 86400,
    required: true,
  });
  const maxUses = h('input', {
    type: 'number',
    name: 'max_uses',
    min: 1,
    value: 1,
    required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Issue token');
  const form = h(
    'form',
    { class: 'card', id: 'issue-form', 'aria-labelledby': 'issue-title' },
    h('h2', { id: 'issue-title' }, 'Issue a token'),
    field('Description', description),
    field('Expires in (seconds)', expiresIn),
    field('Uses allowed', maxUses),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let token = '';
    const ok = await act(
      submit,
      async () => {
        const answer = await call<{ initial_access_token: string }>(
          'POST',
          '/admin/initial-access-tokens',
          {
            ...(description.value.trim() && { description: description.value.trim() }),
            expires_in: Number(expiresIn.value),
            max_uses: Number(maxUses.value),
          },
        );
        token = answer.initial_access_token;
      },
      'Token issued.',
    );
    if (ok) await reload(token);
  });

  const once = issued
    ? h(
        'div',
        { class: 'once', role: 'region', 'aria-label': 'New token' },
        h('p', {}, 'The new token, shown once — copy it now:'),
        h('input', {
          type: 'text',
          readonly: true,
          value: issued,
          id: 'issued-token',
          'aria-label': 'New initial access token',
        }),
      )
    : null;

  const rows = tokens.map((token) => {
    const actions = h('td', {});
    if (token.status === 'active') {
      const revoke = h(
        'button',
        {
          type: 'button',
          class: 'danger small',
          'aria-label': `Revoke token ${token.description ?? token.id}`,
        },
        'Revoke',
      );
      revoke.addEventListener('click', async () => {
        if (
          !(await confirmAction(
            `Revoke the token ${token.description ?? token.id}? Registrations with it are refused.`,
            'Revoke',
          ))
        )
          return;
        await act(
          revoke,
          () => call('DELETE', `/admin/initial-access-tokens/${encodeURIComponent(token.id)}`),
          'Token revoked.',
          () => reload(),
        );
      });
      actions.append(revoke);
    }
    return h(
      'tr',
      { 'data-token': token.id },
      h('td', {}, token.description ?? '—'),
      h('td', {}, h('span', { class: `badge state-${token.status}` }, token.status)),
      h('td', {}, `${token.uses} / ${token.max_uses ?? '∞'}`),
      h('td', {}, time(token.expires_at)),
      h('td', {}, time(token.created_at)),
      h('td', {}, token.created_by),
      actions,
    );
  });

  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Initial access tokens'),
    h(
      'p',
      {},
      'A token lets a client register itself at /oauth/register (RFC 7591). Its value is shown once.',
    ),
    once,
    form,
    tokens.length === 0
      ? h('p', { class: 'muted' }, 'No tokens issued.')
      : h(
          'table',
          { id: 'tokens-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Description', 'Status', 'Uses', 'Expires', 'Issued', 'By', 'Actions'].map((t) =>
                h('th', { scope: 'col' }, t),
              ),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
  );
  if (issued) document.getElementById('issued-token')?.focus();
}
