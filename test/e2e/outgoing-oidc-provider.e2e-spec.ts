/**
 * Interoperability with an independent server implementation (SPEC S7): assertions signed by
 * the library are accepted by `oidc-provider`, and the token client obtains real tokens from it
 * for every supported algorithm and client authentication method.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import type { JWK } from 'jose';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
  TokenClient,
  TokenEndpointError,
  type TokenClientOptions,
} from 'nestjs-client-auth';
import { fixtureKey, type FixtureAlg } from '../fixtures/keys/index.js';
import {
  PEER_TOKEN_TTL_SECONDS,
  startOidcProviderPeer,
  type OidcProviderPeer,
} from '../utils/oidc-provider-peer.js';

const fixtureFor = (alg: string): FixtureAlg => (alg === 'Ed25519' ? 'EdDSA' : (alg as FixtureAlg));
const clientIdFor = (alg: string) => `pkj-${alg.toLowerCase()}`;
/** A secret long enough for HS512 (RFC 7518 §3.2: at least 64 bytes). */
const SECRET = 'interop-secret-'.repeat(6);

/** The KMS-held key: only a closure can sign with it. */
const kms = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return {
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'kms-384', alg: 'ES384' },
    sign: (input: Uint8Array) =>
      cryptoSign('sha384', input, { key: privateKey, dsaEncoding: 'der' }), // DER, like most KMS
  };
})();

describe('outgoing interoperability with oidc-provider', () => {
  let peer: OidcProviderPeer;
  const clients: TokenClient[] = [];

  beforeAll(async () => {
    peer = await startOidcProviderPeer([
      ...PRIVATE_KEY_JWT_ALGORITHMS.map((alg) => ({
        client_id: clientIdFor(alg),
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: alg,
        jwks: { keys: [{ ...fixtureKey(fixtureFor(alg)).publicJwk, alg }] },
        scope: 'api:read',
      })),
      ...CLIENT_SECRET_JWT_ALGORITHMS.map((alg) => ({
        client_id: `csj-${alg.toLowerCase()}`,
        token_endpoint_auth_method: 'client_secret_jwt',
        token_endpoint_auth_signing_alg: alg,
        client_secret: SECRET,
      })),
      {
        client_id: 'basic',
        token_endpoint_auth_method: 'client_secret_basic',
        client_secret: SECRET,
      },
      {
        client_id: 'post',
        token_endpoint_auth_method: 'client_secret_post',
        client_secret: SECRET,
      },
      {
        client_id: 'kms',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [kms.publicJwk] },
      },
    ]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await peer?.close();
  });

  const tokenClient = (options: Omit<TokenClientOptions, 'issuer'>) => {
    const client = new TokenClient({ issuer: peer.issuer, retry: false, ...options });
    clients.push(client);
    return client;
  };

  it.each(PRIVATE_KEY_JWT_ALGORITHMS)(
    'private_key_jwt with %s: oidc-provider accepts the assertion and issues a token',
    async (alg) => {
      const client = tokenClient({
        clientId: clientIdFor(alg),
        signingKey: { jwk: fixtureKey(fixtureFor(alg)).privateJwk, alg },
      });
      const token = await client.getToken({ scope: 'api:read' });
      expect(token.tokenType).toBe('Bearer');
      expect(token.accessToken.length).toBeGreaterThan(20);
      expect(token.expiresIn).toBe(PEER_TOKEN_TTL_SECONDS);
      expect(token.scope).toBe('api:read');
      await peer.waitForEvent((e) => e.name === 'grant.success' && e.clientId === clientIdFor(alg));
    },
  );

  it.each(CLIENT_SECRET_JWT_ALGORITHMS)('client_secret_jwt with %s', async (alg) => {
    const client = tokenClient({
      clientId: `csj-${alg.toLowerCase()}`,
      clientSecret: SECRET,
      authMethod: 'client_secret_jwt',
      assertion: { alg },
    });
    expect((await client.getToken()).tokenType).toBe('Bearer');
  });

  it.each(['issuer', 'token_endpoint'] as const)('accepts the %s as audience', async (audience) => {
    const client = tokenClient({
      clientId: clientIdFor('ES256'),
      signingKey: { jwk: fixtureKey('ES256').privateJwk },
      assertion: { audience },
    });
    await expect(client.getToken()).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('discovers the token endpoint through OpenID discovery (no RFC 8414 document)', async () => {
    const client = tokenClient({ clientId: 'basic', clientSecret: SECRET });
    const metadata = await client.metadata();
    expect(metadata.issuer).toBe(peer.issuer);
    expect(metadata.token_endpoint).toBe(`${peer.issuer}/token`);
  });

  it('client_secret_basic and client_secret_post', async () => {
    await expect(
      tokenClient({ clientId: 'basic', clientSecret: SECRET }).getToken(),
    ).resolves.toBeDefined();
    await expect(
      tokenClient({
        clientId: 'post',
        clientSecret: SECRET,
        authMethod: 'client_secret_post',
      }).getToken(),
    ).resolves.toBeDefined();
  });

  it('a KMS-style signing callback (key outside the library, DER signatures)', async () => {
    const client = tokenClient({
      clientId: 'kms',
      signingKey: { alg: 'ES384', kid: 'kms-384', sign: kms.sign },
    });
    expect((await client.getToken()).tokenType).toBe('Bearer');
  });

  it('a wrong key surfaces invalid_client from the peer, without retries', async () => {
    const client = new TokenClient({
      issuer: peer.issuer,
      clientId: clientIdFor('ES256'),
      signingKey: { jwk: fixtureKey('ES256', 1).privateJwk },
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    });
    clients.push(client);
    const error = (await client.getToken().catch((e: unknown) => e)) as TokenEndpointError;
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client', attempts: 1 });
    await peer.waitForEvent((e) => e.name === 'grant.error');
  });
});
