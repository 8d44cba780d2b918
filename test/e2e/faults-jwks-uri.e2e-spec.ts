import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import {
  AuthenticatedClient,
  type AuthenticatedClientInfo,
  type ClientAuthenticationFailure,
  ClientAuthGuard,
  ClientAuthMetrics,
  ClientAuthMetricsModule,
  ClientAuthModule,
} from 'nestjs-client-auth';
import {
  assertionForm,
  generateTestKey,
  signAssertion,
  type TestKeyPair,
} from '../utils/assertions.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from '../utils/loopback-http.js';
import { startTestServer, TEST_ISSUER, type TestServer } from '../utils/test-server.js';

const GENERIC = { error: 'invalid_client', error_description: 'client authentication failed' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the key set server answers one client's `jwks_uri`. */
type Mode =
  | 'ok'
  | 'slow'
  | 'html'
  | 'not-json'
  | 'not-a-jwks'
  | 'huge'
  | 'huge-chunked'
  | 'error-500'
  | 'redirect';

/**
 * A key set server with one path per client (`/jwks/<client>`), each switchable between a
 * good answer and a fault, counting the fetches per path.
 */
class KeySetServer {
  readonly modes = new Map<string, Mode>();
  readonly keys = new Map<string, TestKeyPair[]>();
  delayMs = 0;
  #server!: LoopbackServer;

  async start(): Promise<void> {
    this.#server = await startLoopbackServer((req, res) => this.#answer(req.url, res));
  }

  url(client: string): string {
    return `${this.#server.url}/jwks/${client}`;
  }

  fetches(client: string): number {
    return this.#server.requests.filter((r) => r.url === `/jwks/${client}`).length;
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  async #answer(url: string, res: ServerResponse): Promise<void> {
    const client = url.replace(/^\/jwks\//, '');
    const body = { keys: (this.keys.get(client) ?? []).map((key) => key.publicJwk) };
    if (this.delayMs > 0) await sleep(this.delayMs);
    switch (this.modes.get(client) ?? 'ok') {
      case 'ok':
        return sendJson(res, 200, body);
      case 'slow':
        await sleep(6500); // beyond the 5 s fetch deadline (SPEC S6)
        return res.destroyed ? undefined : sendJson(res, 200, body);
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<html>maintenance</html>');
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"keys": [ this is not json');
      case 'not-a-jwks':
        return sendJson(res, 200, { keys: 'none today' });
      case 'huge': {
        const padding = 'x'.repeat(1024 * 1024);
        return sendJson(res, 200, { ...body, padding });
      }
      case 'huge-chunked': {
        // No Content-Length: the cap must hold on the stream itself.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        for (let i = 0; i < 64 && !res.destroyed; i++) {
          res.write(chunk);
          await sleep(1);
        }
        return void res.end();
      }
      case 'error-500':
        return sendJson(res, 500, { error: 'boom' });
      case 'redirect':
        res.writeHead(302, { location: `${this.url(client)}-elsewhere` });
        return void res.end();
    }
  }
}

describe('jwks_uri faults at the token endpoint (reference server)', () => {
  let server: TestServer;
  const jwks = new KeySetServer();

  beforeAll(async () => {
    await jwks.start();
    server = await startTestServer('sqlite', { JWKS_URI_ALLOW_HOSTS: '127.0.0.1' });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await jwks.close();
  });

  /** Registers a `jwks_uri` client while its key set is good; returns its key. */
  const register = async (clientId: string) => {
    const key = await generateTestKey('ES256');
    jwks.keys.set(clientId, [key]);
    jwks.modes.set(clientId, 'ok');
    await server.registry.createClient({
      clientId,
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwksUri: jwks.url(clientId),
      grantTypes: ['client_credentials'],
    });
    return key;
  };
  const token = async (clientId: string, key: TestKeyPair, kid = key.kid) =>
    request(server.url)
      .post('/oauth/token')
      .type('form')
      .send(
        assertionForm(
          await signAssertion(key.privateKey, key.alg, { clientId, aud: TEST_ISSUER }, { kid }),
        ),
      );
  /** The client's latest failure record (reason code and operator detail, SPEC S2.9). */
  const lastFailure = async (clientId: string) => {
    for (let i = 0; i < 40; i++) {
      const [latest] = await server.registry.listFailures({ clientId, limit: 1 });
      if (latest) return latest;
      await sleep(100);
    }
    throw new Error(`no failure recorded for ${clientId}`);
  };

  /**
   * Every fault at once (they are independent clients), so the 5 s deadline and the failure
   * records' write delay are waited for once: each case then checks its own answer.
   */
  describe('down, slow, garbage, huge, errors and redirects', () => {
    const cases: [Mode | 'down', RegExp][] = [
      ['down', /network: .*could not be fetched \(ECONNREFUSED\)/],
      ['slow', /timeout: .*took longer than 5000 ms/],
      ['html', /media_type: .*not JSON/],
      ['not-json', /invalid_json: .*valid JSON/],
      ['not-a-jwks', /invalid_jwks/],
      ['huge', /too_large: .*exceeds 65536 bytes/],
      ['huge-chunked', /too_large: .*exceeds 65536 bytes/],
      ['error-500', /http_status: .*answered 500/],
      ['redirect', /redirect_refused: .*answered 302/],
    ];
    const answers = new Map<string, { res: request.Response; tookMs: number }>();
    let elsewhere: LoopbackServer;

    beforeAll(async () => {
      // "down": registered against a server of its own, which then goes away.
      const downKey = await generateTestKey('ES256');
      elsewhere = await startLoopbackServer((_req, res) =>
        sendJson(res, 200, { keys: [downKey.publicJwk] }),
      );
      await server.registry.createClient({
        clientId: 'fault-down',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: `${elsewhere.url}/jwks`,
        grantTypes: ['client_credentials'],
      });
      await elsewhere.close();
      await Promise.all(
        cases.map(async ([mode]) => {
          const clientId = `fault-${mode}`;
          let key = downKey;
          if (mode !== 'down') {
            key = await register(clientId);
            jwks.modes.set(clientId, mode);
          }
          const started = Date.now();
          const res = await token(clientId, key);
          answers.set(mode, { res, tookMs: Date.now() - started });
        }),
      );
    }, 30_000);

    it.each(cases)('%s: invalid_client naming the cause, never a 5xx', async (mode, cause) => {
      const { res, tookMs } = answers.get(mode)!;
      expect(res.status).toBe(401);
      expect(res.body).toEqual(GENERIC);
      expect(res.headers['cache-control']).toBe('no-store');
      if (mode === 'slow') {
        // The 5 s fetch deadline (SPEC S6), then a clean answer: never a hang.
        expect(tookMs).toBeGreaterThanOrEqual(4900);
        expect(tookMs).toBeLessThan(6500);
      } else {
        expect(tookMs).toBeLessThan(2000);
      }
      const failure = await lastFailure(`fault-${mode}`);
      expect(failure.reason).toBe('jwks_unavailable');
      expect(failure.detail).toMatch(cause);
    });
  });

  it('a cached key set keeps serving while the jwks_uri is down, through failed refetches', async () => {
    const key = await register('cached');
    expect((await token('cached', key)).status).toBe(200);
    jwks.modes.set('cached', 'error-500');
    const fetchesBefore = jwks.fetches('cached');
    expect((await token('cached', key)).status).toBe(200);
    expect(jwks.fetches('cached')).toBe(fetchesBefore); // served from the cache
    // An unknown kid forces a refetch (SPEC S2.5), which fails: that request is refused …
    const stranger = await token('cached', key, 'kid-nobody-has');
    expect(stranger.status).toBe(401);
    expect(jwks.fetches('cached')).toBe(fetchesBefore + 1);
    // … and the cached keys keep serving the client.
    expect((await token('cached', key)).status).toBe(200);
  });

  it('20 concurrent requests for one cold client cause one fetch', async () => {
    const key = await register('concurrent');
    const afterRegistration = jwks.fetches('concurrent');
    jwks.delayMs = 300;
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => token('concurrent', key)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    } finally {
      jwks.delayMs = 0;
    }
    expect(jwks.fetches('concurrent') - afterRegistration).toBe(1);
  });
});

/** A host application with short key set lifetimes, to watch the stale limit at work. */
describe('jwks_uri stale limit (library, short cache lifetimes)', () => {
  let app: INestApplication;
  let url: string;
  let key: TestKeyPair;
  let jwksUp = true;
  let jwks: LoopbackServer;
  const failures: ClientAuthenticationFailure[] = [];

  @Controller()
  class GuardedController {
    @Post('token')
    @UseGuards(ClientAuthGuard)
    token(@AuthenticatedClient() client: AuthenticatedClientInfo) {
      return { client_id: client.clientId };
    }
  }

  beforeAll(async () => {
    key = await generateTestKey('ES256');
    jwks = await startLoopbackServer((_req, res) =>
      jwksUp ? sendJson(res, 200, { keys: [key.publicJwk] }) : sendJson(res, 503, {}),
    );
    @Module({
      imports: [
        // Its observer is notified alongside the `observer` option below.
        ClientAuthMetricsModule.forRoot(),
        ClientAuthModule.forRoot({
          issuer: TEST_ISSUER,
          clients: [
            {
              clientId: 'stale-client',
              enabled: true,
              tokenEndpointAuthMethod: 'private_key_jwt',
              jwksUri: `${jwks.url}/jwks`,
              credentials: [],
              grantTypes: ['client_credentials'],
              metadata: {},
            },
          ],
          jwks: {
            allowHosts: ['127.0.0.1'],
            minTtlSeconds: 1,
            maxTtlSeconds: 1,
            maxStaleSeconds: 2,
            cooldownSeconds: 0,
          },
          observer: { onFailure: (event) => failures.push(event) },
        }),
      ],
      controllers: [GuardedController],
    })
    class StaleScenarioModule {}
    app = await NestFactory.create(StaleScenarioModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await jwks?.close();
  });

  const authenticate = async () =>
    request(url)
      .post('/token')
      .type('form')
      .send(
        assertionForm(
          await signAssertion(
            key.privateKey,
            key.alg,
            { clientId: 'stale-client', aud: TEST_ISSUER },
            { kid: key.kid },
          ),
        ),
      );

  it('serves the stale set within maxStaleSeconds, refuses beyond, and recovers by itself', async () => {
    const start = Date.now();
    expect((await authenticate()).status).toBe(201);
    jwksUp = false;
    await sleep(1300); // expired (1 s lifetime), within the stale limit (2 s more)
    const stale = await authenticate();
    expect(stale.status).toBe(201);
    expect(jwks.requests.length).toBe(2); // it did try to refresh
    await sleep(Math.max(0, start + 3400 - Date.now())); // beyond expiry + stale limit
    const refused = await authenticate();
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(GENERIC);
    expect(failures.at(-1)).toMatchObject({ reason: 'jwks_unavailable', clientId: 'stale-client' });
    const metrics = await app.get(ClientAuthMetrics).metrics();
    expect(metrics).toContain(
      'client_auth_authentications_total{method="private_key_jwt",outcome="failure",reason="jwks_unavailable"} 1',
    );
    expect(metrics).toContain('client_auth_jwks_stale_served_total 1');
    jwksUp = true;
    expect((await authenticate()).status).toBe(201);
  }, 20_000);
});
