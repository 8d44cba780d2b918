import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { startTestServer, type TestServer } from '../utils/test-server.js';

const TEST_REDIS_URL = process.env.TEST_REDIS_URL || undefined;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('health endpoints', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  const start = async (env: Record<string, string> = {}) => {
    const server = await startTestServer('sqlite', env);
    servers.push(server);
    return server;
  };

  it('liveness and readiness answer 200 with the database up', async () => {
    const server = await start();
    const live = await request(server.url).get('/health/live');
    expect(live.status).toBe(200);
    expect(live.headers['cache-control']).toMatch(/no-store/);
    expect(live.body).toMatchObject({ status: 'ok' });
    const ready = await request(server.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.headers['cache-control']).toMatch(/no-store/);
    expect(ready.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' } },
      error: {},
    });
    expect(ready.body.details.redis).toBeUndefined();
    // Without METRICS_TOKEN the scrape endpoint is open.
    expect((await request(server.url).get('/metrics')).status).toBe(200);
  }, 60_000);

  it('readiness answers 503 naming Redis when REDIS_URL is set and Redis is down; liveness stays 200', async () => {
    const port = await closedPort();
    const server = await start({ REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` });
    const ready = await request(server.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      info: { database: { status: 'up' } },
      error: { redis: { status: 'down' } },
    });
    expect(typeof ready.body.error.redis.message).toBe('string');
    // Neither the URL nor its password leaks into the answer.
    expect(JSON.stringify(ready.body)).not.toContain('hunter2');
    expect(JSON.stringify(ready.body)).not.toContain(String(port));
    expect((await request(server.url).get('/health/live')).status).toBe(200);
  }, 60_000);

  (TEST_REDIS_URL ? it : it.skip)(
    'readiness pings Redis when REDIS_URL is set (TEST_REDIS_URL)',
    async () => {
      const server = await start({ REDIS_URL: TEST_REDIS_URL! });
      let ready = await request(server.url).get('/health/ready');
      for (let i = 0; i < 20 && ready.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100)); // first connection
        ready = await request(server.url).get('/health/ready');
      }
      expect(ready.status).toBe(200);
      expect(ready.body.info).toMatchObject({
        database: { status: 'up' },
        redis: { status: 'up' },
      });
    },
    60_000,
  );
});
