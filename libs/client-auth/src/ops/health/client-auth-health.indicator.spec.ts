import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ClientAuthHealthIndicator, pingDependency } from './client-auth-health.indicator.js';

describe('pingDependency', () => {
  it('reports up with the response time', async () => {
    const result = await pingDependency('db', async () => 'ok');
    expect(result.db).toMatchObject({ status: 'up' });
    expect(result.db.responseTimeMs).toBeGreaterThanOrEqual(0);
  });

  it('reports down with the error code only, never the driver message', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432 user=admin'), {
      code: 'ECONNREFUSED',
    });
    const result = await pingDependency('db', async () => {
      throw refused;
    });
    expect(result.db).toMatchObject({ status: 'down', message: 'ECONNREFUSED' });
    expect(JSON.stringify(result)).not.toContain('10.1.2.3');
    const wrapped = await pingDependency('db', async () => {
      throw Object.assign(new Error('query failed: secret'), { driverError: { code: '57P01' } });
    });
    expect(wrapped.db.message).toBe('57P01');
    const plain = await pingDependency('db', async () => {
      throw new TypeError('with a secret inside');
    });
    expect(plain.db.message).toBe('TypeError');
  });

  it('reports down when the ping outlives its deadline', async () => {
    const started = Date.now();
    const result = await pingDependency('slow', () => new Promise(() => undefined), 50);
    expect(result.slow).toMatchObject({ status: 'down', message: 'timed out after 50 ms' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('ClientAuthHealthIndicator', () => {
  const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
  const indicator = new ClientAuthHealthIndicator({
    get: () => dataSource,
  } as unknown as ModuleRef);

  beforeAll(async () => {
    await dataSource.initialize();
  });
  afterAll(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
  });

  it('pings the database with SELECT 1', async () => {
    expect((await indicator.database()).database.status).toBe('up');
    const idle = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    const down = await indicator.database('registry', { dataSource: idle });
    expect(down.registry).toMatchObject({ status: 'down' });
  });

  it('pings Redis and wants PONG', async () => {
    expect((await indicator.redis({ ping: async () => 'PONG' })).redis.status).toBe('up');
    expect((await indicator.redis({ ping: async () => 'LOADING' })).redis.status).toBe('down');
    const refused = await indicator.redis(
      {
        ping: async () => {
          throw Object.assign(new Error('Connection is closed.'), { code: 'ECONNREFUSED' });
        },
      },
      'cache',
    );
    expect(refused.cache).toMatchObject({ status: 'down', message: 'ECONNREFUSED' });
  });
});
