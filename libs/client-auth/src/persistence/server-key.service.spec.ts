import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { DataSource } from 'typeorm';
import { fixtureKey } from '../../../../test/fixtures/keys/index.js';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../test/utils/database.js';
import { DependencyUnavailableError, OAuthError } from '../core/errors.js';
import { signAccessToken } from '../core/tokens/access-token.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { ServerSigningKeyEntity } from './entities/server-signing-key.entity.js';
import { SecretCipher } from './secret-cipher.js';
import { ServerKeyService, type ServerKeyServiceOptions } from './server-key.service.js';

const ISSUER = 'https://as.example.com';
const START = new Date('2026-06-01T12:00:00.000Z');
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A clock the test moves by hand. */
function manualClock(start = START) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

/** Signs a token with `service`'s current key and verifies it against its published JWKS. */
async function signsAndVerifies(service: ServerKeyService, now: Date): Promise<string> {
  const { token } = await signAccessToken(service.signingKey(), {
    issuer: ISSUER,
    clientId: 'c',
    subject: 'c',
    audience: ISSUER,
    ttlSeconds: 60,
    now,
  });
  const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(service.publicJwks()), {
    issuer: ISSUER,
    currentDate: now,
  });
  return protectedHeader.kid!;
}

describe.each(TEST_DATABASE_KINDS)('ServerKeyService on %s (SPEC S4)', (kind) => {
  const db = withTestDatabase(kind, { dataSource: { extra: { max: 10 } } });
  const cipher = new SecretCipher(randomBytes(32));

  const rows = () =>
    db.dataSource
      .getRepository(ServerSigningKeyEntity)
      .find({ order: { createdAt: 'ASC', kid: 'ASC' } });
  const service = (clock: { now: () => Date }, options: ServerKeyServiceOptions = {}) =>
    new ServerKeyService(db.dataSource, cipher, {
      reloadIntervalMs: 0,
      clock: clock.now,
      ...options,
    });

  beforeEach(async () => {
    await db.dataSource.getRepository(ServerSigningKeyEntity).clear();
  });

  it('first load generates a current and a next key, stored encrypted', async () => {
    const clock = manualClock();
    const keys = service(clock);
    await keys.load();

    const stored = await rows();
    expect(stored.map((row) => row.status).sort()).toEqual(['current', 'next']);
    for (const row of stored) {
      expect(row.alg).toBe('ES256');
      expect(row.createdAt).toEqual(START);
      expect(row.notAfter).toBeNull();
      // Encrypted: the private scalar does not appear in the row.
      expect(row.privateJwkCiphertext.startsWith('v1.')).toBe(true);
      expect(row.privateJwkCiphertext).not.toContain('"d"');
      for (const member of PRIVATE_MEMBERS) expect(row.publicJwk).not.toHaveProperty(member);
    }

    const current = stored.find((row) => row.status === 'current')!;
    expect(keys.signingKey()).toMatchObject({ kid: current.kid, alg: 'ES256', status: 'current' });
    expect(keys.publishedKeys().map((key) => key.status)).toEqual(['current', 'next']);
    const jwks = keys.publicJwks();
    expect(jwks.keys).toHaveLength(2);
    for (const jwk of jwks.keys) {
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
    expect(await signsAndVerifies(keys, clock.now())).toBe(current.kid);
  });

  it('a second load reads the same keys instead of generating new ones', async () => {
    const clock = manualClock();
    const first = service(clock);
    await first.load();
    const kids = first.publishedKeys().map((key) => key.kid);
    await first.load();
    const again = service(clock);
    await again.load();
    expect(first.publishedKeys().map((key) => key.kid)).toEqual(kids);
    expect(again.publishedKeys().map((key) => key.kid)).toEqual(kids);
    expect(await rows()).toHaveLength(2);
  });

  it('generates keys of the configured algorithm', async () => {
    const keys = service(manualClock(), { algorithm: 'RS256' });
    await keys.load();
    expect(keys.signingKey().alg).toBe('RS256');
    expect(keys.publicJwks().keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
    expect(await signsAndVerifies(keys, START)).toBe(keys.signingKey().kid);
  });

  it('rotate: next → current, current → retiring until retireAfterSeconds, a new next', async () => {
    const clock = manualClock();
    const keys = service(clock, { retireAfterSeconds: 900 });
    await keys.load();
    const before = Object.fromEntries(keys.publishedKeys().map((key) => [key.status, key.kid]));
    const tokenKid = await signsAndVerifies(keys, clock.now());

    clock.advance(10);
    const rotated = await keys.rotate('admin:alice');
    const after = Object.fromEntries(rotated.map((key) => [key.status, key.kid]));
    expect(after.current).toBe(before.next);
    expect(after.retiring).toBe(before.current);
    expect(after.next).toBeDefined();
    expect([before.current, before.next]).not.toContain(after.next);
    expect(keys.signingKey().kid).toBe(before.next);

    const retiring = rotated.find((key) => key.status === 'retiring')!;
    expect(retiring.notAfter).toEqual(new Date(START.getTime() + 10_000 + 900_000));
    // Every key is still published: tokens signed before the rotation keep verifying.
    expect(
      keys
        .publicJwks()
        .keys.map((jwk) => jwk.kid)
        .sort(),
    ).toEqual([before.current, before.next, after.next].sort());
    expect(tokenKid).toBe(before.current);
    expect(await signsAndVerifies(keys, clock.now())).toBe(before.next);

    const audit = await db.dataSource
      .getRepository(AuditEventEntity)
      .findOneByOrFail({ action: 'server_key.rotated', actor: 'admin:alice' });
    expect(audit.details).toMatchObject({
      current: before.next,
      retiring: [before.current],
      next: after.next,
      deleted: [],
    });

    // Just before the end of the overlap the retiring key is published; at its end it is not.
    clock.advance(899);
    expect(keys.publishedKeys().map((key) => key.kid)).toContain(before.current);
    clock.advance(1);
    expect(keys.publishedKeys().map((key) => key.kid)).not.toContain(before.current);
    expect(keys.publicJwks().keys).toHaveLength(2);

    // The next rotation deletes the expired retiring row.
    await keys.rotate();
    const stored = await rows();
    expect(stored.map((row) => row.kid)).not.toContain(before.current);
    expect(stored.map((row) => row.status).sort()).toEqual(['current', 'next', 'retiring']);
  });

  it('defaults the overlap to one hour', async () => {
    const clock = manualClock();
    const keys = service(clock);
    await keys.load();
    await keys.rotate();
    const retiring = keys.publishedKeys().find((key) => key.status === 'retiring')!;
    expect(retiring.notAfter).toEqual(new Date(START.getTime() + 3_600_000));
  });

  it('another instance on the same database sees a rotation after load()', async () => {
    const clock = manualClock();
    const a = service(clock);
    const b = service(clock);
    await a.load();
    await b.load();
    const old = b.signingKey().kid;
    expect(old).toBe(a.signingKey().kid);

    await a.rotate();
    // Until it reloads, b still signs with the old key — which a still publishes (retiring).
    expect(b.signingKey().kid).toBe(old);
    expect(a.publicJwks().keys.map((jwk) => jwk.kid)).toContain(old);

    await b.load();
    expect(b.signingKey().kid).toBe(a.signingKey().kid);
    expect(b.publicJwks()).toEqual(a.publicJwks());
  });

  it('another instance on its own connection sees a rotation after load()', async () => {
    const second = new DataSource(db.options);
    await second.initialize();
    try {
      const clock = manualClock();
      const a = service(clock);
      const b = new ServerKeyService(second, cipher, { reloadIntervalMs: 0, clock: clock.now });
      await a.load();
      await b.load();
      await a.rotate();
      await b.load();
      expect(b.signingKey().kid).toBe(a.signingKey().kid);
      expect(b.publishedKeys().map((key) => [key.kid, key.status])).toEqual(
        a.publishedKeys().map((key) => [key.kid, key.status]),
      );
    } finally {
      await second.destroy();
    }
  });

  it('start() reloads periodically, so a rotation elsewhere is picked up', async () => {
    const clock = manualClock();
    const a = service(clock);
    const b = new ServerKeyService(db.dataSource, cipher, {
      reloadIntervalMs: 50,
      clock: clock.now,
    });
    await a.load();
    await b.start();
    try {
      await a.rotate();
      const deadline = Date.now() + 5000;
      while (b.signingKey().kid !== a.signingKey().kid && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(b.signingKey().kid).toBe(a.signingKey().kid);
    } finally {
      b.stop();
    }
  });

  it('concurrent first loads leave exactly one current and one next key', async () => {
    const clock = manualClock();
    const extra =
      kind === 'postgres'
        ? await Promise.all([1, 2, 3].map(async () => new DataSource(db.options).initialize()))
        : [];
    try {
      const sources = [db.dataSource, db.dataSource, ...extra];
      const instances = sources.map(
        (source) => new ServerKeyService(source, cipher, { reloadIntervalMs: 0, clock: clock.now }),
      );
      await Promise.all(instances.map((instance) => instance.load()));
      const stored = await rows();
      expect(stored.filter((row) => row.status === 'current')).toHaveLength(1);
      expect(stored.filter((row) => row.status === 'next')).toHaveLength(1);
      expect(stored).toHaveLength(2);
      const kids = new Set(instances.map((instance) => instance.signingKey().kid));
      expect(kids.size).toBe(1);
    } finally {
      await Promise.all(extra.map((source) => source.destroy()));
    }
  });

  it('concurrent rotations by two instances each complete and leave one current key', async () => {
    const clock = manualClock();
    const a = service(clock);
    const b = service(clock);
    await a.load();
    await b.load();
    await Promise.all([a.rotate(), b.rotate()]);
    const stored = await rows();
    expect(stored.filter((row) => row.status === 'current')).toHaveLength(1);
    expect(stored.filter((row) => row.status === 'next')).toHaveLength(1);
    expect(stored.filter((row) => row.status === 'retiring')).toHaveLength(2);
  });

  it('a cipher with another key cannot read the keys: 503, never a silent regeneration', async () => {
    await service(manualClock()).load();
    const stranger = new ServerKeyService(db.dataSource, new SecretCipher(randomBytes(32)), {
      reloadIntervalMs: 0,
    });
    await expect(stranger.load()).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await rows()).toHaveLength(2);
  });

  it('a database that is down answers DependencyUnavailableError', async () => {
    const closed = new DataSource(db.options);
    const keys = new ServerKeyService(closed, cipher, { reloadIntervalMs: 0 });
    await expect(keys.load()).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(() => keys.signingKey()).toThrow(DependencyUnavailableError);
    await expect(keys.rotate()).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});

describe('ServerKeyService with configured keys (SIGNING_KEYS)', () => {
  const es = fixtureKey('ES256');
  const rs = fixtureKey('RS256');
  const unused = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
  const cipher = new SecretCipher(randomBytes(32));

  it('signs with the first key, publishes all, reads no database', async () => {
    const keys = new ServerKeyService(unused, cipher, {
      staticKeys: [es.privateJwk, rs.privateJwk],
    });
    await keys.start();
    keys.stop();
    expect(unused.isInitialized).toBe(false);
    expect(keys.signingKey()).toMatchObject({ kid: es.kid, alg: 'ES256', status: 'current' });
    expect(keys.publicJwks().keys.map((jwk) => jwk.kid)).toEqual([es.kid, rs.kid]);
    for (const jwk of keys.publicJwks().keys) {
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
    expect(await signsAndVerifies(keys, new Date())).toBe(es.kid);
  });

  it('refuses rotate with conflict (rotate them in the configuration)', async () => {
    const keys = new ServerKeyService(unused, cipher, { staticKeys: [es.privateJwk] });
    await keys.load();
    const error = await keys.rotate().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).error).toBe('conflict');
    expect(keys.signingKey().kid).toBe(es.kid);
  });

  it.each([
    ['without kid', { ...fixtureKey('ES256').privateJwk, kid: undefined }],
    ['without alg', { ...fixtureKey('ES256').privateJwk, alg: undefined }],
  ])('refuses a configured key %s', async (_name, jwk) => {
    const keys = new ServerKeyService(unused, cipher, { staticKeys: [jwk as JWK] });
    await expect(keys.load()).rejects.toThrow(/"alg" and "kid"/);
  });

  it('refuses an empty configured set', async () => {
    const keys = new ServerKeyService(unused, cipher, { staticKeys: [] });
    await expect(keys.load()).rejects.toThrow(/at least one key/);
  });
});
