import { Agent, request as httpRequest } from 'node:http';
import { afterAll, describe, expect, it } from '@jest/globals';
import { assertionForm, generateTestKey, signAssertion } from '../utils/assertions.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from '../utils/loopback-http.js';
import { startTestServer, TEST_ISSUER } from '../utils/test-server.js';

interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/** One request on a fresh connection (or `agent`'s), answering the status and body. */
function send(
  baseUrl: string,
  path: string,
  options: { method?: string; form?: Record<string, string>; agent?: Agent } = {},
): Promise<RawResponse> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${baseUrl}${path}`,
      {
        method: options.method ?? (body ? 'POST' : 'GET'),
        agent: options.agent ?? false,
        headers: body
          ? {
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
            }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `probe` resolves true, for at most `ms`. */
async function eventually(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(25);
  }
  return false;
}

const refused = (url: string) =>
  send(url, '/health/live').then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
  );

/**
 * A reference server with a `jwks_uri` client whose key set server answers slowly, so a token
 * request can be caught in flight; `slow()` sends one and resolves once the server is waiting
 * on the key set.
 */
async function slowScenario(env: Record<string, string> = {}) {
  const key = await generateTestKey('ES256');
  let delayMs = 0;
  const jwks: LoopbackServer = await startLoopbackServer(async (_req, res) => {
    await sleep(delayMs);
    sendJson(res, 200, { keys: [key.publicJwk] });
  });
  const server = await startTestServer('sqlite', { JWKS_URI_ALLOW_HOSTS: '127.0.0.1', ...env });
  await server.registry.createClient({
    clientId: 'slow-keys',
    tokenEndpointAuthMethod: 'private_key_jwt',
    jwksUri: `${jwks.url}/jwks`,
    grantTypes: ['client_credentials'],
  });
  return {
    server,
    jwks,
    async slow(ms: number): Promise<{ response: Promise<RawResponse>; sentAt: number }> {
      delayMs = ms;
      const fetchesBefore = jwks.requests.length;
      const assertion = await signAssertion(
        key.privateKey,
        key.alg,
        { clientId: 'slow-keys', aud: TEST_ISSUER },
        { kid: key.kid },
      );
      const sentAt = Date.now();
      const response = send(server.url, '/oauth/token', { form: assertionForm(assertion) });
      // In flight: the server is now waiting on the key set.
      expect(await eventually(async () => jwks.requests.length > fetchesBefore, 5000)).toBe(true);
      return { response, sentAt };
    },
  };
}

describe('graceful shutdown', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('app.close(): the request in flight completes, new connections are refused', async () => {
    const scenario = await slowScenario();
    const { server } = scenario;
    cleanups.push(() => scenario.jwks.close());

    // An idle keep-alive connection must not hold the shutdown open.
    const keepAlive = new Agent({ keepAlive: true });
    cleanups.push(async () => keepAlive.destroy());
    expect((await send(server.url, '/health/live', { agent: keepAlive })).status).toBe(200);

    const { response } = await scenario.slow(1000);
    const closing = server.close();
    let closed = false;
    void closing.then(() => (closed = true));

    // The listener is closed at once: a new connection is refused while the request runs.
    expect(await eventually(() => refused(server.url), 500)).toBe(true);
    expect(closed).toBe(false);

    const answered = await response;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ token_type: 'Bearer' });
    const answeredAt = Date.now();
    await closing;
    // Shutdown finished right after the last response, not after a keep-alive timeout.
    expect(Date.now() - answeredAt).toBeLessThan(2000);
  }, 30_000);

  it('SIGTERM: readiness turns 503 during the drain delay, then the server stops accepting and finishes the request in flight', async () => {
    const scenario = await slowScenario({ SHUTDOWN_DELAY_MS: '700' });
    const { server } = scenario;
    cleanups.push(() => scenario.jwks.close());
    // Nest's SIGTERM handler (enableShutdownHooks) ends by re-raising the signal on the process
    // to terminate it; record that instead of killing the test runner. Jest gives each test file
    // its own `process` object, so the handler is reached by emitting the signal on it.
    const reraised: string[] = [];
    const kill = process.kill;
    process.kill = ((pid: number, signal?: string | number) => {
      if (pid === process.pid) {
        reraised.push(String(signal));
        return true;
      }
      return kill.call(process, pid, signal);
    }) as typeof process.kill;
    cleanups.push(async () => {
      process.kill = kill;
    });

    expect((await send(server.url, '/health/ready')).status).toBe(200);
    const { response, sentAt } = await scenario.slow(2000);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    process.emit('SIGTERM', 'SIGTERM');

    // During the delay the listener still accepts, and readiness tells the balancer to stop.
    let readiness: RawResponse | undefined;
    expect(
      await eventually(async () => {
        readiness = await send(server.url, '/health/ready');
        return readiness.status === 503;
      }, 500),
    ).toBe(true);
    expect(JSON.parse(readiness!.body)).toMatchObject({ status: 'shutting_down' });
    // Liveness stays up: a draining process must not be restarted.
    expect((await send(server.url, '/health/live')).status).toBe(200);

    // Joins the shutdown the signal started.
    const closing = server.close();
    expect(await eventually(() => refused(server.url), 2000)).toBe(true);

    const answered = await response;
    expect(answered.status).toBe(200);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1900);
    await closing;
    expect(reraised).toEqual(['SIGTERM']);
  }, 30_000);
});
