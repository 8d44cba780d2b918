/// <reference lib="dom" />
import { call, query } from './api.js';
import { field, h, replace, time } from './dom.js';
import { AUTH_METHODS, type Client, type Page } from './types.js';

const PAGE_SIZE = 20;

/** Filters of the clients page, kept in the location hash (never anything secret). */
export interface ClientFilters {
  name: string;
  method: string;
  status: string;
  offset: number;
}

export function filtersFrom(params: URLSearchParams): ClientFilters {
  const offset = Number(params.get('offset') ?? '0');
  return {
    name: params.get('name') ?? '',
    method: params.get('method') ?? '',
    status: params.get('status') ?? '',
    offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
  };
}

function hashOf(filters: ClientFilters): string {
  const params = new URLSearchParams();
  if (filters.name) params.set('name', filters.name);
  if (filters.method) params.set('method', filters.method);
  if (filters.status) params.set('status', filters.status);
  if (filters.offset) params.set('offset', String(filters.offset));
  const text = params.toString();
  return `#/clients${text ? `?${text}` : ''}`;
}

function select(name: string, options: readonly [string, string][], value: string) {
  const el = h('select', { name });
  for (const [optionValue, label] of options) {
    const option = h('option', { value: optionValue }, label);
    option.selected = optionValue === value;
    el.appendChild(option);
  }
  return el;
}

/** Clients: search by id or name, filter by method and status, paginate. */
export async function renderClients(main: HTMLElement, filters: ClientFilters): Promise<void> {
  const page = await call<Page<Client>>(
    'GET',
    `/admin/clients${query({
      limit: PAGE_SIZE,
      offset: filters.offset,
      name: filters.name,
      method: filters.method,
      status: filters.status,
    })}`,
  );
  const search = h('input', { type: 'search', name: 'name', value: filters.name });
  const method = select(
    'method',
    [['', 'Any method'], ...AUTH_METHODS.map((m): [string, string] => [m, m])],
    filters.method,
  );
  const status = select(
    'status',
    [
      ['', 'Any status'],
      ['enabled', 'Enabled'],
      ['disabled', 'Disabled'],
    ],
    filters.status,
  );
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Find clients' },
    field('Search by client id or name', search),
    field('Authentication method', method),
    field('Status', status),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = hashOf({
      name: search.value.trim(),
      method: method.value,
      status: status.value,
      offset: 0,
    });
  });

  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.items.length;
  const prev = h('button', { type: 'button' }, 'Previous page');
  prev.disabled = page.offset === 0;
  prev.addEventListener('click', () => {
    location.hash = hashOf({ ...filters, offset: Math.max(0, page.offset - PAGE_SIZE) });
  });
  const next = h('button', { type: 'button' }, 'Next page');
  next.disabled = last >= page.total;
  next.addEventListener('click', () => {
    location.hash = hashOf({ ...filters, offset: page.offset + PAGE_SIZE });
  });

  const table =
    page.items.length === 0
      ? h('p', { class: 'muted' }, 'No client matches.')
      : h(
          'table',
          { id: 'clients-table' },
          h('caption', {}, `Clients ${first}–${last} of ${page.total}`),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Client', 'Name', 'Method', 'Status', 'Credentials', 'Last authenticated'].map(
                (title) => h('th', { scope: 'col' }, title),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            ...page.items.map((client) =>
              h(
                'tr',
                {},
                h(
                  'td',
                  {},
                  h(
                    'a',
                    { href: `#/clients/${encodeURIComponent(client.client_id)}` },
                    client.client_id,
                  ),
                ),
                h('td', {}, client.client_name ?? '—'),
                h('td', {}, h('code', {}, client.token_endpoint_auth_method)),
                h(
                  'td',
                  {},
                  h(
                    'span',
                    { class: client.enabled ? 'badge ok' : 'badge off' },
                    client.enabled ? 'enabled' : 'disabled',
                  ),
                ),
                h(
                  'td',
                  {},
                  String(client.credentials.filter((c) => c.status !== 'revoked').length),
                ),
                h('td', {}, time(client.last_authenticated_at)),
              ),
            ),
          ),
        );
  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Clients'),
    form,
    table,
    h(
      'nav',
      { class: 'pager', 'aria-label': 'Pages' },
      prev,
      h('span', {}, `${first}–${last} of ${page.total}`),
      next,
    ),
  );
}
