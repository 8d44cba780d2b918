/// <reference lib="dom" />
import { ApiError } from './api.js';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** Shows the server's error (or clears it). Never includes the request body or the token. */
export function showError(error: unknown): void {
  const box = byId('error');
  if (error === undefined) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  const message =
    error instanceof ApiError
      ? error.status === 401
        ? `The admin token was refused (${error.message}). Sign in again.`
        : `The server refused: ${error.message}`
      : `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
  box.textContent = message;
  box.hidden = false;
}

/** A short success message, read out by screen readers. */
export function showStatus(message: string): void {
  byId('status').textContent = message;
}

/**
 * Asks before a destructive action, in a modal `<dialog>` (focus is trapped and Escape
 * cancels). Resolves true only on an explicit confirmation.
 */
export function confirmAction(message: string, action: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  byId('confirm-message').textContent = message;
  byId('confirm-ok').textContent = action;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), {
      once: true,
    });
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

/**
 * Runs one change against the API: disables the control while it runs, shows the server's
 * error on failure (the page keeps what it showed: nothing changed), and on success clears the
 * error, says so and calls `then` (usually a reload of the page's data).
 */
export async function act(
  control: HTMLButtonElement | null,
  work: () => Promise<unknown>,
  done: string,
  then?: () => Promise<void> | void,
): Promise<boolean> {
  if (control) control.disabled = true;
  showStatus('');
  try {
    await work();
  } catch (error) {
    showError(error);
    return false;
  } finally {
    if (control) control.disabled = false;
  }
  showError(undefined);
  showStatus(done);
  await then?.();
  return true;
}
