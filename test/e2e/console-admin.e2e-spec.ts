import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_CONTENT_SECURITY_POLICY } from 'nestjs-client-auth';
import {
  assertionForm,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import {
  ensureConsoleBuilt,
  launchBrowser,
  type PageWatch,
  screenshot,
  watchPage,
} from '../utils/browser.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const ADMIN_TOKEN = 'console-admin-token-0123456789abcdef';
const FILLER_CLIENTS = 22;

/**
 * The admin console (SPEC S3, issue 9) in Debian's Chromium against the reference server with a
 * seeded registry. The steps build on each other (one browser page, one server), in order.
 */
describe('admin console in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  let k1: TestKeyPair;
  let k2: TestKeyPair;

  const tokenRequest = async (key: TestKeyPair, clientId = 'payments-api', aud = TEST_ISSUER) => {
    const assertion = await signAssertion(
      key.privateKey,
      key.alg,
      { clientId, aud },
      { kid: key.kid },
    );
    return fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(assertionForm(assertion)),
    });
  };
  const admin = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const credentials = () =>
    admin<{ credentials: { kid?: string; status: string }[] }>('/admin/clients/payments-api').then(
      (client) => client.credentials,
    );
  const statusOf = (kid: string) =>
    page.locator(`#credentials-table tr[data-kid="${kid}"] .badge`).textContent();
  const confirmDialog = async () => {
    await page.waitForSelector('#confirm[open]');
    await page.locator('#confirm-ok').click();
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    k1 = await generateTestKey('ES256', 'payments-key-1');
    k2 = await generateTestKey('ES256', 'payments-key-2');
    const other = await generateTestKey('ES256', 'billing-key-1');
    await server.registry.createClient({
      clientId: 'payments-api',
      metadata: { client_name: 'Payments API' },
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [k1.publicJwk] },
      grantTypes: ['client_credentials'],
    });
    await server.registry.createClient({
      clientId: 'billing-worker',
      metadata: { client_name: 'Billing worker' },
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [other.publicJwk] },
    });
    await server.registry.createClient({
      clientId: 'legacy-basic',
      metadata: { client_name: 'Legacy reporting' },
      tokenEndpointAuthMethod: 'client_secret_basic',
    });
    for (let i = 1; i <= FILLER_CLIENTS; i += 1) {
      await server.registry.createClient({
        clientId: `svc-${String(i).padStart(2, '0')}`,
        tokenEndpointAuthMethod: 'client_secret_post',
      });
    }
    // One accepted assertion, so readiness has something to say.
    expect((await tokenRequest(k1)).status).toBe(200);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    watch = watchPage(page, server.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the page under the strict Content-Security-Policy, with no inline code', async () => {
    const res = await fetch(`${server.url}/admin/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//);
    const script = await fetch(`${server.url}/admin/console/assets/js/main.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${server.url}/admin/console/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('refuses a wrong admin token with a clear error and keeps nothing', async () => {
    await page.goto(`${server.url}/admin/console`);
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.locator('#error').textContent()).toContain('the admin token is not valid');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.getByLabel('Admin token').isVisible()).toBe(true);
    await screenshot(page, '01-sign-in-refused');
  });

  it('signs in with the keyboard; the token stays out of the URL', async () => {
    await page.getByLabel('Admin token').fill('');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#stat-total');
    expect(await page.locator('#stat-total').textContent()).toBe(String(3 + FILLER_CLIENTS));
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    expect(await page.locator('#error').isHidden()).toBe(true);
    await screenshot(page, '02-overview');
  });

  it('finds a client by name, by method, and pages through the list', async () => {
    await page.getByRole('link', { name: 'Clients', exact: true }).click();
    await page.waitForSelector('#clients-table');
    expect(await page.locator('#clients-table caption').textContent()).toBe(
      `Clients 1–20 of ${3 + FILLER_CLIENTS}`,
    );
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.waitForFunction(() =>
      document.querySelector('#clients-table caption')?.textContent?.startsWith('Clients 21–'),
    );
    await page.getByLabel('Search by client id or name').fill('payments');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('#clients-table tbody tr').length === 1,
    );
    expect(await page.locator('#clients-table tbody tr').textContent()).toContain('Payments API');
    await page.getByLabel('Search by client id or name').fill('');
    await page.getByLabel('Authentication method').selectOption('client_secret_basic');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() =>
      document.querySelector('#clients-table tbody')?.textContent?.includes('legacy-basic'),
    );
    expect(await page.locator('#clients-table tbody tr').count()).toBe(1);
    await page.getByLabel('Authentication method').selectOption('');
    await page.getByLabel('Search by client id or name').fill('Payments');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'payments-api' }).click();
    await page.waitForSelector('#credentials-table');
    expect(await statusOf('payments-key-1')).toBe('active');
    // Readiness bookkeeping reaches the database within a minute: either answer is legitimate.
    expect(await page.locator('#readiness .badge').textContent()).toMatch(
      /^(passes strict|unknown)$/,
    );
    await screenshot(page, '03-client');
  });

  it('shows the server’s error on a failed rotation and changes nothing', async () => {
    const before = await credentials();
    const privateJwk = { ...k2.publicJwk, d: 'AAAA' };
    await page.getByLabel('New public key (JWK, JSON)').fill(JSON.stringify(privateJwk));
    await page.getByRole('button', { name: 'Rotate', exact: true }).click();
    await confirmDialog();
    await page.waitForSelector('#error:not([hidden])');
    const message = await page.locator('#error').textContent();
    expect(message).toMatch(/^The server refused: invalid_(request|client_metadata): jwk/);
    expect(await page.locator('#credentials-table tbody tr').count()).toBe(before.length);
    expect(await credentials()).toEqual(before);
    await screenshot(page, '04-failed-rotation');
  });

  it('rotates a key: the old one is marked expiring, both work during the overlap', async () => {
    await page.getByLabel('New public key (JWK, JSON)').fill(JSON.stringify(k2.publicJwk));
    await page.getByLabel('Overlap in seconds').first().fill('3600');
    await page.getByRole('button', { name: 'Rotate', exact: true }).click();
    await confirmDialog();
    await page.waitForSelector('#credentials-table tr[data-kid="payments-key-2"]');
    expect(await statusOf('payments-key-1')).toBe('expiring');
    expect(await statusOf('payments-key-2')).toBe('active');
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect((await tokenRequest(k1)).status).toBe(200);
    expect((await tokenRequest(k2)).status).toBe(200);
    await screenshot(page, '05-rotated');
  });

  it('revokes a credential after confirmation; a token request with it then fails', async () => {
    await page.getByRole('button', { name: 'Revoke payments-key-2' }).click();
    // Escape cancels: nothing is revoked.
    await page.keyboard.press('Escape');
    expect(await statusOf('payments-key-2')).toBe('active');
    await page.getByRole('button', { name: 'Revoke payments-key-2' }).click();
    await confirmDialog();
    await page.waitForFunction(
      () =>
        document.querySelector('#credentials-table tr[data-kid="payments-key-2"] .badge')
          ?.textContent === 'revoked',
    );
    const res = await tokenRequest(k2);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('shows the reason code and request id of a deliberately bad assertion', async () => {
    const res = await tokenRequest(k1, 'payments-api', 'https://elsewhere.example');
    expect(res.status).toBe(401);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    let reason = '';
    for (let i = 0; i < 50 && !reason; i += 1) {
      const failures = await admin<{ reason: string; request_id: string }[]>(
        '/admin/clients/payments-api/failures',
      );
      reason = failures.find((failure) => failure.request_id === requestId)?.reason ?? '';
      if (!reason) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reason).toMatch(/^aud_/);
    await page.reload();
    await page.waitForSelector('#failures-table');
    const row = page.locator('#failures-table tbody tr', { hasText: requestId! });
    expect(await row.locator('code.reason').textContent()).toBe(reason);
    await screenshot(page, '06-failures');

    await page.getByRole('link', { name: 'Overview' }).click();
    await page.waitForSelector('#failure-chart');
    expect(await page.locator(`#failure-chart rect[data-reason="${reason}"]`).count()).toBe(1);
    expect(await page.locator('.legend').textContent()).toContain(reason);
    expect(await page.locator('#chart-desc').textContent()).toContain(reason);
    expect(await page.locator('#stat-expiring').textContent()).toBe('1');
    expect(await page.locator('#expiring-table').textContent()).toContain('payments-key-1');
    await screenshot(page, '07-overview-chart');
  });

  it('disables a client after confirmation; its token requests are refused', async () => {
    await page.goto(`${server.url}/admin/console#/clients/payments-api`);
    await page.waitForSelector('#client-status');
    await page.getByRole('button', { name: 'Disable client' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('#client-status').textContent()).toBe('enabled');
    await page.getByRole('button', { name: 'Disable client' }).click();
    await confirmDialog();
    await page.waitForFunction(
      () => document.querySelector('#client-status')?.textContent === 'disabled',
    );
    expect((await tokenRequest(k1)).status).toBe(401);
    expect(await page.getByRole('button', { name: 'Enable client' }).isVisible()).toBe(true);
    await screenshot(page, '08-disabled');
  });

  it('issues an initial access token that registers a client, then revokes it', async () => {
    await page.getByRole('link', { name: 'Initial access tokens' }).click();
    await page.getByLabel('Description').fill('ci bootstrap');
    await page.getByLabel('Uses allowed').fill('2');
    await page.getByRole('button', { name: 'Issue token' }).click();
    await page.waitForSelector('#issued-token');
    const token = await page.locator('#issued-token').inputValue();
    expect(token.length).toBeGreaterThan(30);
    expect(page.url()).not.toContain(token);
    await screenshot(page, '09-token-issued');

    const register = (bearer: string) =>
      fetch(`${server.url}/oauth/register`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_name: 'Registered with console token' }),
      });
    expect((await register(token)).status).toBe(201);
    await page.reload();
    await page.waitForSelector('#tokens-table');
    const row = page.locator('#tokens-table tbody tr', { hasText: 'ci bootstrap' });
    expect(await row.textContent()).toContain('1 / 2');
    expect(await page.locator('#issued-token').count()).toBe(0);

    await row.getByRole('button', { name: 'Revoke token ci bootstrap' }).click();
    await confirmDialog();
    await page.waitForFunction(() =>
      document.querySelector('#tokens-table tbody')?.textContent?.includes('revoked'),
    );
    expect((await register(token)).status).toBe(401);
    await screenshot(page, '10-tokens');
  });

  it('caused no CSP violation, no script error and no request off loopback', () => {
    expect(watch.cspViolations).toEqual([]);
    expect(watch.consoleErrors.filter((text) => !/status of (400|401)/.test(text))).toEqual([]);
    expect(watch.offLoopback).toEqual([]);
    expect(watch.requests.length).toBeGreaterThan(20);
  });
});
