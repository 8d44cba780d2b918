import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestServer, type TestServer } from '../utils/test-server.js';

/** What the server wrote before closing a raw connection, and how long it took. */
function trickle(
  url: string,
  head: string,
  firstBytes: string,
): Promise<{ text: string; closedAfterMs: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(head + firstBytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () =>
      resolve({
        text: Buffer.concat(chunks).toString('utf8'),
        closedAfterMs: Date.now() - started,
      }),
    );
    // The rest of the body never comes; the test gives up long after the server should have.
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
}

/** SPEC S10: a client sending its request slowly cannot hold a connection (REQUEST_TIMEOUT_MS). */
describe('request timeout', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('sqlite', { REQUEST_TIMEOUT_MS: '700' });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('answers 408 and closes the connection when the body does not arrive in time', async () => {
    const head =
      'POST /oauth/token HTTP/1.1\r\nHost: localhost\r\n' +
      'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n';
    const result = await trickle(server.url, head, 'grant_type=client_credentials');
    expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(500);
    expect(result.closedAfterMs).toBeLessThan(8_000);
  });

  it('still serves a request that arrives in time', async () => {
    const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
  });
});
