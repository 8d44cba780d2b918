import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../../test/utils/database.js';
import { isUniqueViolation } from '../database-errors.js';
import {
  ClientCredentialEntity,
  ClientEntity,
  epochMillisTransformer,
  ServerSigningKeyEntity,
} from './index.js';

const ORIGINAL_TZ = process.env.TZ;

function clientRow(clientId: string, at: Date): ClientEntity {
  return Object.assign(new ClientEntity(), {
    clientId,
    enabled: true,
    tokenEndpointAuthMethod: 'private_key_jwt',
    tokenEndpointAuthSigningAlg: 'ES256',
    jwksUri: null,
    audiencePolicy: 'strict',
    requireStringAudience: false,
    maxAssertionLifetime: 120,
    scope: 'read write',
    grantTypes: ['client_credentials'],
    metadata: { client_name: 'Zürich 🔑', contacts: ['ops@example.com'], nested: { n: 1 } },
    registrationAccessTokenDigest: null,
    lastAudienceForm: null,
    lastAssertionTyp: null,
    lastAuthenticatedAt: null,
    createdAt: at,
    updatedAt: at,
    version: 1,
  });
}

function credentialRow(
  clientId: string,
  kid: string | null,
  status = 'active',
): ClientCredentialEntity {
  const now = new Date();
  return Object.assign(new ClientCredentialEntity(), {
    id: randomUUID(),
    clientId,
    kind: 'public_key',
    kid,
    alg: null,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: 'abc' },
    secretDigest: null,
    secretCiphertext: null,
    notBefore: now,
    expiresAt: null,
    status,
    lastUsedAt: null,
    createdAt: now,
  });
}

async function insert(
  dataSource: DataSource,
  target: typeof ClientEntity | typeof ClientCredentialEntity,
  row: object,
) {
  await dataSource
    .createQueryBuilder()
    .insert()
    .into(target)
    .values(row)
    .updateEntity(false)
    .execute();
}

describe('epochMillisTransformer', () => {
  it.each([
    [new Date(0), 0],
    [new Date('2026-03-29T01:30:00.123Z'), 1774747800123],
  ])('stores %p as %p and reads it back', (date, ms) => {
    expect(epochMillisTransformer.to(date)).toBe(ms);
    expect(epochMillisTransformer.from(String(ms))).toEqual(date);
    expect(epochMillisTransformer.from(ms)).toEqual(date);
  });

  it('passes null through and refuses an invalid Date', () => {
    expect(epochMillisTransformer.to(null)).toBeNull();
    expect(epochMillisTransformer.from(null)).toBeNull();
    expect(() => epochMillisTransformer.to(new Date(Number.NaN))).toThrow(TypeError);
  });
});

describe.each(TEST_DATABASE_KINDS)('registry entities on %s (SPEC S3)', (kind) => {
  const db = withTestDatabase(kind);
  afterAll(() => {
    if (ORIGINAL_TZ === undefined) delete process.env.TZ;
    else process.env.TZ = ORIGINAL_TZ;
  });

  it('round-trips timestamps to the millisecond whatever the process time zone', async () => {
    // 01:30 local on a DST change day is ambiguous in a local-time column; epoch ms is not.
    const at = new Date('2026-11-01T05:30:00.457Z');
    process.env.TZ = 'America/New_York';
    await insert(db.dataSource, ClientEntity, clientRow('tz-client', at));
    process.env.TZ = 'Asia/Tokyo';
    const read = await db.dataSource
      .getRepository(ClientEntity)
      .findOneByOrFail({ clientId: 'tz-client' });
    expect(read.createdAt).toBeInstanceOf(Date);
    expect(read.createdAt.toISOString()).toBe('2026-11-01T05:30:00.457Z');
    const raw = await db.dataSource.query(
      `SELECT created_at FROM oauth_client WHERE client_id = 'tz-client'`,
    );
    expect(Number(raw[0].created_at)).toBe(at.getTime());
  });

  it('round-trips JSON, booleans, integers and nulls', async () => {
    const read = await db.dataSource
      .getRepository(ClientEntity)
      .findOneByOrFail({ clientId: 'tz-client' });
    expect(read).toMatchObject({
      enabled: true,
      requireStringAudience: false,
      maxAssertionLifetime: 120,
      grantTypes: ['client_credentials'],
      metadata: { client_name: 'Zürich 🔑', contacts: ['ops@example.com'], nested: { n: 1 } },
      jwksUri: null,
      lastAuthenticatedAt: null,
    });
  });

  it('keeps kid unique per client, but allows several keys without kid', async () => {
    await insert(db.dataSource, ClientCredentialEntity, credentialRow('tz-client', 'k1'));
    await insert(db.dataSource, ClientCredentialEntity, credentialRow('tz-client', null));
    await insert(db.dataSource, ClientCredentialEntity, credentialRow('tz-client', null));
    const duplicate = await insert(
      db.dataSource,
      ClientCredentialEntity,
      credentialRow('tz-client', 'k1', 'revoked'),
    ).catch((error: unknown) => error);
    expect(isUniqueViolation(duplicate)).toBe(true);
  });

  it('refuses a credential of an unknown client (foreign key)', async () => {
    await expect(
      insert(db.dataSource, ClientCredentialEntity, credentialRow('no-such-client', 'k1')),
    ).rejects.toMatchObject({
      driverError: { code: kind === 'sqlite' ? 'SQLITE_CONSTRAINT_FOREIGNKEY' : '23503' },
    });
  });

  it('refuses values outside the closed sets (check constraints)', async () => {
    const checkViolation = {
      driverError: { code: kind === 'sqlite' ? 'SQLITE_CONSTRAINT_CHECK' : '23514' },
    };
    await expect(
      insert(db.dataSource, ClientCredentialEntity, credentialRow('tz-client', 'k9', 'deleted')),
    ).rejects.toMatchObject(checkViolation);
    await expect(
      db.dataSource
        .createQueryBuilder()
        .insert()
        .into(ServerSigningKeyEntity)
        .values({
          kid: 'k',
          alg: 'ES256',
          status: 'old' as never,
          privateJwkCiphertext: 'v1.x.y.z',
          publicJwk: { kty: 'EC' },
          createdAt: new Date(),
          notAfter: null,
        })
        .execute(),
    ).rejects.toMatchObject(checkViolation);
  });

  it('deletes credentials with their client (ON DELETE CASCADE)', async () => {
    expect(
      await db.dataSource.getRepository(ClientCredentialEntity).countBy({ clientId: 'tz-client' }),
    ).toBe(3);
    await db.dataSource.getRepository(ClientEntity).delete({ clientId: 'tz-client' });
    expect(
      await db.dataSource.getRepository(ClientCredentialEntity).countBy({ clientId: 'tz-client' }),
    ).toBe(0);
  });
});
