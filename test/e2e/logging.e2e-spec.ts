import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ClientRegistryService } from 'nestjs-client-auth';
import { createApp } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/app-config.js';
import {
  assertionForm,
  basicAuthorization,
  generateTestKey,
  signAssertion,
} from '../utils/assertions.js';
import { TEST_ISSUER } from '../utils/test-server.js';

/** SPEC S10: structured JSON logs with request ids, never a secret, an assertion or a token. */
describe('structured logs', () => {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  let app: INestApplication;
  let url: string;
  let dataDir: string;
  let secret: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'client-auth-logs-'));
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          raw.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const config = loadConfig({ ISSUER: TEST_ISSUER, DATA_DIR: dataDir, LOG_LEVEL: 'debug' });
    app = await createApp(config, { logStream: stream });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const registry = app.get(ClientRegistryService);
    secret = (
      await registry.createClient({
        clientId: 'logged-basic',
        tokenEndpointAuthMethod: 'client_secret_basic',
      })
    ).clientSecret!;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes one JSON line per request, joined to the response by its request id', async () => {
    const res = await request(url)
      .post('/oauth/token')
      .type('form')
      .set('X-Request-Id', 'trace-me-123')
      .set('Authorization', basicAuthorization('logged-basic', 'wrong-secret-value'))
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.headers['x-request-id']).toBe('trace-me-123');
    const mine = lines.filter((line) => JSON.stringify(line).includes('trace-me-123'));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    const completion = mine.find((line) => (line.res as { statusCode?: number })?.statusCode);
    expect(completion).toMatchObject({
      req: { id: 'trace-me-123', method: 'POST', path: '/oauth/token' },
      res: { statusCode: 401 },
    });
    expect(typeof completion!.level).toBe('number');
    // The library's failure line carries the stable reason code, bound to the same request.
    expect(JSON.stringify(mine)).toContain('secret_invalid');
  });

  it('never logs a secret, an assertion, an access token or an Authorization header', async () => {
    const key = await generateTestKey('ES256');
    const assertion = await signAssertion(key.privateKey, 'ES256', {
      clientId: 'nobody',
      aud: TEST_ISSUER,
    });
    await request(url).post('/oauth/token').type('form').send(assertionForm(assertion));
    const ok = await request(url)
      .post('/oauth/token?client_secret=in-the-query')
      .type('form')
      .set('Authorization', basicAuthorization('logged-basic', secret))
      .send({ grant_type: 'client_credentials' });
    expect(ok.status).toBe(200);
    await request(url)
      .post('/oauth/introspect')
      .type('form')
      .set('Authorization', basicAuthorization('logged-basic', secret))
      .send({ token: ok.body.access_token });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const all = raw.join('\n');
    for (const forbidden of [
      secret,
      assertion,
      assertion.split('.')[2]!,
      ok.body.access_token as string,
      'wrong-secret-value',
      'in-the-query',
      basicAuthorization('logged-basic', secret).slice(6),
    ]) {
      expect(all).not.toContain(forbidden);
    }
  });
});
