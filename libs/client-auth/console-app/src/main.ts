/// <reference lib="dom" />
import { ApiError, hasToken, signOut } from './api.js';
import { h, replace } from './dom.js';
import { filtersFrom, renderClients } from './clients-page.js';
import { renderClient } from './client-page.js';
import { renderOverview } from './overview-page.js';
import { renderSignIn } from './sign-in-page.js';
import { renderTokens } from './tokens-page.js';
import { showError, showStatus } from './ui.js';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
let rendering = 0;

/** Routes by the location hash: `#/overview`, `#/clients?…`, `#/clients/<id>`, `#/tokens`. */
async function route(): Promise<void> {
  const ticket = ++rendering;
  if (!hasToken()) {
    nav.hidden = true;
    renderSignIn(main, () => {
      if (location.hash === '#/overview') void route();
      else location.hash = '#/overview';
    });
    return;
  }
  nav.hidden = false;
  const [path = '', search = ''] = location.hash.replace(/^#/, '').split('?');
  for (const link of nav.querySelectorAll('a')) {
    const current = path.startsWith(link.getAttribute('href')!.slice(1));
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const client = /^\/clients\/(.+)$/.exec(path);
    if (client) await renderClient(main, decodeURIComponent(client[1]!));
    else if (path === '/clients')
      await renderClients(main, filtersFrom(new URLSearchParams(search)));
    else if (path === '/tokens') await renderTokens(main);
    else if (path === '/overview') await renderOverview(main);
    else {
      location.hash = '#/overview';
      return;
    }
    if (ticket === rendering) (main.querySelector('h1') ?? main).focus();
  } catch (error) {
    if (ticket !== rendering) return;
    showError(error);
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      await route();
      return;
    }
    replace(
      main,
      h('h1', { tabindex: '-1' }, 'Could not load this page'),
      h('p', {}, 'See the message above.'),
    );
  }
}

document.getElementById('sign-out')?.addEventListener('click', () => {
  signOut();
  showError(undefined);
  showStatus('Signed out.');
  void route();
});
window.addEventListener('hashchange', () => {
  showStatus('');
  void route();
});
void route();
