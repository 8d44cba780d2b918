import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { JWK } from 'jose';
import { fixtureKey } from '../../../../test/fixtures/keys/index.js';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../test/utils/database.js';
import { secretMatchesDigest } from '../core/crypto/secret-digest.js';
import { DependencyUnavailableError, OAuthError } from '../core/errors.js';
import {
  ClientNotFoundError,
  ClientRegistryService,
  type CreateClientInput,
} from './client-registry.service.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { ClientCredentialEntity } from './entities/client-credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import { SecretCipher } from './secret-cipher.js';
import { TypeOrmClientStore } from './typeorm-client-store.js';

const NOW = new Date('2026-05-01T10:00:00.000Z');
const ES256 = fixtureKey('ES256');
const RS256 = fixtureKey('RS256');

describe.each(TEST_DATABASE_KINDS)('ClientRegistryService on %s (SPEC S3)', (kind) => {
  const db = withTestDatabase(kind);
  const cipher = new SecretCipher(randomBytes(32));
  let store: TypeOrmClientStore;
  let registry: ClientRegistryService;

  beforeAll(async () => {
    store = new TypeOrmClientStore(db.dataSource, cipher);
    registry = new ClientRegistryService(db.dataSource, cipher, store, { clock: () => NOW });
    // Makes any audit insert by actor "explode" fail, to prove the writes before it roll back.
    if (kind === 'sqlite') {
      await db.dataSource.query(
        `CREATE TRIGGER fail_audit BEFORE INSERT ON oauth_audit_event WHEN NEW.actor = 'explode'
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END`,
      );
    } else {
      await db.dataSource.query(
        `CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.actor = 'explode' THEN RAISE EXCEPTION 'audit refused'; END IF; RETURN NEW; END $$`,
      );
      await db.dataSource.query(
        `CREATE TRIGGER fail_audit BEFORE INSERT ON oauth_audit_event
         FOR EACH ROW EXECUTE FUNCTION fail_audit()`,
      );
    }
  });

  const clients = () => db.dataSource.getRepository(ClientEntity);
  const credentials = () => db.dataSource.getRepository(ClientCredentialEntity);
  const auditFor = (clientId: string) =>
    db.dataSource
      .getRepository(AuditEventEntity)
      .find({ where: { clientId }, order: { at: 'ASC' } });

  describe('createClient, read back through TypeOrmClientStore', () => {
    it('private_key_jwt with jwks: one public_key credential per JWK', async () => {
      const { client, clientSecret } = await registry.createClient({
        clientId: 'pk-jwks',
        tokenEndpointAuthMethod: 'private_key_jwt',
        tokenEndpointAuthSigningAlg: 'ES256',
        jwks: { keys: [ES256.publicJwk, RS256.publicJwk] },
      });
      expect(clientSecret).toBeUndefined();
      expect(client.credentials).toHaveLength(2);

      const found = await store.findClient('pk-jwks');
      expect(found).toMatchObject({
        clientId: 'pk-jwks',
        enabled: true,
        tokenEndpointAuthMethod: 'private_key_jwt',
        tokenEndpointAuthSigningAlg: 'ES256',
        grantTypes: ['client_credentials'],
        requireStringAudience: false,
      });
      expect(found!.jwksUri).toBeUndefined();
      const byKid = Object.fromEntries(found!.credentials.map((c) => [c.kid, c]));
      expect(byKid[ES256.kid]).toMatchObject({
        kind: 'public_key',
        alg: 'ES256',
        jwk: ES256.publicJwk,
        status: 'active',
        notBefore: NOW,
      });
      expect(byKid[RS256.kid]).toMatchObject({ kind: 'public_key', jwk: RS256.publicJwk });
    });

    it('private_key_jwt with jwks_uri: no stored keys', async () => {
      await registry.createClient({
        clientId: 'pk-uri',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: 'https://client.example.com/jwks.json',
      });
      const found = await store.findClient('pk-uri');
      expect(found).toMatchObject({
        jwksUri: 'https://client.example.com/jwks.json',
        credentials: [],
      });
    });

    it.each(['client_secret_basic', 'client_secret_post'] as const)(
      '%s: a generated secret stored as a digest',
      async (method) => {
        const { client, clientSecret } = await registry.createClient({
          clientId: `digest-${method}`,
          tokenEndpointAuthMethod: method,
          secret: 'generate',
        });
        expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{86}$/); // 512 bits
        expect(client.credentials).toEqual([
          expect.objectContaining({ kind: 'secret_digest', status: 'active' }),
        ]);
        expect(JSON.stringify(client)).not.toContain('sha256:');

        const found = await store.findClient(`digest-${method}`);
        const credential = found!.credentials[0]!;
        expect(credential.kind).toBe('secret_digest');
        expect(credential.secret).toBeUndefined();
        expect(secretMatchesDigest(clientSecret!, credential.secretDigest!)).toBe(true);
        expect(secretMatchesDigest(clientSecret! + 'x', credential.secretDigest!)).toBe(false);
        const row = await credentials().findOneByOrFail({ id: credential.id });
        expect(row.secretCiphertext).toBeNull();
      },
    );

    it('client_secret_jwt: a generated secret stored encrypted and decrypted on read', async () => {
      const { client, clientSecret } = await registry.createClient({
        clientId: 'hmac',
        tokenEndpointAuthMethod: 'client_secret_jwt',
        tokenEndpointAuthSigningAlg: 'HS512',
      });
      expect(client.credentials[0]).not.toHaveProperty('secret');
      const found = await store.findClient('hmac');
      expect(found!.credentials).toEqual([
        expect.objectContaining({ kind: 'secret', secret: clientSecret, status: 'active' }),
      ]);
      const row = await credentials().findOneByOrFail({ clientId: 'hmac' });
      expect(row.secretCiphertext).toMatch(/^v1\./);
      expect(row.secretCiphertext).not.toContain(clientSecret);
      expect(row.secretDigest).toBeNull();
    });

    it('none: no credential and no secret', async () => {
      const { clientSecret } = await registry.createClient({
        clientId: 'public',
        tokenEndpointAuthMethod: 'none',
      });
      expect(clientSecret).toBeUndefined();
      expect((await store.findClient('public'))!.credentials).toEqual([]);
    });

    it('generates a 128-bit client_id and stores every option', async () => {
      const { client } = await registry.createClient({
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk] },
        scope: 'read write',
        grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
        audiencePolicy: 'strict',
        requireStringAudience: true,
        maxAssertionLifetimeSeconds: 60,
        metadata: { client_name: 'Billing', contacts: ['ops@example.com'], software_id: 'b-1' },
        enabled: false,
      });
      expect(client.clientId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(await store.findClient(client.clientId)).toMatchObject({
        enabled: false,
        scope: 'read write',
        grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
        audiencePolicy: 'strict',
        requireStringAudience: true,
        maxAssertionLifetimeSeconds: 60,
        metadata: { client_name: 'Billing', contacts: ['ops@example.com'], software_id: 'b-1' },
      });
      expect(await registry.getClient(client.clientId)).toEqual(client);
    });

    it('writes one audit event without any secret', async () => {
      const { clientSecret } = await registry.createClient(
        { clientId: 'audited', tokenEndpointAuthMethod: 'client_secret_basic' },
        'admin:alice',
      );
      const events = await auditFor('audited');
      expect(events).toEqual([
        expect.objectContaining({ actor: 'admin:alice', action: 'client.created', at: NOW }),
      ]);
      const digest = (await credentials().findOneByOrFail({ clientId: 'audited' })).secretDigest!;
      const text = JSON.stringify(events);
      expect(text).not.toContain(clientSecret);
      expect(text).not.toContain(digest);
    });
  });

  describe('invalid input: OAuthError invalid_client_metadata naming the field, nothing written', () => {
    const withPrivate = (member: string): JWK => ({ ...ES256.publicJwk, [member]: 'AAAA' });
    const cases: [string, Partial<CreateClientInput>, string][] = [
      [
        'unknown method',
        { tokenEndpointAuthMethod: 'tls_client_auth' as never },
        'token_endpoint_auth_method',
      ],
      [
        'jwks and jwks_uri',
        { jwks: { keys: [ES256.publicJwk] }, jwksUri: 'https://c.example/jwks' },
        'jwks',
      ],
      ['neither jwks nor jwks_uri', { jwks: undefined }, 'jwks'],
      ['empty jwks', { jwks: { keys: [] } }, 'jwks'],
      [
        'duplicate kid',
        {
          jwks: {
            keys: [ES256.publicJwk, { ...fixtureKey('ES256', 1).publicJwk, kid: ES256.kid }],
          },
        },
        'jwks.keys[1]',
      ],
      ...['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].map(
        (member): [string, Partial<CreateClientInput>, string] => [
          `private member ${member}`,
          { jwks: { keys: [withPrivate(member)] } },
          'jwks.keys[0]',
        ],
      ),
      ['a symmetric key', { jwks: { keys: [{ kty: 'oct', k: 'AAAA' }] } }, 'jwks.keys[0]'],
      ['an RSA key without n', { jwks: { keys: [{ kty: 'RSA', e: 'AQAB' }] } }, 'jwks.keys[0]'],
      [
        'an HMAC alg on a key',
        { jwks: { keys: [{ ...ES256.publicJwk, alg: 'HS256' }] } },
        'jwks.keys[0]',
      ],
      [
        'an HMAC signing alg for keys',
        { tokenEndpointAuthSigningAlg: 'HS256' },
        'token_endpoint_auth_signing_alg',
      ],
      [
        'signing alg none',
        { tokenEndpointAuthSigningAlg: 'none' },
        'token_endpoint_auth_signing_alg',
      ],
      [
        'jwks_uri with a fragment',
        { jwks: undefined, jwksUri: 'https://c.example/jwks#x' },
        'jwks_uri',
      ],
      [
        'jwks_uri with credentials',
        { jwks: undefined, jwksUri: 'https://u:p@c.example/jwks' },
        'jwks_uri',
      ],
      ['jwks_uri not a URL', { jwks: undefined, jwksUri: 'jwks.json' }, 'jwks_uri'],
      ['jwks_uri ftp', { jwks: undefined, jwksUri: 'ftp://c.example/jwks' }, 'jwks_uri'],
      ['a bad scope', { scope: 'read  write' }, 'scope'],
      [
        'duplicate grant types',
        { grantTypes: ['client_credentials', 'client_credentials'] },
        'grant_types',
      ],
      ['an unknown audience policy', { audiencePolicy: 'lenient' as never }, 'audience_policy'],
      ['a zero lifetime', { maxAssertionLifetimeSeconds: 0 }, 'max_assertion_lifetime'],
      ['a fractional lifetime', { maxAssertionLifetimeSeconds: 1.5 }, 'max_assertion_lifetime'],
      ['a client_id with control characters', { clientId: 'bad\nid' }, 'client_id'],
      ['a too long client_id', { clientId: 'x'.repeat(256) }, 'client_id'],
      ['a secret in metadata', { metadata: { client_secret: 'x' } }, 'client_secret'],
      ['a secret for a key client', { secret: 'generate' }, 'client_secret'],
    ];

    it.each(cases)('%s', async (_case, change, field) => {
      const before = [await clients().count(), await credentials().count()];
      const input = {
        clientId: 'invalid-input',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk] },
        ...change,
      } as CreateClientInput;
      const error = await registry.createClient(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({ error: 'invalid_client_metadata', status: 400 });
      expect((error as OAuthError).description.startsWith(`${field}: `)).toBe(true);
      expect([await clients().count(), await credentials().count()]).toEqual(before);
      expect(await auditFor('invalid-input')).toEqual([]);
    });

    it.each([
      [
        'jwks for a secret client',
        { tokenEndpointAuthMethod: 'client_secret_basic', jwks: { keys: [ES256.publicJwk] } },
        'jwks',
      ],
      [
        'an HMAC alg outside HS*',
        { tokenEndpointAuthMethod: 'client_secret_jwt', tokenEndpointAuthSigningAlg: 'RS256' },
        'token_endpoint_auth_signing_alg',
      ],
      [
        'a signing alg for basic',
        { tokenEndpointAuthMethod: 'client_secret_basic', tokenEndpointAuthSigningAlg: 'HS256' },
        'token_endpoint_auth_signing_alg',
      ],
    ] as [string, CreateClientInput, string][])('%s', async (_case, input, field) => {
      await expect(
        registry.createClient({ clientId: 'invalid-2', ...input }),
      ).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: expect.stringMatching(new RegExp(`^${field}: `)),
      });
      expect(await clients().countBy({ clientId: 'invalid-2' })).toBe(0);
    });

    it('refuses an existing client_id and writes no second audit event', async () => {
      await registry.createClient({ clientId: 'taken', tokenEndpointAuthMethod: 'none' });
      await expect(
        registry.createClient({
          clientId: 'taken',
          tokenEndpointAuthMethod: 'client_secret_basic',
        }),
      ).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: 'client_id: already registered',
      });
      expect(await auditFor('taken')).toHaveLength(1);
      expect(await credentials().countBy({ clientId: 'taken' })).toBe(0);
    });

    it('rolls back the client and its keys when a later write of the transaction fails', async () => {
      const error = await registry
        .createClient(
          {
            clientId: 'half-written',
            tokenEndpointAuthMethod: 'private_key_jwt',
            jwks: { keys: [ES256.publicJwk] },
          },
          'explode',
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(await clients().countBy({ clientId: 'half-written' })).toBe(0);
      expect(await credentials().countBy({ clientId: 'half-written' })).toBe(0);
      expect(await auditFor('half-written')).toEqual([]);
    });
  });

  describe('changes', () => {
    it('setEnabled toggles the client, bumps its version and audits', async () => {
      await registry.createClient({ clientId: 'toggle', tokenEndpointAuthMethod: 'none' });
      const disabled = await registry.setEnabled('toggle', false, 'admin:bob');
      expect(disabled).toMatchObject({ enabled: false, version: 2 });
      expect((await store.findClient('toggle'))!.enabled).toBe(false);
      const enabled = await registry.setEnabled('toggle', true);
      expect(enabled).toMatchObject({ enabled: true, version: 3 });
      expect((await auditFor('toggle')).map((event) => event.action)).toEqual([
        'client.created',
        'client.disabled',
        'client.enabled',
      ]);
    });

    it('refuses changes to an unknown client with ClientNotFoundError', async () => {
      await expect(registry.setEnabled('ghost', false)).rejects.toBeInstanceOf(ClientNotFoundError);
      await expect(registry.deleteClient('ghost')).rejects.toBeInstanceOf(ClientNotFoundError);
      await expect(registry.addPublicKey('ghost', ES256.publicJwk)).rejects.toBeInstanceOf(
        ClientNotFoundError,
      );
      await expect(registry.rotateSecret('ghost')).rejects.toBeInstanceOf(ClientNotFoundError);
      expect(await auditFor('ghost')).toEqual([]);
      expect(await registry.getClient('ghost')).toBeUndefined();
    });

    it('deleteClient removes the client and its credentials and keeps the audit trail', async () => {
      await registry.createClient({
        clientId: 'doomed',
        tokenEndpointAuthMethod: 'client_secret_post',
      });
      await registry.deleteClient('doomed', 'admin:carol');
      expect(await clients().countBy({ clientId: 'doomed' })).toBe(0);
      expect(await credentials().countBy({ clientId: 'doomed' })).toBe(0);
      expect(await store.findClient('doomed')).toBeUndefined();
      expect((await auditFor('doomed')).map((event) => event.action)).toEqual([
        'client.created',
        'client.deleted',
      ]);
    });

    it('addPublicKey stores a key with its validity window', async () => {
      await registry.createClient({
        clientId: 'add-key',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk] },
      });
      const notBefore = new Date('2026-06-01T00:00:00.000Z');
      const expiresAt = new Date('2027-06-01T00:00:00.000Z');
      const added = await registry.addPublicKey('add-key', RS256.publicJwk, {
        notBefore,
        expiresAt,
      });
      expect(added).toMatchObject({ kind: 'public_key', kid: RS256.kid, notBefore, expiresAt });
      const found = await store.findClient('add-key');
      expect(found!.credentials.find((c) => c.id === added.id)).toMatchObject({
        jwk: RS256.publicJwk,
        notBefore,
        expiresAt,
      });
      expect((await auditFor('add-key')).map((event) => event.action)).toEqual([
        'client.created',
        'credential.added',
      ]);
    });

    it.each([
      ['a kid the client already has', 'add-refused', ES256.publicJwk, 'jwk'],
      ['a private key', 'add-refused', fixtureKey('ES384').privateJwk, 'jwk'],
      ['a key for a jwks_uri client', 'add-refused-uri', ES256.publicJwk, 'jwks_uri'],
      [
        'a key for a secret client',
        'add-refused-secret',
        ES256.publicJwk,
        'token_endpoint_auth_method',
      ],
    ])('addPublicKey refuses %s and writes nothing', async (_case, clientId, jwk, field) => {
      if (!(await registry.getClient('add-refused'))) {
        await registry.createClient({
          clientId: 'add-refused',
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [ES256.publicJwk] },
        });
        await registry.createClient({
          clientId: 'add-refused-uri',
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwksUri: 'https://c.example/jwks',
        });
        await registry.createClient({
          clientId: 'add-refused-secret',
          tokenEndpointAuthMethod: 'client_secret_basic',
        });
      }
      const before = await credentials().countBy({ clientId });
      await expect(registry.addPublicKey(clientId, jwk)).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: expect.stringMatching(new RegExp(`^${field}: `)),
      });
      expect(await credentials().countBy({ clientId })).toBe(before);
      expect((await auditFor(clientId)).map((event) => event.action)).toEqual(['client.created']);
    });

    it('addPublicKey keeps the key cap', async () => {
      const capped = new ClientRegistryService(db.dataSource, cipher, store, { maxKeys: 1 });
      await capped.createClient({
        clientId: 'capped',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk] },
      });
      await expect(capped.addPublicKey('capped', RS256.publicJwk)).rejects.toMatchObject({
        description: expect.stringMatching(/^jwks: /),
      });
    });

    it('revokeCredential marks the credential revoked, once', async () => {
      const { client } = await registry.createClient({
        clientId: 'revoke',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk, RS256.publicJwk] },
      });
      const target = client.credentials[0]!.id;
      await registry.revokeCredential('revoke', target);
      await registry.revokeCredential('revoke', target);
      const found = await store.findClient('revoke');
      expect(found!.credentials.find((c) => c.id === target)!.status).toBe('revoked');
      expect(found!.credentials.filter((c) => c.status === 'active')).toHaveLength(1);
      expect((await auditFor('revoke')).map((event) => event.action)).toEqual([
        'client.created',
        'credential.revoked',
      ]);
      await expect(registry.revokeCredential('pk-jwks', target)).rejects.toMatchObject({
        credentialId: target,
      });
    });

    it('rotateSecret issues a new digest secret and revokes the old one', async () => {
      const { clientSecret: old } = await registry.createClient({
        clientId: 'rotate',
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      const fresh = await registry.rotateSecret('rotate');
      expect(fresh).not.toBe(old);
      const found = await store.findClient('rotate');
      const active = found!.credentials.filter((c) => c.status === 'active');
      expect(active).toHaveLength(1);
      expect(secretMatchesDigest(fresh, active[0]!.secretDigest!)).toBe(true);
      const revoked = found!.credentials.filter((c) => c.status === 'revoked');
      expect(secretMatchesDigest(old!, revoked[0]!.secretDigest!)).toBe(true);
      expect((await auditFor('rotate')).map((event) => event.action)).toEqual([
        'client.created',
        'secret.rotated',
      ]);
      expect(JSON.stringify(await auditFor('rotate'))).not.toContain(fresh);
    });

    it('rotateSecret with overlap keeps the old secret until the overlap ends', async () => {
      const { clientSecret: old } = await registry.createClient({
        clientId: 'rotate-overlap',
        tokenEndpointAuthMethod: 'client_secret_jwt',
      });
      const fresh = await registry.rotateSecret('rotate-overlap', { overlapSeconds: 3600 });
      const found = await store.findClient('rotate-overlap');
      expect(found!.credentials).toHaveLength(2);
      const previous = found!.credentials.find((c) => c.secret === old);
      const current = found!.credentials.find((c) => c.secret === fresh);
      expect(previous).toMatchObject({
        kind: 'secret',
        status: 'active',
        expiresAt: new Date(NOW.getTime() + 3_600_000),
      });
      expect(current).toMatchObject({ kind: 'secret', status: 'active' });
      expect(current!.expiresAt).toBeUndefined();
    });

    it.each([
      ['a key client', 'pk-jwks', {}, 'token_endpoint_auth_method'],
      ['a public client', 'public', {}, 'token_endpoint_auth_method'],
      ['a negative overlap', 'rotate', { overlapSeconds: -1 }, 'overlap_seconds'],
    ])('rotateSecret refuses %s', async (_case, clientId, options, field) => {
      await expect(registry.rotateSecret(clientId, options)).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: expect.stringMatching(new RegExp(`^${field}: `)),
      });
    });

    it('getClient shows the registration and bookkeeping, never secret material', async () => {
      const registration = await registry.getClient('hmac');
      expect(registration).toMatchObject({
        clientId: 'hmac',
        version: 1,
        createdAt: NOW,
        updatedAt: NOW,
      });
      expect(registration!.credentials[0]).not.toHaveProperty('secret');
      expect(registration!.credentials[0]).not.toHaveProperty('secretDigest');
      expect(JSON.stringify(registration)).not.toContain('v1.');
    });
  });

  it('answers DependencyUnavailableError when the database is down', async () => {
    const { DataSource } = await import('typeorm');
    const down = new DataSource(db.options);
    await down.initialize();
    await down.destroy();
    const offline = new ClientRegistryService(down, cipher, store);
    await expect(
      offline.createClient({ clientId: 'offline', tokenEndpointAuthMethod: 'none' }),
    ).rejects.toMatchObject({ dependency: 'client-registry', status: 503 });
    await expect(offline.getClient('pk-jwks')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
