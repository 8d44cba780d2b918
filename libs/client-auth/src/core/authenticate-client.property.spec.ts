/**
 * Property-based tests over hostile input (SPEC S2, S10) for `ClientAuthenticator.authenticate`
 * with an in-memory registry: random requests, mutated valid assertions and validly signed
 * assertions with broken claims are refused with a `ClientAuthError`, never authenticate, and
 * never burn the `jti` of the valid assertion they were made from (S2.7).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  FakeKeySets,
  ISSUER,
  NOW,
  NOW_S,
  TOKEN_ENDPOINT,
  claimsFor,
  client,
  digestCredential,
  keyCredential,
  loadKey,
  secretCredential,
  secretOfLength,
  signJws,
  withoutUndefined,
  type LoadedKey,
} from '../../../../test/fixtures/keys/helpers.js';
import {
  applyAssertionMutation,
  assertionMutation,
  authorizationHeader,
  type ClaimChange,
  fuzzParameters,
  fuzzTimeout,
  hostileJson,
  hostileObject,
  hostileString,
  invalidClaimChange,
  JWT_BEARER_ASSERTION_TYPE,
} from '../../../../test/utils/arbitraries.js';
import { ClientAuthenticator } from './authenticate-client.js';
import { InMemoryClientStore } from './clients/in-memory-client-store.js';
import { digestSecret } from './crypto/secret-digest.js';
import { ClientAuthError, GENERIC_CLIENT_AUTH_DESCRIPTION, OAuthError } from './errors.js';
import { MemoryReplayStore } from './replay/memory-replay-store.js';
import type { AuthenticatedClient } from './types.js';

/** Jest timeout of one property (scaled with `FUZZ_RUNS`). */
const PROPERTY_TIMEOUT = fuzzTimeout(60_000);

const HMAC_SECRET = secretOfLength(64);
const LEEWAY = 30;
const CAP = 300;

/** A way to sign a valid assertion for one registered client. */
interface Signer {
  readonly clientId: string;
  readonly alg: string;
  /** Whether the verifier selects keys by `kid` (not for HMAC secrets). */
  readonly keyed: boolean;
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

const signers: Signer[] = [];
let authenticator: ClientAuthenticator;
let replayStore: MemoryReplayStore;
let keySets: FakeKeySets;

function keySigner(clientId: string, key: LoadedKey): Signer {
  return {
    clientId,
    alg: key.alg,
    keyed: true,
    sign: (claims, header = {}) =>
      signJws(withoutUndefined({ alg: key.alg, kid: key.kid, ...header }), claims, key.privateKey),
  };
}

beforeAll(async () => {
  const keys = {
    ES256: await loadKey('ES256'),
    ES384: await loadKey('ES384'),
    RS256: await loadKey('RS256'),
    PS256: await loadKey('PS256'),
    EdDSA: await loadKey('EdDSA'),
  };
  keySets = new FakeKeySets([keys.ES256.publicJwk]);
  const store = new InMemoryClientStore([
    client(
      'pkj',
      'private_key_jwt',
      Object.values(keys).map((key) => keyCredential(key.publicJwk)),
    ),
    client('strict', 'private_key_jwt', [keyCredential(keys.ES256.publicJwk)], {
      audiencePolicy: 'strict',
      requireStringAudience: true,
    }),
    client('remote', 'private_key_jwt', [], { jwksUri: 'https://client.example.com/jwks' }),
    client('csj', 'client_secret_jwt', [secretCredential(HMAC_SECRET)]),
    client('basic', 'client_secret_basic', [digestCredential(digestSecret('basic-secret'))]),
    client('post', 'client_secret_post', [digestCredential(digestSecret('post-secret'))]),
    client('pub', 'none'),
    client('off', 'private_key_jwt', [keyCredential(keys.ES256.publicJwk)], { enabled: false }),
  ]);
  replayStore = new MemoryReplayStore({ purgeIntervalMs: 0, clock: () => NOW.getTime() });
  authenticator = new ClientAuthenticator({
    settings: { issuer: ISSUER, tokenEndpoint: TOKEN_ENDPOINT, clockLeewaySeconds: LEEWAY },
    clientStore: store,
    replayStore,
    keySets,
  });
  signers.push(
    ...Object.values(keys).map((key) => keySigner('pkj', key)),
    keySigner('strict', keys.ES256),
    keySigner('remote', keys.ES256),
    {
      clientId: 'csj',
      alg: 'HS256',
      keyed: false,
      sign: (claims, header = {}) =>
        signJws({ alg: 'HS256', ...header }, claims, new TextEncoder().encode(HMAC_SECRET)),
    },
    {
      clientId: 'csj',
      alg: 'HS512',
      keyed: false,
      sign: (claims, header = {}) =>
        signJws({ alg: 'HS512', ...header }, claims, new TextEncoder().encode(HMAC_SECRET)),
    },
  );
});

afterAll(() => replayStore?.close());

function authenticate(body: unknown, authorization?: string | string[]) {
  return authenticator.authenticate({
    body,
    ...(authorization !== undefined && { authorization }),
    endpointUrl: TOKEN_ENDPOINT,
    now: NOW,
  });
}

function assertionBody(assertion: string): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
  };
}

/** The error `promise` rejected with; fails the property when it resolved. */
async function refusal(promise: Promise<AuthenticatedClient>): Promise<OAuthError> {
  let client: AuthenticatedClient;
  try {
    client = await promise;
  } catch (error) {
    // Only the library's errors, and never an outage: every store here is in memory.
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).error).not.toBe('temporarily_unavailable');
    return error as OAuthError;
  }
  throw new Error(`authenticated ${client.clientId} with hostile input`);
}

/** Valid claims of `signer`'s client at NOW, with a fresh `jti`. */
function claimsOf(signer: Signer): Record<string, unknown> {
  return claimsFor(signer.clientId);
}

const signerIndex = () => fc.nat({ max: 99 });

describe('ClientAuthenticator over hostile input', () => {
  it(
    'refuses random requests with a ClientAuthError',
    async () => {
      const body = hostileObject(
        ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'grant_type'],
        {
          client_id: ['pkj', 'csj', 'basic', 'post', 'pub', 'off', 'remote'],
          client_secret: ['basic-secret-x', 'post-secret-x', HMAC_SECRET.slice(1)],
          client_assertion_type: [JWT_BEARER_ASSERTION_TYPE],
        },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ arbitrary: body, weight: 5 }, { arbitrary: hostileJson(), weight: 1 }),
          fc.option(
            fc.oneof(
              authorizationHeader(['basic', 'post', 'pkj']),
              fc.array(authorizationHeader(['basic']), { maxLength: 3 }),
            ),
            { nil: undefined },
          ),
          async (requestBody, header) => {
            const error = await refusal(authenticate(requestBody, header));
            expect(error).toBeInstanceOf(ClientAuthError);
          },
        ),
        fuzzParameters(300),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses every mutation of a valid assertion, generically, without burning its jti',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          signerIndex(),
          signerIndex(),
          assertionMutation(),
          async (i, j, mutation) => {
            const signer = signers[i % signers.length]!;
            const valid = await signer.sign(claimsOf(signer));
            const otherSigner = signers[j % signers.length]!;
            const other = await otherSigner.sign(claimsOf(otherSigner));
            const mutated = applyAssertionMutation(valid, mutation, other);
            fc.pre(mutated !== valid);

            const error = await refusal(authenticate(assertionBody(mutated)));
            expect(error).toBeInstanceOf(ClientAuthError);
            if (mutated === '') {
              // RFC 6749 §3.1: an empty parameter is an absent one; the type then stands alone.
              expect(error).toMatchObject({ reason: 'assertion_type_without_assertion' });
            } else {
              // The signature cannot verify, so nothing specific may be disclosed (SPEC S2.9).
              expect(error.error).toBe('invalid_client');
              expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
            }
            // S2.7: the refused copy consumed nothing; the original still authenticates once.
            const client = await authenticate(assertionBody(valid));
            expect(client.clientId).toBe(signer.clientId);
          },
        ),
        fuzzParameters(300),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses validly signed assertions whose claims break a rule',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat().chain((seed) =>
            invalidClaimChange({
              now: NOW_S,
              clientId: signers[seed % signers.length]!.clientId,
              accepted: [ISSUER, TOKEN_ENDPOINT],
              leeway: LEEWAY,
              cap: CAP,
            }).map((changes) => [seed, changes] as const),
          ),
          async ([seed, changes]) => {
            const signer = signers[seed % signers.length]!;
            const claims = claimsOf(signer);
            const broken = await signer.sign(withChanges(claims, changes));
            const error = await refusal(authenticate(assertionBody(broken)));
            expect(error).toBeInstanceOf(ClientAuthError);
            // The original, with the same jti, is still accepted.
            const client = await authenticate(assertionBody(await signer.sign(claims)));
            expect(client.clientId).toBe(signer.clientId);
          },
        ),
        fuzzParameters(200),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'refuses validly signed assertions whose header breaks a rule',
    async () => {
      const forbidden = fc.record({
        member: fc.constantFrom('crit', 'jwk', 'jku', 'x5u', 'x5c'),
        value: fc.oneof(hostileJson(1), fc.constant(null)),
      });
      const badTyp = fc.record({
        member: fc.constant('typ'),
        value: fc.oneof(
          hostileString(30).filter(
            (typ) => !/^(?:application\/)?(?:jwt|client-authentication\+jwt)$/i.test(typ),
          ),
          fc.constantFrom(1, null, [], {}, ['JWT']),
        ),
      });
      const badKid = fc.record({
        member: fc.constant('kid'),
        value: fc.oneof(
          fc.constantFrom('', 0, null, [], {}, ['ES256-1']),
          hostileString(30).filter((kid) => !/^(?:ES|RS|PS|Ed)/.test(kid)),
        ),
      });
      await fc.assert(
        fc.asyncProperty(
          signerIndex(),
          fc.oneof(forbidden, badTyp, badKid),
          async (i, { member, value }) => {
            const signer = signers[i % signers.length]!;
            // An unknown kid only matters where keys are selected by kid.
            fc.pre(member !== 'kid' || signer.keyed || typeof value !== 'string');
            const claims = claimsOf(signer);
            const header = { [member]: value };
            const error = await refusal(
              authenticate(assertionBody(await signer.sign(claims, header))),
            );
            expect(error).toBeInstanceOf(ClientAuthError);
            const client = await authenticate(assertionBody(await signer.sign(claims)));
            expect(client.clientId).toBe(signer.clientId);
          },
        ),
        fuzzParameters(150),
      );
    },
    PROPERTY_TIMEOUT,
  );
});

function withChanges(
  claims: Record<string, unknown>,
  changes: readonly ClaimChange[],
): Record<string, unknown> {
  const copy = { ...claims };
  for (const { claim, value } of changes) {
    if (value === undefined) delete copy[claim];
    else
      Object.defineProperty(copy, claim, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

describe('regressions found by the properties above', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

  it('refuses a signature re-spelled in its unused base64url pad bits', async () => {
    // Counterexample: {kind: 'replace-segment-end', segment: 2, by: 'e'} on an ES256 assertion.
    // 64 signature bytes take 86 characters; the last one carries 4 unused bits.
    const signer = signers.find((s) => s.alg === 'ES256' && s.clientId === 'pkj')!;
    const valid = await signer.sign(claimsOf(signer));
    const last = ALPHABET.indexOf(valid.at(-1)!);
    const respelled = valid.slice(0, -1) + ALPHABET[last ^ 1];
    expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(
      Buffer.from(valid.split('.')[2]!, 'base64url'),
    );

    const error = await refusal(authenticate(assertionBody(respelled)));
    expect(error).toMatchObject({ reason: 'assertion_malformed', error: 'invalid_client' });
    expect((await authenticate(assertionBody(valid))).clientId).toBe('pkj');
  });
});
