/// <reference lib="dom" />
import { signIn } from './api.js';
import { field, h, replace } from './dom.js';
import { showError, showStatus } from './ui.js';

/** Sign-in: the admin bearer token, checked with one API read before it is kept. */
export function renderSignIn(main: HTMLElement, onSignedIn: () => void): void {
  const input = h('input', {
    type: 'password',
    name: 'admin-token',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h(
      'p',
      {},
      'Enter the admin token (ADMIN_TOKEN). It is kept in this tab only and sent to this server only.',
    ),
    field('Admin token', input),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await signIn(input.value.trim());
      input.value = '';
      showError(undefined);
      showStatus('Signed in.');
      onSignedIn();
    } catch (error) {
      showError(error);
      input.select();
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, form);
  input.focus();
}
