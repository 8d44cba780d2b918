import { randomBytes } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../test/utils/database.js';
import { digestSecret } from '../core/crypto/secret-digest.js';
import { OAuthError } from '../core/errors.js';
import { ClientRegistryService } from './client-registry.service.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import { InitialAccessTokenEntity } from './entities/initial-access-token.entity.js';
import {
  InitialAccessTokenService,
  consumeInitialAccessToken,
  type IssueInitialAccessTokenInput,
} from './initial-access-token.service.js';
import { SecretCipher } from './secret-cipher.js';

/**
 * Initial access tokens for RFC 7591 §3 registration (SPEC S3): issued with an expiry and a use
 * count, stored as digests, and consumed inside the registration's transaction.
 */

const T0 = new Date('2026-05-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe.each(TEST_DATABASE_KINDS)('InitialAccessTokenService on %s (SPEC S3)', (kind) => {
  // Enough pooled connections for the concurrent registrations below (PostgreSQL).
  const db = withTestDatabase(
    kind,
    kind === 'postgres' ? { dataSource: { extra: { max: 20 } } } : {},
  );
  const clock = { now: T0 };
  let tokens: InitialAccessTokenService;
  let registry: ClientRegistryService;

  beforeAll(() => {
    tokens = new InitialAccessTokenService(db.dataSource, { clock: () => clock.now });
    registry = new ClientRegistryService(
      db.dataSource,
      new SecretCipher(randomBytes(32)),
      undefined,
      {
        clock: () => clock.now,
      },
    );
  });

  beforeEach(() => {
    clock.now = T0;
  });

  const rowOf = (id: string) =>
    db.dataSource.getRepository(InitialAccessTokenEntity).findOneByOrFail({ id });
  const tokenEvents = (id: string) =>
    db.dataSource
      .getRepository(AuditEventEntity)
      .find({ order: { at: 'ASC' } })
      .then((events) => events.filter((e) => e.details.initial_access_token_id === id));
  const clientCount = () => db.dataSource.getRepository(ClientEntity).count();

  describe('issue and check', () => {
    it('returns a 256-bit token once and stores only its digest', async () => {
      const { token, info } = await tokens.issue(
        { expiresInSeconds: 3600, maxUses: 2, description: 'team billing' },
        'admin:alice',
      );
      expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(info).toEqual({
        id: expect.any(String),
        description: 'team billing',
        createdBy: 'admin:alice',
        createdAt: T0,
        expiresAt: at(3600),
        maxUses: 2,
        uses: 0,
        status: 'active',
      });
      expect(JSON.stringify(info)).not.toContain(token);

      const row = await rowOf(info.id);
      expect(row.tokenDigest).toBe(digestSecret(token));
      expect(JSON.stringify(row)).not.toContain(token);
      const raw: Record<string, unknown>[] = await db.dataSource.query(
        'SELECT * FROM oauth_initial_access_token',
      );
      expect(JSON.stringify(raw)).not.toContain(token);

      expect(await tokens.check(token)).toEqual(info);
      expect(await tokens.check(`${token}x`)).toBeUndefined();
      expect(await tokens.check('')).toBeUndefined();
      expect(await tokens.check(digestSecret(token))).toBeUndefined();
      expect((await tokens.list()).find((entry) => entry.id === info.id)).toEqual(info);
    });

    it('issues a token without expiry or use limit by default', async () => {
      const { token, info } = await tokens.issue();
      expect(info).toMatchObject({ createdBy: 'system', uses: 0, status: 'active' });
      expect(info).not.toHaveProperty('expiresAt');
      expect(info).not.toHaveProperty('maxUses');
      clock.now = at(10 * 365 * 86_400);
      expect(await tokens.check(token)).toMatchObject({ id: info.id });
    });

    it('refuses an expired token', async () => {
      const { token, info } = await tokens.issue({ expiresInSeconds: 60 });
      clock.now = at(59);
      expect(await tokens.check(token)).toBeDefined();
      clock.now = at(60);
      expect(await tokens.check(token)).toBeUndefined();
      expect((await tokens.list()).find((entry) => entry.id === info.id)!.status).toBe('expired');
      await expect(
        registry.createClient(
          { clientId: 'iat-expired', tokenEndpointAuthMethod: 'none' },
          { initialAccessTokenId: info.id },
        ),
      ).rejects.toMatchObject({ error: 'invalid_token', status: 401 });
      expect((await rowOf(info.id)).uses).toBe(0);
      expect(await registry.getClient('iat-expired')).toBeUndefined();
    });

    it('refuses a revoked token, and audits issue and revoke without the token', async () => {
      const { token, info } = await tokens.issue({ maxUses: 5 }, 'admin:bob');
      clock.now = at(1);
      const revoked = await tokens.revoke(info.id, 'admin:carol');
      expect(revoked).toMatchObject({ status: 'revoked', revokedAt: at(1) });
      expect(await tokens.check(token)).toBeUndefined();
      // Revoking again changes nothing and writes no second event.
      clock.now = at(2);
      expect(await tokens.revoke(info.id)).toMatchObject({ revokedAt: at(1) });
      await expect(
        registry.createClient(
          { clientId: 'iat-revoked', tokenEndpointAuthMethod: 'none' },
          { initialAccessTokenId: info.id },
        ),
      ).rejects.toMatchObject({ error: 'invalid_token' });

      const events = await tokenEvents(info.id);
      expect(events.map((e) => [e.action, e.actor, e.at])).toEqual([
        ['initial_access_token.issued', 'admin:bob', T0],
        ['initial_access_token.revoked', 'admin:carol', at(1)],
      ]);
      expect(events[0]!.details).toMatchObject({ max_uses: 5 });
      expect(events.every((e) => e.clientId === null)).toBe(true);
      const text = JSON.stringify(events);
      expect(text).not.toContain(token);
      expect(text).not.toContain(digestSecret(token));
    });

    it('answers not_found when revoking an unknown token', async () => {
      await expect(tokens.revoke('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
        error: 'not_found',
        status: 404,
      });
    });

    it.each([
      ['a lifetime under 60 s', { expiresInSeconds: 59 }, 'expires_in'],
      ['a lifetime over a year', { expiresInSeconds: 31_536_001 }, 'expires_in'],
      ['a fractional lifetime', { expiresInSeconds: 90.5 }, 'expires_in'],
      ['zero uses', { maxUses: 0 }, 'max_uses'],
      ['too many uses', { maxUses: 1_000_001 }, 'max_uses'],
      ['fractional uses', { maxUses: 1.5 }, 'max_uses'],
      ['a description over 255 characters', { description: 'x'.repeat(256) }, 'description'],
      [
        'a description that is not a string',
        { description: 42 as unknown as string },
        'description',
      ],
    ] as [string, IssueInitialAccessTokenInput, string][])(
      'refuses %s with invalid_request and stores nothing',
      async (_case, input, field) => {
        const before = await db.dataSource.getRepository(InitialAccessTokenEntity).count();
        const error = await tokens.issue(input).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OAuthError);
        expect(error).toMatchObject({
          error: 'invalid_request',
          description: expect.stringMatching(new RegExp(`^${field}: `)),
        });
        expect(await db.dataSource.getRepository(InitialAccessTokenEntity).count()).toBe(before);
      },
    );
  });

  describe('uses counted by registration', () => {
    it('createClient counts one use in its transaction, until the token is used up', async () => {
      const { token, info } = await tokens.issue({ maxUses: 2 });
      for (const clientId of ['iat-use-1', 'iat-use-2']) {
        await registry.createClient(
          { clientId, tokenEndpointAuthMethod: 'none' },
          { initialAccessTokenId: info.id },
        );
      }
      expect((await rowOf(info.id)).uses).toBe(2);
      expect(await tokens.check(token)).toBeUndefined();
      expect((await tokens.list()).find((entry) => entry.id === info.id)).toMatchObject({
        uses: 2,
        status: 'used_up',
      });
      const before = await clientCount();
      await expect(
        registry.createClient(
          { clientId: 'iat-use-3', tokenEndpointAuthMethod: 'none' },
          { initialAccessTokenId: info.id },
        ),
      ).rejects.toMatchObject({ error: 'invalid_token' });
      expect(await clientCount()).toBe(before);
      expect((await rowOf(info.id)).uses).toBe(2);
      const created = await db.dataSource
        .getRepository(AuditEventEntity)
        .findOneByOrFail({ clientId: 'iat-use-1', action: 'client.created' });
      expect(created.details).toMatchObject({ initial_access_token_id: info.id });
    });

    it('a registration that fails counts no use', async () => {
      const { info } = await tokens.issue({ maxUses: 3 });
      await registry.createClient(
        { clientId: 'iat-dup', tokenEndpointAuthMethod: 'none' },
        { initialAccessTokenId: info.id },
      );
      await expect(
        registry.createClient(
          { clientId: 'iat-dup', tokenEndpointAuthMethod: 'client_secret_basic' },
          { initialAccessTokenId: info.id },
        ),
      ).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: 'client_id: already registered',
      });
      // Invalid metadata is refused before the transaction: no use either.
      await expect(
        registry.createClient(
          { clientId: 'iat-bad', tokenEndpointAuthMethod: 'private_key_jwt' },
          { initialAccessTokenId: info.id },
        ),
      ).rejects.toMatchObject({ error: 'invalid_client_metadata' });
      expect((await rowOf(info.id)).uses).toBe(1);
    });

    it('refuses an unknown token id', async () => {
      await expect(
        registry.createClient(
          { clientId: 'iat-unknown', tokenEndpointAuthMethod: 'none' },
          { initialAccessTokenId: '00000000-0000-4000-8000-000000000000' },
        ),
      ).rejects.toMatchObject({ error: 'invalid_token' });
      expect(await registry.getClient('iat-unknown')).toBeUndefined();
    });

    it('consumeInitialAccessToken refuses once the count is reached, in the caller’s transaction', async () => {
      const { info } = await tokens.issue({ maxUses: 1 });
      await db.dataSource.transaction((manager) => consumeInitialAccessToken(manager, info.id, T0));
      await expect(
        db.dataSource.transaction((manager) => consumeInitialAccessToken(manager, info.id, T0)),
      ).rejects.toMatchObject({ error: 'invalid_token' });
      // A rolled-back transaction gives its use back.
      const { info: other } = await tokens.issue({ maxUses: 1 });
      await expect(
        db.dataSource.transaction(async (manager) => {
          await consumeInitialAccessToken(manager, other.id, T0);
          throw new Error('registration failed later');
        }),
      ).rejects.toThrow('registration failed later');
      expect((await rowOf(other.id)).uses).toBe(0);
    });

    it('N concurrent registrations with max_uses 3: exactly 3 succeed', async () => {
      const { info } = await tokens.issue({ maxUses: 3 });
      const before = await clientCount();
      const attempts = 8;
      const results = await Promise.allSettled(
        Array.from({ length: attempts }, (_, index) =>
          registry.createClient(
            {
              clientId: `iat-race-${index}`,
              tokenEndpointAuthMethod: 'client_secret_basic',
            },
            { initialAccessTokenId: info.id },
          ),
        ),
      );
      const fulfilled = results.filter((result) => result.status === 'fulfilled');
      const rejected = results.filter(
        (result): result is PromiseRejectedResult => result.status === 'rejected',
      );
      expect(fulfilled).toHaveLength(3);
      expect(rejected).toHaveLength(attempts - 3);
      for (const failure of rejected) {
        expect(failure.reason).toMatchObject({ error: 'invalid_token' });
      }
      expect((await rowOf(info.id)).uses).toBe(3);
      expect(await clientCount()).toBe(before + 3);
      const registered = await db.dataSource
        .getRepository(ClientEntity)
        .createQueryBuilder('c')
        .where('c.client_id LIKE :prefix', { prefix: 'iat-race-%' })
        .getMany();
      const succeeded = fulfilled.map(
        (result) =>
          (result as PromiseFulfilledResult<{ client: { clientId: string } }>).value.client
            .clientId,
      );
      expect(registered.map((client) => client.clientId).sort()).toEqual(succeeded.sort());
      // Each stored client has its credential and its audit event: nothing half-written.
      for (const clientId of succeeded) {
        expect(await registry.getClient(clientId)).toMatchObject({
          credentials: [expect.objectContaining({ kind: 'secret_digest' })],
        });
        expect(await db.dataSource.getRepository(AuditEventEntity).countBy({ clientId })).toBe(1);
      }
    });
  });
});
