import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  FakeKeySets,
  INTROSPECTION_ENDPOINT,
  ISSUER,
  NOW,
  TOKEN_ENDPOINT,
  loadKey,
  signJws,
  type LoadedKey,
} from '../../../../test/fixtures/keys/helpers.js';
import { fixtureKey } from '../../../../test/fixtures/keys/index.js';
import { TEST_DATABASE_KINDS, withTestDatabase } from '../../../../test/utils/database.js';
import { ClientAuthenticator } from '../core/authenticate-client.js';
import { digestSecret, secretMatchesDigest } from '../core/crypto/secret-digest.js';
import { ClientAuthError, OAuthError } from '../core/errors.js';
import { createJwksUriAdmission } from '../core/jwks/jwks-uri-admission.js';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE } from '../core/options.js';
import { MemoryReplayStore } from '../core/replay/memory-replay-store.js';
import type { AuthenticatedClient, TokenEndpointAuthMethod } from '../core/types.js';
import {
  ClientNotFoundError,
  ClientRegistryService,
  audienceReadiness,
  type CreateClientInput,
} from './client-registry.service.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { ClientCredentialEntity } from './entities/client-credential.entity.js';
import { ClientEntity } from './entities/client.entity.js';
import { SecretCipher } from './secret-cipher.js';
import { TypeOrmClientStore } from './typeorm-client-store.js';

/**
 * The registry's update, rotation, expiry, listing and readiness operations (SPEC S3, S2.8),
 * checked against the database and, where credentials change, through the core authenticator
 * reading the registry via {@link TypeOrmClientStore}.
 */

const T0 = NOW;
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const ES256 = fixtureKey('ES256');
const RS256 = fixtureKey('RS256');
const ES384 = fixtureKey('ES384');

/** A JWKS served over loopback http, for `jwks_uri` admission through the registry. */
class JwksServer {
  body: unknown = { keys: [] };
  requests = 0;
  readonly #server: Server = createServer((_req, res: ServerResponse) => {
    this.requests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(this.body));
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}${path}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** RFC 6749 §2.3.1 Basic credentials. */
function basic(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

describe.each(TEST_DATABASE_KINDS)('ClientRegistryService lifecycle on %s (SPEC S3)', (kind) => {
  const db = withTestDatabase(kind);
  const cipher = new SecretCipher(randomBytes(32));
  const clock = { now: T0 };
  const replayStore = new MemoryReplayStore({ purgeIntervalMs: 0, clock: () => Date.now() });
  const jwksServer = new JwksServer();
  let store: TypeOrmClientStore;
  let registry: ClientRegistryService;
  let authenticator: ClientAuthenticator;
  const keys = {} as Record<'ES256' | 'RS256' | 'ES384', LoadedKey>;

  beforeAll(async () => {
    store = new TypeOrmClientStore(db.dataSource, cipher);
    registry = new ClientRegistryService(db.dataSource, cipher, store, {
      clock: () => clock.now,
      admitJwksUri: createJwksUriAdmission({ allowHosts: ['127.0.0.1'] }),
    });
    authenticator = new ClientAuthenticator({
      settings: { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT },
      clientStore: store,
      replayStore,
      keySets: new FakeKeySets([]),
    });
    keys.ES256 = await loadKey('ES256');
    keys.RS256 = await loadKey('RS256');
    keys.ES384 = await loadKey('ES384');
    await jwksServer.start();
  });

  afterAll(async () => {
    await store?.close();
    replayStore.close();
    await jwksServer.stop();
  });

  beforeEach(() => {
    clock.now = T0;
  });

  const credentialRows = (clientId: string) =>
    db.dataSource.getRepository(ClientCredentialEntity).find({
      where: { clientId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  const clientRow = (clientId: string) =>
    db.dataSource.getRepository(ClientEntity).findOneByOrFail({ clientId });
  const auditFor = (clientId: string) =>
    db.dataSource
      .getRepository(AuditEventEntity)
      .find({ where: { clientId }, order: { at: 'ASC', id: 'ASC' } });
  /** Everything stored about a client, to prove a refused change wrote nothing. */
  const snapshot = async (clientId: string) => ({
    client: await clientRow(clientId),
    credentials: await credentialRows(clientId),
    audit: (await auditFor(clientId)).length,
  });

  /** Authenticates `clientId` with a `private_key_jwt` assertion signed by `key`. */
  async function withKey(
    clientId: string,
    key: LoadedKey,
    options: {
      now?: Date;
      aud?: string | string[];
      endpointUrl?: string;
      typ?: string;
    } = {},
  ): Promise<AuthenticatedClient> {
    const now = options.now ?? clock.now;
    const iat = Math.floor(now.getTime() / 1000);
    const assertion = await signJws(
      { alg: key.alg, kid: key.kid, ...(options.typ && { typ: options.typ }) },
      {
        iss: clientId,
        sub: clientId,
        aud: options.aud ?? ISSUER,
        jti: randomBytes(16).toString('base64url'),
        iat,
        exp: iat + 60,
      },
      key.privateKey,
    );
    return authenticator.authenticate({
      body: {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
      },
      endpointUrl: options.endpointUrl ?? TOKEN_ENDPOINT,
      now,
    });
  }

  /** Authenticates with a secret: Basic header, or `client_secret` in the body. */
  function withSecret(
    clientId: string,
    secret: string,
    method: 'client_secret_basic' | 'client_secret_post',
    now = clock.now,
  ): Promise<AuthenticatedClient> {
    return method === 'client_secret_basic'
      ? authenticator.authenticate({
          authorization: basic(clientId, secret),
          body: { grant_type: 'client_credentials' },
          endpointUrl: TOKEN_ENDPOINT,
          now,
        })
      : authenticator.authenticate({
          body: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret },
          endpointUrl: TOKEN_ENDPOINT,
          now,
        });
  }

  /** Authenticates with a `client_secret_jwt` assertion (HS256) under `secret`. */
  async function withHmac(clientId: string, secret: string): Promise<AuthenticatedClient> {
    const iat = Math.floor(clock.now.getTime() / 1000);
    const assertion = await signJws(
      { alg: 'HS256' },
      {
        iss: clientId,
        sub: clientId,
        aud: ISSUER,
        jti: randomBytes(16).toString('base64url'),
        iat,
        exp: iat + 60,
      },
      new TextEncoder().encode(secret),
    );
    return authenticator.authenticate({
      body: {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
        client_assertion: assertion,
      },
      endpointUrl: TOKEN_ENDPOINT,
      now: clock.now,
    });
  }

  async function refusal(promise: Promise<unknown>): Promise<ClientAuthError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientAuthError);
    return error as ClientAuthError;
  }

  const keyClient = (clientId: string, jwks: CreateClientInput['jwks'], extra = {}) =>
    registry.createClient({
      clientId,
      tokenEndpointAuthMethod: 'private_key_jwt',
      jwks,
      ...extra,
    });

  describe('replaceClient (RFC 7592 §2.2)', () => {
    it('replaces every field: those not given return to their defaults', async () => {
      await keyClient(
        'replace-full',
        { keys: [ES256.publicJwk] },
        {
          tokenEndpointAuthSigningAlg: 'ES256',
          scope: 'read write',
          grantTypes: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
          audiencePolicy: 'strict',
          requireStringAudience: true,
          maxAssertionLifetimeSeconds: 60,
          metadata: { client_name: 'Full', contacts: ['ops@example.com'] },
          enabled: false,
        },
      );
      clock.now = at(10);
      const { client, clientSecret } = await registry.replaceClient('replace-full', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk] },
        metadata: { software_id: 'sw-1' },
      });
      expect(clientSecret).toBeUndefined();
      const expected = {
        clientId: 'replace-full',
        tokenEndpointAuthMethod: 'private_key_jwt',
        requireStringAudience: false,
        grantTypes: ['client_credentials'],
        metadata: { software_id: 'sw-1' },
        // `enabled` is not client metadata: kept unless given.
        enabled: false,
      };
      expect(client).toMatchObject({ ...expected, version: 2, createdAt: T0, updatedAt: at(10) });
      const stored = await registry.getClient('replace-full');
      expect(stored).toEqual(client);
      for (const field of [
        'tokenEndpointAuthSigningAlg',
        'scope',
        'audiencePolicy',
        'maxAssertionLifetimeSeconds',
      ]) {
        expect(stored).not.toHaveProperty(field);
      }
      expect(await store.findClient('replace-full')).toMatchObject(expected);
    });

    it('private_key_jwt → client_secret_basic removes the keys and returns a new secret, and back', async () => {
      await keyClient('switch-key-secret', { keys: [ES256.publicJwk] });
      await expect(withKey('switch-key-secret', keys.ES256)).resolves.toMatchObject({
        method: 'private_key_jwt',
      });

      const toSecret = await registry.replaceClient('switch-key-secret', {
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      expect(toSecret.clientSecret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      const rows = await credentialRows('switch-key-secret');
      expect(rows.map((row) => row.kind)).toEqual(['secret_digest']);
      expect(rows[0]!.secretDigest).toBe(digestSecret(toSecret.clientSecret!));
      expect(toSecret.client.credentials).toEqual([
        expect.objectContaining({ id: rows[0]!.id, kind: 'secret_digest' }),
      ]);
      expect((await refusal(withKey('switch-key-secret', keys.ES256))).reason).toBe(
        'method_not_registered',
      );
      await expect(
        withSecret('switch-key-secret', toSecret.clientSecret!, 'client_secret_basic'),
      ).resolves.toMatchObject({ credentialId: rows[0]!.id });

      const back = await registry.replaceClient('switch-key-secret', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [RS256.publicJwk] },
      });
      expect(back.clientSecret).toBeUndefined();
      expect((await credentialRows('switch-key-secret')).map((row) => [row.kind, row.kid])).toEqual(
        [['public_key', RS256.kid]],
      );
      expect(
        (
          await refusal(
            withSecret('switch-key-secret', toSecret.clientSecret!, 'client_secret_basic'),
          )
        ).reason,
      ).toBe('method_not_registered');
      expect((await refusal(withKey('switch-key-secret', keys.ES256))).reason).toBe('kid_unknown');
      await expect(withKey('switch-key-secret', keys.RS256)).resolves.toMatchObject({
        keyId: RS256.kid,
      });
      expect((await clientRow('switch-key-secret')).version).toBe(3);
    });

    it.each([
      ['client_secret_basic', 'client_secret_post'],
      ['client_secret_post', 'client_secret_basic'],
    ] as const)('%s → %s issues a new secret; the old one is refused', async (from, to) => {
      const clientId = `switch-${from}-${to}`.replace(/_/g, '-');
      const { clientSecret: old } = await registry.createClient({
        clientId,
        tokenEndpointAuthMethod: from,
      });
      const oldRow = (await credentialRows(clientId))[0]!;
      const { clientSecret: fresh } = await registry.replaceClient(clientId, {
        tokenEndpointAuthMethod: to,
      });
      expect(fresh).toBeDefined();
      expect(fresh).not.toBe(old);
      const rows = await credentialRows(clientId);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.id).not.toBe(oldRow.id);
      expect(secretMatchesDigest(fresh!, rows[0]!.secretDigest!)).toBe(true);
      expect((await refusal(withSecret(clientId, old!, to))).reason).toBe('secret_invalid');
      await expect(withSecret(clientId, fresh!, to)).resolves.toMatchObject({ method: to });
    });

    it('client_secret_post → client_secret_jwt issues a new secret stored encrypted', async () => {
      const { clientSecret: old } = await registry.createClient({
        clientId: 'switch-post-jwt',
        tokenEndpointAuthMethod: 'client_secret_post',
      });
      const { clientSecret: fresh } = await registry.replaceClient('switch-post-jwt', {
        tokenEndpointAuthMethod: 'client_secret_jwt',
      });
      expect(fresh).not.toBe(old);
      const rows = await credentialRows('switch-post-jwt');
      expect(rows.map((row) => [row.kind, row.secretDigest])).toEqual([['secret', null]]);
      expect(rows[0]!.secretCiphertext).not.toContain(fresh);
      await expect(withHmac('switch-post-jwt', fresh!)).resolves.toMatchObject({
        method: 'client_secret_jwt',
      });
      expect((await refusal(withHmac('switch-post-jwt', old!))).reason).toBe('signature_invalid');
    });

    it('keeping a secret method keeps the secret: the old secret still authenticates', async () => {
      const { clientSecret } = await registry.createClient({
        clientId: 'keep-secret',
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      const before = await credentialRows('keep-secret');
      await withSecret('keep-secret', clientSecret!, 'client_secret_basic');
      const replaced = await registry.replaceClient('keep-secret', {
        tokenEndpointAuthMethod: 'client_secret_basic',
        scope: 'read',
      });
      expect(replaced.clientSecret).toBeUndefined();
      expect(replaced.client.scope).toBe('read');
      expect(await credentialRows('keep-secret')).toEqual(before);
      await expect(
        withSecret('keep-secret', clientSecret!, 'client_secret_basic'),
      ).resolves.toMatchObject({ credentialId: before[0]!.id, client: { scope: 'read' } });
    });

    it('reconciles jwks by thumbprint: a listed key keeps its row and last_used_at', async () => {
      await keyClient('reconcile', { keys: [ES256.publicJwk, RS256.publicJwk] });
      const used = await withKey('reconcile', keys.ES256);
      await store.flush();
      const before = await credentialRows('reconcile');
      const es256Row = before.find((row) => row.kid === ES256.kid)!;
      expect(es256Row.id).toBe(used.credentialId);
      expect(es256Row.lastUsedAt).toEqual(T0);

      clock.now = at(60);
      const { client } = await registry.replaceClient('reconcile', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        // The same key material, as a fresh object whose members are in another order.
        jwks: {
          keys: [
            { ...ES384.publicJwk },
            Object.fromEntries(Object.entries(ES256.publicJwk).reverse()),
          ],
        },
      });
      const after = await credentialRows('reconcile');
      expect(after.map((row) => row.kid).sort()).toEqual([ES256.kid, ES384.kid].sort());
      const kept = after.find((row) => row.kid === ES256.kid)!;
      expect(kept).toMatchObject({ id: es256Row.id, lastUsedAt: T0, createdAt: T0 });
      expect(after.find((row) => row.kid === ES384.kid)!.createdAt).toEqual(at(60));
      expect(client.credentials.map((c) => c.id).sort()).toEqual(after.map((r) => r.id).sort());

      const [event] = (await auditFor('reconcile')).slice(-1);
      expect(event!.details).toMatchObject({
        removed_credentials: [expect.objectContaining({ kid: RS256.kid })],
        added_credentials: [expect.objectContaining({ kid: ES384.kid })],
      });
      expect((await refusal(withKey('reconcile', keys.RS256))).reason).toBe('kid_unknown');
      await expect(withKey('reconcile', keys.ES384)).resolves.toBeDefined();
      await expect(withKey('reconcile', keys.ES256)).resolves.toMatchObject({
        credentialId: es256Row.id,
      });
    });

    it('refuses a current secret that does not match and changes nothing', async () => {
      const { clientSecret } = await registry.createClient({
        clientId: 'current-secret',
        tokenEndpointAuthMethod: 'client_secret_post',
      });
      const before = await snapshot('current-secret');
      const error = await registry
        .replaceClient(
          'current-secret',
          { tokenEndpointAuthMethod: 'client_secret_basic', scope: 'admin' },
          { currentSecret: `${clientSecret}x`, rotateRegistrationAccessToken: true },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({
        error: 'invalid_client_metadata',
        description: expect.stringMatching(/^client_secret: /),
      });
      expect(await snapshot('current-secret')).toEqual(before);

      const accepted = await registry.replaceClient(
        'current-secret',
        { tokenEndpointAuthMethod: 'client_secret_post', scope: 'admin' },
        { currentSecret: clientSecret! },
      );
      expect(accepted.client).toMatchObject({ scope: 'admin', version: 2 });
    });

    it('refuses a stale expectedVersion with conflict and changes nothing', async () => {
      await keyClient('versioned', { keys: [ES256.publicJwk] });
      await registry.replaceClient(
        'versioned',
        { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [ES256.publicJwk] } },
        { expectedVersion: 1 },
      );
      const before = await snapshot('versioned');
      const error = await registry
        .replaceClient(
          'versioned',
          { tokenEndpointAuthMethod: 'client_secret_basic' },
          { expectedVersion: 1 },
        )
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ error: 'conflict', status: 409 });
      expect((error as OAuthError).description).toMatch(/^version: /);
      expect(await snapshot('versioned')).toEqual(before);
    });

    it('refuses an unknown client and invalid metadata with nothing written', async () => {
      await expect(
        registry.replaceClient('ghost-replace', { tokenEndpointAuthMethod: 'none' }),
      ).rejects.toMatchObject({ error: 'not_found' });
      await keyClient('replace-invalid', { keys: [ES256.publicJwk] });
      const before = await snapshot('replace-invalid');
      await expect(
        registry.replaceClient('replace-invalid', {
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [{ ...ES256.publicJwk, d: ES256.privateJwk.d }] },
        }),
      ).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: expect.stringMatching(/^jwks\.keys\[0\]: /),
      });
      expect(await snapshot('replace-invalid')).toEqual(before);
    });

    it('rotates the registration access token on request: the old one stops verifying', async () => {
      const created = await registry.createClient(
        { clientId: 'rat', tokenEndpointAuthMethod: 'none' },
        { issueRegistrationAccessToken: true },
      );
      const first = created.registrationAccessToken!;
      expect(await registry.verifyRegistrationAccessToken('rat', first)).toBe(true);

      const kept = await registry.replaceClient('rat', { tokenEndpointAuthMethod: 'none' });
      expect(kept.registrationAccessToken).toBeUndefined();
      expect(await registry.verifyRegistrationAccessToken('rat', first)).toBe(true);

      const rotated = await registry.replaceClient(
        'rat',
        { tokenEndpointAuthMethod: 'none' },
        { rotateRegistrationAccessToken: true },
      );
      const second = rotated.registrationAccessToken!;
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      expect(await registry.verifyRegistrationAccessToken('rat', first)).toBe(false);
      expect(await registry.verifyRegistrationAccessToken('rat', second)).toBe(true);
      expect(await registry.verifyRegistrationAccessToken('rat-other', second)).toBe(false);
      expect((await clientRow('rat')).registrationAccessTokenDigest).toBe(digestSecret(second));
    });

    it('invalidates the cache: a store read right after sees the change', async () => {
      await keyClient('cached', { keys: [ES256.publicJwk] }, { scope: 'read' });
      const cached = await store.findClient('cached');
      expect(await store.findClient('cached')).toBe(cached);
      await registry.replaceClient('cached', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [RS256.publicJwk] },
        scope: 'write',
      });
      const fresh = await store.findClient('cached');
      expect(fresh).toMatchObject({ scope: 'write' });
      expect(fresh!.credentials.map((c) => c.kid)).toEqual([RS256.kid]);
    });

    it('audits client.updated with the changed field names and never a secret', async () => {
      const created = await registry.createClient(
        {
          clientId: 'audit-update',
          tokenEndpointAuthMethod: 'client_secret_basic',
          scope: 'read',
          metadata: { client_name: 'Before' },
        },
        { issueRegistrationAccessToken: true },
      );
      clock.now = at(5);
      const replaced = await registry.replaceClient(
        'audit-update',
        {
          tokenEndpointAuthMethod: 'client_secret_post',
          scope: 'read write',
          metadata: { client_name: 'After' },
        },
        { actor: 'rfc7592:audit-update', rotateRegistrationAccessToken: true },
      );
      const events = await auditFor('audit-update');
      expect(events.map((event) => event.action)).toEqual(['client.created', 'client.updated']);
      const updated = events[1]!;
      expect(updated).toMatchObject({ actor: 'rfc7592:audit-update', at: at(5) });
      expect([...(updated.details.changed as string[])].sort()).toEqual(
        ['metadata', 'scope', 'token_endpoint_auth_method'].sort(),
      );
      expect(updated.details).toMatchObject({
        registration_access_token_rotated: true,
        removed_credentials: [expect.objectContaining({ kind: 'secret_digest' })],
        added_credentials: [expect.objectContaining({ kind: 'secret_digest' })],
      });
      const text = JSON.stringify(events);
      for (const secret of [
        created.clientSecret!,
        replaced.clientSecret!,
        created.registrationAccessToken!,
        replaced.registrationAccessToken!,
      ]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(digestSecret(secret));
      }
    });

    it('lists enabled among the changed fields when the replacement sets it', async () => {
      await registry.createClient({ clientId: 'audit-enabled', tokenEndpointAuthMethod: 'none' });
      clock.now = at(1);
      await registry.replaceClient('audit-enabled', {
        tokenEndpointAuthMethod: 'none',
        enabled: false,
      });
      const [, updated] = await auditFor('audit-enabled');
      expect(updated!.details.changed).toEqual(['enabled']);
      expect((await store.findClient('audit-enabled'))!.enabled).toBe(false);
    });

    it.each([
      [
        'two methods',
        {
          tokenEndpointAuthMethod: 'client_secret_basic',
        } as Omit<CreateClientInput, 'clientId'>,
        {
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [RS256.publicJwk] },
        } as Omit<CreateClientInput, 'clientId'>,
      ],
      [
        'two key sets',
        { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [RS256.publicJwk] } },
        {
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwks: { keys: [ES384.publicJwk, ES256.publicJwk] },
        },
      ] as [string, Omit<CreateClientInput, 'clientId'>, Omit<CreateClientInput, 'clientId'>],
    ])(
      'two concurrent replacements (%s) leave the credentials of exactly one of them',
      async (_case, first, second) => {
        for (let round = 0; round < 5; round++) {
          const clientId = `concurrent-${_case.replace(/ /g, '-')}-${round}`;
          await keyClient(clientId, { keys: [ES256.publicJwk] });
          const [a, b] = await Promise.all([
            registry.replaceClient(clientId, first),
            registry.replaceClient(clientId, second),
          ]);
          const row = await clientRow(clientId);
          expect(row.version).toBe(3);
          const rows = await credentialRows(clientId);
          const shape = rows.map((r) => r.kid ?? r.kind).sort();
          const expectedFor = (input: Omit<CreateClientInput, 'clientId'>) =>
            input.jwks ? input.jwks.keys.map((key) => key.kid as string).sort() : ['secret_digest'];
          const winner =
            row.tokenEndpointAuthMethod === first.tokenEndpointAuthMethod &&
            JSON.stringify(shape) === JSON.stringify(expectedFor(first))
              ? { input: first, result: a }
              : { input: second, result: b };
          expect(row.tokenEndpointAuthMethod).toBe(winner.input.tokenEndpointAuthMethod);
          expect(shape).toEqual(expectedFor(winner.input));
          if (winner.result.clientSecret !== undefined) {
            expect(secretMatchesDigest(winner.result.clientSecret, rows[0]!.secretDigest!)).toBe(
              true,
            );
          }
          const store2 = await registry.getClient(clientId);
          expect(store2!.credentials.map((c) => c.id).sort()).toEqual(rows.map((r) => r.id).sort());
          expect(
            (await auditFor(clientId)).filter((e) => e.action === 'client.updated'),
          ).toHaveLength(2);
        }
      },
    );
  });

  describe('rotateKey (SPEC S3 rotation with overlap)', () => {
    it('adds the new key active and gives the previous keys now + overlap', async () => {
      await keyClient('rotate-key', { keys: [ES256.publicJwk] });
      clock.now = at(100);
      const added = await registry.rotateKey('rotate-key', RS256.publicJwk, {
        overlapSeconds: 3600,
        actor: 'admin:dana',
      });
      expect(added).toMatchObject({ kind: 'public_key', kid: RS256.kid, status: 'active' });
      expect(added.expiresAt).toBeUndefined();
      const rows = await credentialRows('rotate-key');
      expect(rows.find((r) => r.kid === ES256.kid)).toMatchObject({
        status: 'active',
        expiresAt: at(3700),
      });
      expect(rows.find((r) => r.kid === RS256.kid)).toMatchObject({
        id: added.id,
        expiresAt: null,
        notBefore: at(100),
      });
      const [, event] = await auditFor('rotate-key');
      expect(event).toMatchObject({ action: 'credential.rotated', actor: 'admin:dana' });
      expect(event!.details).toMatchObject({ overlap_seconds: 3600, kid: RS256.kid });
      expect((await clientRow('rotate-key')).version).toBe(2);
    });

    it('the old key authenticates inside the overlap and is refused after it', async () => {
      await keyClient('rotate-auth', { keys: [ES256.publicJwk] });
      clock.now = at(10);
      await registry.rotateKey('rotate-auth', RS256.publicJwk, { overlapSeconds: 600 });
      await expect(withKey('rotate-auth', keys.ES256, { now: at(11) })).resolves.toBeDefined();
      await expect(withKey('rotate-auth', keys.RS256, { now: at(11) })).resolves.toBeDefined();
      await expect(withKey('rotate-auth', keys.ES256, { now: at(609) })).resolves.toBeDefined();
      const late = await refusal(withKey('rotate-auth', keys.ES256, { now: at(610) }));
      expect(['kid_unknown', 'no_usable_key']).toContain(late.reason);
      await expect(withKey('rotate-auth', keys.RS256, { now: at(610) })).resolves.toBeDefined();
    });

    it('with overlap 0 the previous keys are refused at once', async () => {
      await keyClient('rotate-now', { keys: [ES256.publicJwk, ES384.publicJwk] });
      clock.now = at(20);
      await registry.rotateKey('rotate-now', RS256.publicJwk, { overlapSeconds: 0 });
      const rows = await credentialRows('rotate-now');
      expect(rows.filter((r) => r.kid !== RS256.kid).map((r) => r.expiresAt)).toEqual([
        at(20),
        at(20),
      ]);
      for (const key of [keys.ES256, keys.ES384]) {
        await refusal(withKey('rotate-now', key, { now: at(20) }));
      }
      await expect(withKey('rotate-now', keys.RS256, { now: at(20) })).resolves.toBeDefined();
    });

    it('keeps an earlier expiry of a previous key', async () => {
      await keyClient('rotate-earlier', { keys: [ES256.publicJwk] });
      const es256 = (await credentialRows('rotate-earlier'))[0]!;
      await registry.expireCredential('rotate-earlier', es256.id, { at: at(50) });
      await registry.rotateKey('rotate-earlier', RS256.publicJwk, { overlapSeconds: 3600 });
      const rows = await credentialRows('rotate-earlier');
      expect(rows.find((r) => r.id === es256.id)!.expiresAt).toEqual(at(50));
      expect(rows.find((r) => r.id !== es256.id)!.expiresAt).toBeNull();
    });

    it.each([
      ['a jwks_uri client', 'rotate-uri', RS256.publicJwk, 'jwks_uri'],
      ['a secret client', 'rotate-secret', RS256.publicJwk, 'token_endpoint_auth_method'],
      ['a kid the client already has', 'rotate-dup', ES256.publicJwk, 'jwk'],
      ['a private key', 'rotate-dup', fixtureKey('ES384', 1).privateJwk, 'jwk'],
    ])('refuses %s and writes nothing', async (_case, clientId, jwk, field) => {
      if (!(await registry.getClient('rotate-dup'))) {
        jwksServer.body = { keys: [ES256.publicJwk] };
        await registry.createClient({
          clientId: 'rotate-uri',
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwksUri: jwksServer.url('/rotate-uri'),
        });
        await registry.createClient({
          clientId: 'rotate-secret',
          tokenEndpointAuthMethod: 'client_secret_basic',
        });
        await keyClient('rotate-dup', { keys: [ES256.publicJwk] });
      }
      const before = await snapshot(clientId);
      await expect(registry.rotateKey(clientId, jwk, { overlapSeconds: 60 })).rejects.toMatchObject(
        {
          error: 'invalid_client_metadata',
          description: expect.stringMatching(new RegExp(`^${field}: `)),
        },
      );
      expect(await snapshot(clientId)).toEqual(before);
    });

    it.each([-1, 1.5, 30 * 86_400 + 1])('refuses overlapSeconds %p', async (overlapSeconds) => {
      await expect(
        registry.rotateKey('rotate-key', ES384.publicJwk, { overlapSeconds }),
      ).rejects.toMatchObject({ description: expect.stringMatching(/^overlap_seconds: /) });
    });

    it('refuses an unknown client', async () => {
      await expect(registry.rotateKey('ghost-rotate', RS256.publicJwk)).rejects.toBeInstanceOf(
        ClientNotFoundError,
      );
    });
  });

  describe('expireCredential', () => {
    it('sets the expiry (default now) and authentication refuses the key from then on', async () => {
      await keyClient('expire', { keys: [ES256.publicJwk, RS256.publicJwk] });
      const rows = await credentialRows('expire');
      const es256 = rows.find((r) => r.kid === ES256.kid)!;
      const rs256 = rows.find((r) => r.kid === RS256.kid)!;

      clock.now = at(30);
      const info = await registry.expireCredential('expire', es256.id, { actor: 'admin:erin' });
      expect(info).toMatchObject({ id: es256.id, expiresAt: at(30) });
      expect(info).not.toHaveProperty('jwk.d');
      await refusal(withKey('expire', keys.ES256, { now: at(30) }));

      clock.now = at(31);
      const later = await registry.expireCredential('expire', rs256.id, { at: at(100) });
      expect(later.expiresAt).toEqual(at(100));
      await expect(withKey('expire', keys.RS256, { now: at(99) })).resolves.toBeDefined();
      await refusal(withKey('expire', keys.RS256, { now: at(100) }));
      const events = await auditFor('expire');
      expect(events.map((e) => e.action)).toEqual([
        'client.created',
        'credential.expired',
        'credential.expired',
      ]);
      expect(events[1]).toMatchObject({ actor: 'admin:erin' });
    });

    it('keeps an earlier expiry and writes nothing', async () => {
      await keyClient('expire-earlier', { keys: [ES256.publicJwk] });
      const [row] = await credentialRows('expire-earlier');
      await registry.expireCredential('expire-earlier', row!.id, { at: at(10) });
      const before = await snapshot('expire-earlier');
      const info = await registry.expireCredential('expire-earlier', row!.id, { at: at(20) });
      expect(info.expiresAt).toEqual(at(10));
      expect(await snapshot('expire-earlier')).toEqual(before);
    });

    it('answers ClientNotFoundError (not_found) for an unknown credential or client', async () => {
      await keyClient('expire-unknown', { keys: [ES256.publicJwk] });
      const [row] = await credentialRows('expire-unknown');
      const error = await registry
        .expireCredential('expire-unknown', '00000000-0000-4000-8000-000000000000')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientNotFoundError);
      expect(error).toMatchObject({ error: 'not_found', status: 404 });
      // A credential of another client is not found through this one.
      await expect(registry.expireCredential('expire', row!.id)).rejects.toMatchObject({
        error: 'not_found',
        credentialId: row!.id,
      });
      await expect(registry.expireCredential('ghost-expire', row!.id)).rejects.toBeInstanceOf(
        ClientNotFoundError,
      );
      expect((await credentialRows('expire-unknown'))[0]!.expiresAt).toBeNull();
    });

    it('refuses an invalid date', async () => {
      const [row] = await credentialRows('expire-unknown');
      await expect(
        registry.expireCredential('expire-unknown', row!.id, { at: new Date(NaN) }),
      ).rejects.toMatchObject({ description: expect.stringMatching(/^at: /) });
    });
  });

  describe('listClients', () => {
    const listed: [string, TokenEndpointAuthMethod, Record<string, unknown>, boolean][] = [
      ['lst-alpha', 'none', { client_name: 'Billing Service' }, true],
      ['lst-bravo', 'client_secret_basic', { contacts: ['ops@billing.example'] }, true],
      ['lst-charlie', 'client_secret_basic', { client_name: 'Reports' }, false],
      ['lst-50%off', 'none', {}, true],
      ['lst-delta', 'client_secret_post', { client_name: 'Under_score' }, true],
      ['lst-echo', 'none', { client_name: 'Percent-free' }, true],
    ];

    beforeAll(async () => {
      for (const [index, [clientId, method, metadata, enabled]] of listed.entries()) {
        clock.now = at(-100_000 + index);
        await registry.createClient({
          clientId,
          tokenEndpointAuthMethod: method,
          metadata,
          enabled,
        });
      }
      clock.now = T0;
    });

    const ids = (page: { items: readonly { clientId: string }[] }) =>
      page.items.map((item) => item.clientId);

    it('pages newest first with limit, offset and the total', async () => {
      const first = await registry.listClients({ name: 'lst-', limit: 4 });
      expect(first).toMatchObject({ total: 6, limit: 4, offset: 0 });
      expect(ids(first)).toEqual(['lst-echo', 'lst-delta', 'lst-50%off', 'lst-charlie']);
      const second = await registry.listClients({ name: 'lst-', limit: 4, offset: 4 });
      expect(second).toMatchObject({ total: 6, offset: 4 });
      expect(ids(second)).toEqual(['lst-bravo', 'lst-alpha']);
      expect(ids(await registry.listClients({ name: 'lst-', offset: 6 }))).toEqual([]);
      expect((await registry.listClients({ name: 'lst-' })).limit).toBe(20);
    });

    it('filters by method and by status', async () => {
      const basic = await registry.listClients({ name: 'lst-', method: 'client_secret_basic' });
      expect(ids(basic)).toEqual(['lst-charlie', 'lst-bravo']);
      expect(basic.total).toBe(2);
      expect(ids(await registry.listClients({ name: 'lst-', status: 'disabled' }))).toEqual([
        'lst-charlie',
      ]);
      const enabled = await registry.listClients({
        name: 'lst-',
        status: 'enabled',
        method: 'client_secret_basic',
      });
      expect(ids(enabled)).toEqual(['lst-bravo']);
    });

    it('matches a case-insensitive substring of the client id or client_name only', async () => {
      expect(ids(await registry.listClients({ name: 'BILLING' }))).toEqual(['lst-alpha']);
      expect(ids(await registry.listClients({ name: 'LST-CHAR' }))).toEqual(['lst-charlie']);
      // Other metadata (contacts) is not searched.
      expect(ids(await registry.listClients({ name: 'ops@' }))).toEqual([]);
      expect(ids(await registry.listClients({ name: 'client_name' }))).toEqual([]);
    });

    it('treats % and _ in the search literally', async () => {
      expect(ids(await registry.listClients({ name: '%' }))).toEqual(['lst-50%off']);
      expect(ids(await registry.listClients({ name: '50%o' }))).toEqual(['lst-50%off']);
      expect(ids(await registry.listClients({ name: '_' }))).toEqual(['lst-delta']);
      expect(ids(await registry.listClients({ name: 'lst-_lpha' }))).toEqual([]);
    });

    it('returns the operator view: credentials without secret material', async () => {
      const page = await registry.listClients({ name: 'lst-bravo' });
      expect(page.items[0]!.credentials).toEqual([
        expect.objectContaining({ kind: 'secret_digest', status: 'active' }),
      ]);
      expect(JSON.stringify(page)).not.toContain('sha256:');
    });

    it.each([
      [{ limit: 0 }, 'limit'],
      [{ limit: 101 }, 'limit'],
      [{ limit: 2.5 }, 'limit'],
      [{ offset: -1 }, 'offset'],
    ])('refuses %p with invalid_request', async (query, field) => {
      await expect(registry.listClients(query)).rejects.toMatchObject({
        error: 'invalid_request',
        description: expect.stringMatching(new RegExp(`^${field}: `)),
      });
    });
  });

  describe('listAuditEvents and listFailures', () => {
    beforeAll(async () => {
      clock.now = at(-50_000);
      await registry.createClient({ clientId: 'events-a', tokenEndpointAuthMethod: 'none' });
      clock.now = at(-49_000);
      await registry.setEnabled('events-a', false, 'admin:fay');
      clock.now = at(-48_000);
      await registry.setEnabled('events-a', true, 'admin:fay');
      clock.now = at(-47_500);
      await registry.createClient({
        clientId: 'events-b',
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      clock.now = T0;
      // Failures through the real path: authenticator → store buffer → flush.
      for (const [seconds, requestId] of [
        [-40_000, 'req-1'],
        [-39_000, 'req-2'],
        [-38_000, 'req-3'],
      ] as const) {
        await authenticator
          .authenticate({
            authorization: basic('events-b', 'wrong-secret'),
            body: { grant_type: 'client_credentials' },
            endpointUrl: TOKEN_ENDPOINT,
            now: at(seconds),
            requestId,
          })
          .catch(() => undefined);
      }
      await authenticator
        .authenticate({
          body: { grant_type: 'client_credentials', client_id: 'events-a', client_secret: 'x' },
          endpointUrl: TOKEN_ENDPOINT,
          now: at(-37_000),
          requestId: 'req-4',
        })
        .catch(() => undefined);
      await store.flush();
    });

    it('lists audit events newest first, by client, before an instant and up to a limit', async () => {
      const events = await registry.listAuditEvents({ clientId: 'events-a' });
      expect(events.map((e) => [e.action, e.at])).toEqual([
        ['client.enabled', at(-48_000)],
        ['client.disabled', at(-49_000)],
        ['client.created', at(-50_000)],
      ]);
      expect(events[0]).toMatchObject({ actor: 'admin:fay', clientId: 'events-a' });
      expect(
        (await registry.listAuditEvents({ clientId: 'events-a', before: at(-48_000) })).map(
          (e) => e.action,
        ),
      ).toEqual(['client.disabled', 'client.created']);
      expect(
        (await registry.listAuditEvents({ clientId: 'events-a', limit: 1 })).map((e) => e.action),
      ).toEqual(['client.enabled']);
      const all = await registry.listAuditEvents({ before: at(-47_000), limit: 500 });
      expect(all.slice(0, 2).map((e) => [e.clientId, e.action])).toEqual([
        ['events-b', 'client.created'],
        ['events-a', 'client.enabled'],
      ]);
      expect(all.every((e, i) => i === 0 || e.at <= all[i - 1]!.at)).toBe(true);
    });

    it('lists recent failures newest first with reason and request id', async () => {
      const failures = await registry.listFailures({ clientId: 'events-b' });
      expect(failures.map((f) => [f.requestId, f.reason, f.at])).toEqual([
        ['req-3', 'secret_invalid', at(-38_000)],
        ['req-2', 'secret_invalid', at(-39_000)],
        ['req-1', 'secret_invalid', at(-40_000)],
      ]);
      expect(failures[0]).toMatchObject({ clientId: 'events-b', method: 'client_secret_basic' });
      expect(JSON.stringify(failures)).not.toContain('wrong-secret');
      expect(
        (await registry.listFailures({ clientId: 'events-b', before: at(-39_000), limit: 5 })).map(
          (f) => f.requestId,
        ),
      ).toEqual(['req-1']);
      expect(
        (await registry.listFailures({ before: at(-36_000), limit: 2 })).map((f) => f.requestId),
      ).toEqual(['req-4', 'req-3']);
      expect(await registry.listFailures({ clientId: 'events-none' })).toEqual([]);
    });

    it.each([0, 501, 1.5, -3])('refuses limit %p with invalid_request', async (limit) => {
      await expect(registry.listAuditEvents({ limit })).rejects.toMatchObject({
        error: 'invalid_request',
        description: expect.stringMatching(/^limit: /),
      });
      await expect(registry.listFailures({ limit })).rejects.toMatchObject({
        error: 'invalid_request',
      });
    });
  });

  describe('readiness (SPEC S2.8)', () => {
    it.each([
      ['issuer', ISSUER, undefined, true, 'aud is the issuer identifier'],
      ['issuer_array', [ISSUER], undefined, true, 'aud is a one-member array holding the issuer'],
      ['token_endpoint', TOKEN_ENDPOINT, undefined, false, 'aud is the token endpoint URL'],
      [
        'endpoint_url',
        INTROSPECTION_ENDPOINT,
        INTROSPECTION_ENDPOINT,
        false,
        'aud is the URL of the endpoint called',
      ],
      [
        'issuer_among_others',
        [ISSUER, 'https://other.example'],
        undefined,
        false,
        'aud holds values besides the issuer',
      ],
    ] as [string, string | string[], string | undefined, boolean, string][])(
      'records the %s form of an accepted assertion and judges it for strict',
      async (form, aud, endpointUrl, passesStrict, reason) => {
        const clientId = `ready-${form.replace(/_/g, '-')}`;
        await keyClient(clientId, { keys: [ES256.publicJwk] });
        clock.now = at(5);
        await withKey(clientId, keys.ES256, {
          aud,
          ...(endpointUrl && { endpointUrl }),
          now: at(5),
        });
        await store.flush();
        const readiness = await registry.readiness(clientId);
        expect(readiness).toEqual({
          clientId,
          tokenEndpointAuthMethod: 'private_key_jwt',
          audiencePolicy: 'compat',
          lastAudienceForm: form,
          lastAuthenticatedAt: at(5),
          passesStrict,
          reason,
        });
      },
    );

    it('records the typ and the effective policy', async () => {
      await keyClient('ready-typ', { keys: [ES256.publicJwk] }, { audiencePolicy: 'strict' });
      await withKey('ready-typ', keys.ES256, { typ: 'client-authentication+jwt' });
      await store.flush();
      expect(await registry.readiness('ready-typ', 'compat')).toMatchObject({
        audiencePolicy: 'strict',
        lastAudienceForm: 'issuer',
        lastAssertionTyp: 'client-authentication+jwt',
        passesStrict: true,
      });
      expect((await registry.readiness('ready-issuer', 'strict')).audiencePolicy).toBe('strict');
    });

    it('a one-member array fails strict once the client requires a string', async () => {
      await keyClient('ready-string', { keys: [ES256.publicJwk] });
      await withKey('ready-string', keys.ES256, { aud: [ISSUER] });
      await store.flush();
      expect((await registry.readiness('ready-string')).passesStrict).toBe(true);
      await registry.replaceClient('ready-string', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys: [ES256.publicJwk] },
        requireStringAudience: true,
      });
      expect(await registry.readiness('ready-string')).toMatchObject({
        lastAudienceForm: 'issuer_array',
        passesStrict: false,
        reason: 'aud is a one-member array but the client requires a string',
      });
      const client = (await registry.getClient('ready-string'))!;
      expect(
        audienceReadiness({ ...client, requireStringAudience: false }, 'strict'),
      ).toMatchObject({ passesStrict: true, audiencePolicy: 'strict' });
    });

    it('is undefined before any assertion, and for clients without assertions', async () => {
      await keyClient('ready-none', { keys: [ES256.publicJwk] });
      const none = await registry.readiness('ready-none');
      expect(none.passesStrict).toBeUndefined();
      expect(none).not.toHaveProperty('passesStrict');
      expect(none.reason).toBe('no accepted assertion recorded yet');

      const { clientSecret } = await registry.createClient({
        clientId: 'ready-secret',
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      await withSecret('ready-secret', clientSecret!, 'client_secret_basic');
      await store.flush();
      const secret = await registry.readiness('ready-secret');
      expect(secret).not.toHaveProperty('passesStrict');
      expect(secret.reason).toBe('the client does not authenticate with an assertion');
      expect(secret.lastAuthenticatedAt).toEqual(T0);
    });

    it('refuses an unknown client', async () => {
      await expect(registry.readiness('ghost-ready')).rejects.toBeInstanceOf(ClientNotFoundError);
    });
  });

  describe('jwks_uri admission through the registry (SPEC S3)', () => {
    it('stores a jwks_uri whose keys were fetched and usable', async () => {
      jwksServer.body = { keys: [ES256.publicJwk] };
      const before = jwksServer.requests;
      const { client } = await registry.createClient({
        clientId: 'uri-good',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: jwksServer.url('/good'),
      });
      expect(client.jwksUri).toBe(jwksServer.url('/good'));
      expect(jwksServer.requests).toBe(before + 1);
    });

    it.each([
      ['an empty set', { keys: [] }],
      ['a private key', { keys: [fixtureKey('ES256', 1).privateJwk] }],
      ['not a key set', { hello: 'world' }],
    ])(
      'maps a refused set (%s) to invalid_client_metadata jwks_uri and stores nothing',
      async (_case, body) => {
        jwksServer.body = body;
        const clients = await db.dataSource.getRepository(ClientEntity).count();
        const error = await registry
          .createClient({
            clientId: 'uri-bad',
            tokenEndpointAuthMethod: 'private_key_jwt',
            jwksUri: jwksServer.url('/bad'),
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OAuthError);
        expect(error).toMatchObject({
          error: 'invalid_client_metadata',
          description: expect.stringMatching(/^jwks_uri: /),
        });
        expect((error as OAuthError).description).not.toContain(
          fixtureKey('ES256', 1).privateJwk.d!,
        );
        expect(await db.dataSource.getRepository(ClientEntity).count()).toBe(clients);
        expect(await auditFor('uri-bad')).toEqual([]);
      },
    );

    it('refuses a host that is neither public nor allow-listed before any fetch', async () => {
      const before = jwksServer.requests;
      const url = jwksServer.url('/private').replace('http://127.0.0.1', 'https://127.0.0.2');
      await expect(
        registry.createClient({
          clientId: 'uri-private',
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwksUri: url,
        }),
      ).rejects.toMatchObject({
        error: 'invalid_client_metadata',
        description: expect.stringMatching(/^jwks_uri: .*loopback/),
      });
      expect(jwksServer.requests).toBe(before);
      expect(await registry.getClient('uri-private')).toBeUndefined();
    });

    it('admits a new jwks_uri on replace, and leaves the client unchanged when refused', async () => {
      jwksServer.body = { keys: [ES256.publicJwk] };
      await registry.createClient({
        clientId: 'uri-replace',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: jwksServer.url('/one'),
      });
      const requests = jwksServer.requests;
      // The same URI is not fetched again.
      await registry.replaceClient('uri-replace', {
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwksUri: jwksServer.url('/one'),
        scope: 'read',
      });
      expect(jwksServer.requests).toBe(requests);
      const before = await snapshot('uri-replace');
      jwksServer.body = { keys: [] };
      await expect(
        registry.replaceClient('uri-replace', {
          tokenEndpointAuthMethod: 'private_key_jwt',
          jwksUri: jwksServer.url('/two'),
        }),
      ).rejects.toMatchObject({ description: expect.stringMatching(/^jwks_uri: /) });
      expect(jwksServer.requests).toBe(requests + 1);
      expect(await snapshot('uri-replace')).toEqual(before);
    });
  });
});
