import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource, IsNull, type Logger } from 'typeorm';
import { fixtureKey } from '../../../../test/fixtures/keys/index.js';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../test/utils/database.js';
import { DependencyUnavailableError } from '../core/errors.js';
import { ClientRegistryService } from './client-registry.service.js';
import { AuthFailureEntity } from './entities/auth-failure.entity.js';
import { ClientCredentialEntity } from './entities/client-credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import { SecretCipher } from './secret-cipher.js';
import { TypeOrmClientStore } from './typeorm-client-store.js';

const KEY = randomBytes(32);

/** Counts the statements a DataSource sends, by a prefix of their SQL. */
class CountingLogger implements Logger {
  readonly queries: string[] = [];
  logQuery(query: string): void {
    this.queries.push(query);
  }
  count(pattern: RegExp): number {
    return this.queries.filter((query) => pattern.test(query)).length;
  }
  reset(): void {
    this.queries.length = 0;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

const SELECT_CLIENT = /^SELECT .* FROM "oauth_client" /;
const UPDATE_CLIENT = /^UPDATE "oauth_client" /;
const UPDATE_CREDENTIAL = /^UPDATE "oauth_client_credential" /;

/** A controllable clock in epoch ms. */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  const clock = { now: start, read: () => clock.now, advance: (ms: number) => (clock.now += ms) };
  return clock;
}

describe.each(TEST_DATABASE_KINDS)('TypeOrmClientStore on %s (SPEC S2, S3)', (kind) => {
  const db = withTestDatabase(kind);
  const logger = new CountingLogger();
  let counted: DataSource;
  let registry: ClientRegistryService;
  const cipher = new SecretCipher(KEY);

  beforeAll(async () => {
    counted = new DataSource({ ...db.options, logger, logging: ['query'] });
    await counted.initialize();
    registry = new ClientRegistryService(db.dataSource, cipher);
  });
  afterAll(async () => {
    await counted?.destroy();
  });

  async function createKeyClient(clientId: string) {
    return registry.createClient({
      clientId,
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks: { keys: [fixtureKey('ES256').publicJwk] },
    });
  }

  describe('findClient', () => {
    it('maps the stored client and returns the same frozen object while cached', async () => {
      await createKeyClient('cache-same');
      const store = new TypeOrmClientStore(counted, cipher);
      const first = await store.findClient('cache-same');
      expect(first).toMatchObject({
        clientId: 'cache-same',
        enabled: true,
        tokenEndpointAuthMethod: 'private_key_jwt',
        credentials: [{ kind: 'public_key', kid: fixtureKey('ES256').kid, status: 'active' }],
      });
      const second = await store.findClient('cache-same');
      expect(second).toBe(first);
      expect(second!.credentials[0]).toBe(first!.credentials[0]);
      expect(second!.credentials[0]!.jwk).toBe(first!.credentials[0]!.jwk);
      expect(Object.isFrozen(first)).toBe(true);
      expect(Object.isFrozen(first!.credentials[0]!.jwk)).toBe(true);
    });

    it('serves from memory for cacheTtlMs, then reloads and sees changes', async () => {
      await createKeyClient('cache-ttl');
      const clock = manualClock();
      const store = new TypeOrmClientStore(counted, cipher, {
        cacheTtlMs: 10_000,
        clock: clock.read,
      });
      logger.reset();
      const first = await store.findClient('cache-ttl');
      await registry.setEnabled('cache-ttl', false); // another instance: no invalidate here
      clock.advance(9_999);
      expect(await store.findClient('cache-ttl')).toBe(first);
      expect(logger.count(SELECT_CLIENT)).toBe(1);
      clock.advance(1);
      const reloaded = await store.findClient('cache-ttl');
      expect(reloaded).not.toBe(first);
      expect(reloaded!.enabled).toBe(false);
      expect(logger.count(SELECT_CLIENT)).toBe(2);
    });

    it('drops the entry on invalidate', async () => {
      await createKeyClient('cache-invalidate');
      const store = new TypeOrmClientStore(counted, cipher);
      const first = await store.findClient('cache-invalidate');
      await registry.setEnabled('cache-invalidate', false);
      expect((await store.findClient('cache-invalidate'))!.enabled).toBe(true);
      store.invalidate('cache-invalidate');
      const second = await store.findClient('cache-invalidate');
      expect(second).not.toBe(first);
      expect(second!.enabled).toBe(false);
    });

    it('is invalidated by the registry service on every change', async () => {
      const store = new TypeOrmClientStore(counted, cipher, { cacheTtlMs: 60_000 });
      const linked = new ClientRegistryService(db.dataSource, cipher, store);
      await linked.createClient({
        clientId: 'cache-linked',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [fixtureKey('ES256').publicJwk] },
      });
      expect((await store.findClient('cache-linked'))!.credentials).toHaveLength(1);
      const added = await linked.addPublicKey('cache-linked', fixtureKey('ES256', 1).publicJwk);
      expect((await store.findClient('cache-linked'))!.credentials).toHaveLength(2);
      await linked.revokeCredential('cache-linked', added.id);
      const client = await store.findClient('cache-linked');
      expect(client!.credentials.find((c) => c.id === added.id)!.status).toBe('revoked');
      await linked.setEnabled('cache-linked', false);
      expect((await store.findClient('cache-linked'))!.enabled).toBe(false);
      await linked.deleteClient('cache-linked');
      expect(await store.findClient('cache-linked')).toBeUndefined();
    });

    it('remembers "not found" briefly (negative cache), separately from the positive TTL', async () => {
      const clock = manualClock();
      const store = new TypeOrmClientStore(counted, cipher, {
        negativeCacheTtlMs: 2_000,
        cacheTtlMs: 10_000,
        clock: clock.read,
      });
      logger.reset();
      expect(await store.findClient('neg-later')).toBeUndefined();
      await createKeyClient('neg-later'); // created elsewhere, without invalidation
      clock.advance(1_999);
      expect(await store.findClient('neg-later')).toBeUndefined();
      expect(logger.count(SELECT_CLIENT)).toBe(1);
      clock.advance(1);
      expect((await store.findClient('neg-later'))!.clientId).toBe('neg-later');
      expect(logger.count(SELECT_CLIENT)).toBe(2);
    });

    it('collapses concurrent lookups of one id into one query (single flight)', async () => {
      await createKeyClient('flight');
      const store = new TypeOrmClientStore(counted, cipher);
      logger.reset();
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.findClient('flight')),
      );
      expect(logger.count(SELECT_CLIENT)).toBe(1);
      for (const result of results) expect(result).toBe(results[0]);
      logger.reset();
      await Promise.all(Array.from({ length: 20 }, () => store.findClient('flight-missing')));
      expect(logger.count(SELECT_CLIENT)).toBe(1);
    });

    it('does not cache what a lookup read when it was invalidated meanwhile', async () => {
      await createKeyClient('flight-stale');
      const store = new TypeOrmClientStore(counted, cipher);
      const stale = store.findClient('flight-stale');
      store.invalidate('flight-stale');
      await stale;
      logger.reset();
      await store.findClient('flight-stale');
      expect(logger.count(SELECT_CLIENT)).toBe(1);
    });

    it('is bounded: the least recently used entry is evicted', async () => {
      for (const id of ['lru-a', 'lru-b', 'lru-c']) await createKeyClient(id);
      const store = new TypeOrmClientStore(counted, cipher, { maxCacheEntries: 2 });
      const a = await store.findClient('lru-a');
      await store.findClient('lru-b');
      expect(await store.findClient('lru-a')).toBe(a); // a is now the most recent
      await store.findClient('lru-c'); // evicts b
      logger.reset();
      expect(await store.findClient('lru-a')).toBe(a);
      expect(logger.count(SELECT_CLIENT)).toBe(0);
      await store.findClient('lru-b');
      expect(logger.count(SELECT_CLIENT)).toBe(1);
    });

    it.each([[''], ['x'.repeat(256)]])(
      'answers undefined for an impossible id %# without a query',
      async (id) => {
        const store = new TypeOrmClientStore(counted, cipher);
        logger.reset();
        expect(await store.findClient(id)).toBeUndefined();
        expect(logger.queries).toHaveLength(0);
      },
    );

    it('throws DependencyUnavailableError when the secrets do not decrypt (wrong key)', async () => {
      await registry.createClient({
        clientId: 'wrong-key',
        tokenEndpointAuthMethod: 'client_secret_jwt',
      });
      const store = new TypeOrmClientStore(counted, new SecretCipher(randomBytes(32)));
      await expect(store.findClient('wrong-key')).rejects.toMatchObject({
        dependency: 'secret-cipher',
        error: 'temporarily_unavailable',
      });
    });
  });

  describe('recordSuccess', () => {
    it('coalesces many successes into one write per client, keeping the latest values', async () => {
      const { client } = await createKeyClient('success-coalesce');
      const credentialId = client.credentials[0]!.id;
      const store = new TypeOrmClientStore(counted, cipher, { successWriteIntervalMs: 60_000 });
      const base = Date.UTC(2026, 0, 1, 12);
      logger.reset();
      for (let i = 0; i < 100; i++) {
        store.recordSuccess({
          clientId: 'success-coalesce',
          method: 'private_key_jwt',
          credentialId,
          audienceForm: i === 99 ? 'issuer' : 'token_endpoint',
          typ: i === 99 ? 'client-authentication+jwt' : undefined,
          at: new Date(base + i * 1000),
        });
      }
      // One success arriving late with an older timestamp must not win.
      store.recordSuccess({
        clientId: 'success-coalesce',
        method: 'private_key_jwt',
        credentialId,
        audienceForm: 'endpoint_url',
        at: new Date(base),
      });
      expect(logger.queries).toHaveLength(0); // nothing written on the request path
      await store.flush();
      expect(logger.count(UPDATE_CLIENT)).toBe(1);
      expect(logger.count(UPDATE_CREDENTIAL)).toBe(1);

      const row = await db.dataSource
        .getRepository(ClientEntity)
        .findOneByOrFail({ clientId: 'success-coalesce' });
      expect(row.lastAuthenticatedAt).toEqual(new Date(base + 99_000));
      expect(row.lastAudienceForm).toBe('issuer');
      expect(row.lastAssertionTyp).toBe('client-authentication+jwt');
      expect(row.version).toBe(1); // bookkeeping is not a registry change
      const credential = await db.dataSource
        .getRepository(ClientCredentialEntity)
        .findOneByOrFail({ id: credentialId });
      expect(credential.lastUsedAt).toEqual(new Date(base + 99_000));

      logger.reset();
      await store.flush();
      expect(logger.queries).toHaveLength(0);
    });

    it('never moves the recorded time backwards (another instance wrote a newer one)', async () => {
      await createKeyClient('success-monotonic');
      const store = new TypeOrmClientStore(counted, cipher);
      store.recordSuccess({
        clientId: 'success-monotonic',
        method: 'private_key_jwt',
        audienceForm: 'issuer',
        at: new Date(2_000_000),
      });
      await store.flush();
      store.recordSuccess({
        clientId: 'success-monotonic',
        method: 'private_key_jwt',
        audienceForm: 'token_endpoint',
        at: new Date(1_000_000),
      });
      await store.flush();
      const row = await db.dataSource
        .getRepository(ClientEntity)
        .findOneByOrFail({ clientId: 'success-monotonic' });
      expect(row.lastAuthenticatedAt).toEqual(new Date(2_000_000));
      expect(row.lastAudienceForm).toBe('issuer');
    });

    it('leaves the audience record alone for methods without an assertion', async () => {
      await registry.createClient({
        clientId: 'success-basic',
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      const store = new TypeOrmClientStore(counted, cipher);
      store.recordSuccess({
        clientId: 'success-basic',
        method: 'client_secret_basic',
        at: new Date(5_000),
      });
      await store.flush();
      const row = await db.dataSource
        .getRepository(ClientEntity)
        .findOneByOrFail({ clientId: 'success-basic' });
      expect(row.lastAuthenticatedAt).toEqual(new Date(5_000));
      expect(row.lastAudienceForm).toBeNull();
    });

    it('writes by itself once the window has passed', async () => {
      await createKeyClient('success-timer');
      const store = new TypeOrmClientStore(counted, cipher, { successWriteIntervalMs: 20 });
      store.recordSuccess({
        clientId: 'success-timer',
        method: 'private_key_jwt',
        at: new Date(7_000),
      });
      await waitFor(async () => {
        const row = await db.dataSource
          .getRepository(ClientEntity)
          .findOneByOrFail({ clientId: 'success-timer' });
        return row.lastAuthenticatedAt?.getTime() === 7_000;
      });
      await store.close();
    });
  });

  describe('recordFailure', () => {
    const failures = () => db.dataSource.getRepository(AuthFailureEntity);

    it('keeps the newest maxFailuresPerClient rows per client, including unnamed clients', async () => {
      const store = new TypeOrmClientStore(counted, cipher, { maxFailuresPerClient: 5 });
      const base = Date.UTC(2026, 0, 2);
      for (let i = 0; i < 8; i++) {
        store.recordFailure({
          clientId: 'fail-a',
          reason: 'aud_not_issuer',
          detail: `a${i}`,
          method: 'private_key_jwt',
          requestId: `req-${i}`,
          at: new Date(base + i),
        });
      }
      for (let i = 0; i < 3; i++) {
        store.recordFailure({
          clientId: 'fail-b',
          reason: 'jti_replayed',
          detail: `b${i}`,
          at: new Date(base + i),
        });
      }
      for (let i = 0; i < 7; i++) {
        store.recordFailure({
          reason: 'credentials_missing',
          detail: `n${i}`,
          at: new Date(base + i),
        });
      }
      await store.flush();

      const a = await failures().find({ where: { clientId: 'fail-a' }, order: { at: 'ASC' } });
      expect(a.map((row) => row.detail)).toEqual(['a3', 'a4', 'a5', 'a6', 'a7']);
      expect(a[4]).toMatchObject({
        reason: 'aud_not_issuer',
        method: 'private_key_jwt',
        requestId: 'req-7',
        at: new Date(base + 7),
      });
      expect(await failures().countBy({ clientId: 'fail-b' })).toBe(3);
      const unnamed = await failures().find({
        where: { clientId: IsNull() },
        order: { at: 'ASC' },
      });
      expect(unnamed.map((row) => row.detail)).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);

      // A later batch prunes again.
      store.recordFailure({
        clientId: 'fail-a',
        reason: 'kid_unknown',
        detail: 'a8',
        at: new Date(base + 8),
      });
      await store.flush();
      const after = await failures().find({ where: { clientId: 'fail-a' }, order: { at: 'ASC' } });
      expect(after.map((row) => row.detail)).toEqual(['a4', 'a5', 'a6', 'a7', 'a8']);
    });

    it('writes nothing on the request path and sanitises what it stores', async () => {
      const store = new TypeOrmClientStore(counted, cipher);
      logger.reset();
      store.recordFailure({
        clientId: 'fail-clean\u0000x',
        reason: 'client_unknown',
        detail: 'd'.repeat(5000) + '\u0000',
        method: 'bogus' as never,
        at: new Date(1),
      });
      store.recordFailure({
        clientId: 'y'.repeat(300),
        reason: 'client_unknown',
        detail: 'long id',
        at: new Date(2),
      });
      expect(logger.queries).toHaveLength(0);
      await store.flush();
      const clean = await failures().findOneByOrFail({ clientId: 'fail-clean\uFFFDx' });
      expect(clean.detail).toHaveLength(1000);
      expect(clean.method).toBeNull();
      const long = await failures().findOneByOrFail({ detail: 'long id' });
      expect(long.clientId).toBeNull();
    });

    it('drops failures beyond the buffer bound and counts them', async () => {
      const store = new TypeOrmClientStore(counted, cipher, { maxBufferedFailures: 3 });
      for (let i = 0; i < 5; i++) {
        store.recordFailure({
          clientId: 'fail-bound',
          reason: 'signature_invalid',
          detail: 'x',
          at: new Date(i),
        });
      }
      expect(store.droppedFailures).toBe(2);
      await store.flush();
      expect(await failures().countBy({ clientId: 'fail-bound' })).toBe(3);
    });

    it('caps the table as a whole (floods naming many unknown clients)', async () => {
      await failures().clear();
      const store = new TypeOrmClientStore(counted, cipher, { maxFailureRows: 10 });
      for (let i = 0; i < 25; i++) {
        store.recordFailure({
          clientId: `flood-${i}`,
          reason: 'client_unknown',
          detail: 'x',
          at: new Date(1_000 + i),
        });
      }
      await store.flush();
      const left = await failures().find({ order: { at: 'ASC' } });
      expect(left).toHaveLength(10);
      expect(left[0]!.clientId).toBe('flood-15');
    });

    it('stops recording after close()', async () => {
      const store = new TypeOrmClientStore(counted, cipher);
      store.recordFailure({
        clientId: 'fail-close',
        reason: 'jti_replayed',
        detail: 'before',
        at: new Date(1),
      });
      await store.close();
      store.recordFailure({
        clientId: 'fail-close',
        reason: 'jti_replayed',
        detail: 'after',
        at: new Date(2),
      });
      await store.flush();
      expect(
        (await failures().findBy({ clientId: 'fail-close' })).map((row) => row.detail),
      ).toEqual(['before']);
    });
  });

  describe('when the database is down', () => {
    let down: DataSource;
    beforeAll(async () => {
      down = new DataSource(db.options);
      await down.initialize();
      await down.destroy();
    });

    it('findClient throws DependencyUnavailableError and caches nothing', async () => {
      await createKeyClient('down-client');
      const store = new TypeOrmClientStore(down, cipher);
      const error = await store.findClient('down-client').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(error).toMatchObject({ dependency: 'client-store', status: 503 });
      await expect(store.findClient('down-client')).rejects.toBeInstanceOf(
        DependencyUnavailableError,
      );
    });

    it('recording never throws; flush reports the failed writes and resolves', async () => {
      const errors: string[] = [];
      const store = new TypeOrmClientStore(down, cipher, {
        onBackgroundError: (_e, operation) => errors.push(operation),
      });
      expect(() => {
        store.recordSuccess({ clientId: 'down-client', method: 'private_key_jwt', at: new Date() });
        store.recordFailure({
          clientId: 'down-client',
          reason: 'jti_replayed',
          detail: 'x',
          at: new Date(),
        });
      }).not.toThrow();
      await expect(store.flush()).resolves.toBeUndefined();
      expect(errors.sort()).toEqual(['failure', 'success']);
    });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
