import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { JWK } from 'jose';
import {
  ISSUER,
  NOW,
  NOW_S,
  TOKEN_ENDPOINT,
  loadKey,
  signJws,
  unsignedJws,
  withoutUndefined,
  type LoadedKey,
} from '../../../../../test/fixtures/keys/helpers.js';
import { DependencyUnavailableError } from '../errors.js';
import { JwksCache } from '../jwks/jwks-cache.js';
import { MemoryReplayStore } from '../replay/memory-replay-store.js';
import {
  JwtBearerGrantError,
  verifyJwtBearerGrant,
  type JwtBearerGrantContext,
  type JwtBearerGrantReason,
  type TrustedIssuer,
} from './jwt-bearer-grant.js';

/** An issuer with static keys and any subject. */
const STATIC_ISSUER = 'https://idp.example.com';
/** An issuer limited to two subjects. */
const RESTRICTED_ISSUER = 'https://ci.example.com';
/** An issuer limited to RS256 with a shorter lifetime cap. */
const RSA_ISSUER = 'https://rsa.example.com';

let es256: LoadedKey;
let otherEs256: LoadedKey;
let rs256: LoadedKey;

// A loopback JWKS for the `jwksUri` issuer: real HTTP through JwksFetcher + JwksCache.
let jwksServer: Server;
let jwksUri: string;
let remoteIssuer: string;
let servedKeys: JWK[] = [];
let jwksStatus = 200;
let jwksRequests = 0;

beforeAll(async () => {
  es256 = await loadKey('ES256', 0);
  otherEs256 = await loadKey('ES256', 1);
  rs256 = await loadKey('RS256', 0);
  jwksServer = createServer((_req, res) => {
    jwksRequests++;
    res.writeHead(jwksStatus, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: servedKeys }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const { port } = jwksServer.address() as { port: number };
  remoteIssuer = `http://127.0.0.1:${port}`;
  jwksUri = `${remoteIssuer}/jwks`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

function trustedIssuers(): TrustedIssuer[] {
  return [
    { issuer: STATIC_ISSUER, jwks: { keys: [es256.publicJwk] } },
    {
      issuer: RESTRICTED_ISSUER,
      jwks: { keys: [es256.publicJwk] },
      subjects: ['repo:acme/api', 'repo:acme/web'],
    },
    {
      issuer: RSA_ISSUER,
      jwks: { keys: [rs256.publicJwk, es256.publicJwk] },
      algorithms: ['RS256'],
      maxLifetimeSeconds: 120,
    },
    { issuer: remoteIssuer, jwksUri },
  ];
}

/** A fresh context: its own replay store (clocked at NOW) and JWKS cache. */
function context(overrides: Partial<JwtBearerGrantContext> = {}): JwtBearerGrantContext & {
  replayStore: MemoryReplayStore;
} {
  return {
    trustedIssuers: trustedIssuers(),
    issuer: ISSUER,
    tokenEndpoint: TOKEN_ENDPOINT,
    replayStore: new MemoryReplayStore({ purgeIntervalMs: 0, clock: () => NOW.getTime() }),
    keySets: new JwksCache({ cooldownSeconds: 0, fetch: { allowHosts: ['127.0.0.1'] } }),
    now: NOW,
    ...overrides,
  } as JwtBearerGrantContext & { replayStore: MemoryReplayStore };
}

/** Valid grant claims from `iss` at NOW; `undefined` overrides drop a claim. */
function claims(iss: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return withoutUndefined({
    iss,
    sub: 'repo:acme/api',
    aud: ISSUER,
    iat: NOW_S,
    exp: NOW_S + 60,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    ...overrides,
  });
}

function sign(
  key: LoadedKey,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return signJws(
    withoutUndefined({ alg: key.alg, kid: key.kid, ...header }),
    payload,
    key.privateKey,
  );
}

async function refusal(promise: Promise<unknown>): Promise<JwtBearerGrantError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JwtBearerGrantError) return error;
    throw error;
  }
  throw new Error('expected the grant to be refused');
}

describe('verifyJwtBearerGrant (RFC 7523 §2.1, §3)', () => {
  beforeEach(() => {
    servedKeys = [es256.publicJwk];
    jwksStatus = 200;
    jwksRequests = 0;
  });

  describe('accepted', () => {
    it.each([
      ['static jwks, aud = issuer', STATIC_ISSUER, {}],
      ['aud = the token endpoint URL (§3 item 3)', STATIC_ISSUER, { aud: TOKEN_ENDPOINT }],
      ['aud array naming this server', STATIC_ISSUER, { aud: ['https://other.example', ISSUER] }],
      ['an allowed subject', RESTRICTED_ISSUER, { sub: 'repo:acme/web' }],
      ['no iat', STATIC_ISSUER, { iat: undefined }],
      ['no kid header: each fitting key is tried', STATIC_ISSUER, {}, { kid: undefined }],
      [
        'exp just passed, within the 30 s leeway',
        STATIC_ISSUER,
        { exp: NOW_S - 10, iat: NOW_S - 70 },
      ],
      ['nbf and iat within the leeway', STATIC_ISSUER, { nbf: NOW_S + 20, iat: NOW_S + 20 }],
    ] as [string, string, Record<string, unknown>, Record<string, unknown>?][])(
      '%s',
      async (_name, iss, overrides, header = {}) => {
        const payload = claims(iss, overrides);
        const ctx = context();
        const grant = await verifyJwtBearerGrant(await sign(es256, payload, header), ctx);
        expect(grant).toEqual({ issuer: iss, subject: payload.sub, claims: payload });
        expect(ctx.replayStore.size).toBe(1);
      },
    );

    it('an issuer restricted to RS256 accepts an RS256 assertion', async () => {
      const grant = await verifyJwtBearerGrant(await sign(rs256, claims(RSA_ISSUER)), context());
      expect(grant.issuer).toBe(RSA_ISSUER);
    });

    it('keys from the issuer jwks_uri, fetched once over HTTP and then cached', async () => {
      const ctx = context();
      const first = await verifyJwtBearerGrant(await sign(es256, claims(remoteIssuer)), ctx);
      expect(first.issuer).toBe(remoteIssuer);
      await verifyJwtBearerGrant(await sign(es256, claims(remoteIssuer)), ctx);
      expect(jwksRequests).toBe(1);
    });

    it('a key rotated in at the jwks_uri: the unknown kid triggers one refetch', async () => {
      const ctx = context();
      await verifyJwtBearerGrant(await sign(es256, claims(remoteIssuer)), ctx);
      servedKeys = [es256.publicJwk, otherEs256.publicJwk];
      const grant = await verifyJwtBearerGrant(await sign(otherEs256, claims(remoteIssuer)), ctx);
      expect(grant.issuer).toBe(remoteIssuer);
      expect(jwksRequests).toBe(2);
    });
  });

  describe('refused, with a stable reason, and the jti never consumed', () => {
    type Case = {
      name: string;
      reason: JwtBearerGrantReason;
      error?: string;
      build: () => Promise<string>;
    };
    const cases: Case[] = [
      {
        name: 'untrusted issuer',
        reason: 'issuer_untrusted',
        build: () => sign(es256, claims('https://evil.example.com')),
      },
      {
        name: 'trusted issuer with a trailing slash (exact comparison)',
        reason: 'issuer_untrusted',
        build: () => sign(es256, claims(`${STATIC_ISSUER}/`)),
      },
      {
        name: 'issuer differing in case',
        reason: 'issuer_untrusted',
        build: () => sign(es256, claims(STATIC_ISSUER.toUpperCase())),
      },
      {
        name: 'no iss',
        reason: 'issuer_untrusted',
        build: () => sign(es256, claims(STATIC_ISSUER, { iss: undefined })),
      },
      {
        name: 'alg none',
        reason: 'alg_not_allowed',
        build: async () => unsignedJws(claims(STATIC_ISSUER)),
      },
      {
        name: 'HS256 keyed with the public key (algorithm confusion)',
        reason: 'alg_not_allowed',
        build: () =>
          signJws(
            { alg: 'HS256', kid: es256.kid },
            claims(STATIC_ISSUER),
            new TextEncoder().encode(JSON.stringify(es256.publicJwk)),
          ),
      },
      {
        name: 'an algorithm the issuer is not configured for',
        reason: 'alg_not_allowed',
        build: () => sign(es256, claims(RSA_ISSUER)),
      },
      {
        name: 'a jwk header (keys never come from the assertion)',
        reason: 'assertion_malformed',
        build: () => sign(otherEs256, claims(STATIC_ISSUER), { jwk: otherEs256.publicJwk }),
      },
      {
        name: 'a jku header',
        reason: 'assertion_malformed',
        build: () => sign(es256, claims(STATIC_ISSUER), { jku: 'https://evil.example.com/jwks' }),
      },
      {
        name: 'an x5u header',
        reason: 'assertion_malformed',
        build: () => sign(es256, claims(STATIC_ISSUER), { x5u: 'https://evil.example.com/x5' }),
      },
      {
        name: 'a crit header',
        reason: 'assertion_malformed',
        build: () => sign(es256, claims(STATIC_ISSUER), { crit: ['exp'], exp: 1 }),
      },
      {
        name: 'unknown kid (static keys)',
        reason: 'kid_unknown',
        build: () => sign(es256, claims(STATIC_ISSUER), { kid: 'nope' }),
      },
      {
        name: 'bad signature (another key under the trusted kid)',
        reason: 'signature_invalid',
        build: () => sign(otherEs256, claims(STATIC_ISSUER), { kid: es256.kid }),
      },
      {
        name: 'tampered payload',
        reason: 'signature_invalid',
        build: async () => {
          const [h, , s] = (await sign(es256, claims(STATIC_ISSUER))).split('.');
          const forged = Buffer.from(JSON.stringify(claims(STATIC_ISSUER, { sub: 'root' })));
          return `${h}.${forged.toString('base64url')}.${s}`;
        },
      },
      {
        name: 'sub missing',
        reason: 'sub_missing',
        build: () => sign(es256, claims(STATIC_ISSUER, { sub: undefined })),
      },
      {
        name: 'sub empty',
        reason: 'sub_missing',
        build: () => sign(es256, claims(STATIC_ISSUER, { sub: '' })),
      },
      {
        name: 'sub not allowed for the issuer',
        reason: 'sub_not_allowed',
        build: () => sign(es256, claims(RESTRICTED_ISSUER, { sub: 'repo:evil/api' })),
      },
      {
        name: 'aud another server',
        reason: 'aud_mismatch',
        build: () => sign(es256, claims(STATIC_ISSUER, { aud: 'https://other.example.com' })),
      },
      {
        name: 'aud the issuer with a trailing slash',
        reason: 'aud_mismatch',
        build: () => sign(es256, claims(STATIC_ISSUER, { aud: `${ISSUER}/` })),
      },
      {
        name: 'aud missing',
        reason: 'aud_mismatch',
        build: () => sign(es256, claims(STATIC_ISSUER, { aud: undefined })),
      },
      {
        name: 'exp missing',
        reason: 'exp_missing',
        build: () => sign(es256, claims(STATIC_ISSUER, { exp: undefined })),
      },
      {
        name: 'exp not a number',
        reason: 'exp_missing',
        build: () => sign(es256, claims(STATIC_ISSUER, { exp: String(NOW_S + 60) })),
      },
      {
        name: 'expired beyond the leeway',
        reason: 'assertion_expired',
        build: () => sign(es256, claims(STATIC_ISSUER, { iat: NOW_S - 120, exp: NOW_S - 31 })),
      },
      {
        name: 'nbf in the future',
        reason: 'nbf_in_future',
        build: () => sign(es256, claims(STATIC_ISSUER, { nbf: NOW_S + 31 })),
      },
      {
        name: 'iat in the future',
        reason: 'iat_in_future',
        build: () => sign(es256, claims(STATIC_ISSUER, { iat: NOW_S + 31, exp: NOW_S + 90 })),
      },
      {
        name: 'iat not a number',
        reason: 'iat_in_future',
        build: () => sign(es256, claims(STATIC_ISSUER, { iat: 'yesterday' })),
      },
      {
        name: 'lifetime too long (exp − now beyond the 300 s cap)',
        reason: 'lifetime_too_long',
        build: () => sign(es256, claims(STATIC_ISSUER, { iat: undefined, exp: NOW_S + 600 })),
      },
      {
        name: 'lifetime too long (exp − iat beyond the cap)',
        reason: 'lifetime_too_long',
        build: () => sign(es256, claims(STATIC_ISSUER, { iat: NOW_S - 400, exp: NOW_S + 10 })),
      },
      {
        name: 'lifetime beyond the issuer-specific cap',
        reason: 'lifetime_too_long',
        build: () => sign(rs256, claims(RSA_ISSUER, { exp: NOW_S + 200 })),
      },
      {
        name: 'jti missing',
        reason: 'jti_missing',
        build: () => sign(es256, claims(STATIC_ISSUER, { jti: undefined })),
      },
      {
        name: 'jti empty',
        reason: 'jti_missing',
        build: () => sign(es256, claims(STATIC_ISSUER, { jti: '' })),
      },
      {
        name: 'not a compact JWS',
        reason: 'assertion_malformed',
        build: async () => 'a.b',
      },
      {
        name: 'a header that is not JSON',
        reason: 'assertion_malformed',
        build: async () => 'bm90IGpzb24.e30.c2ln',
      },
      {
        name: 'claims that are not an object',
        reason: 'assertion_malformed',
        build: () => signJws({ alg: 'ES256', kid: es256.kid }, '"text"', es256.privateKey),
      },
      {
        name: 'larger than the size cap',
        reason: 'assertion_malformed',
        build: () => sign(es256, claims(STATIC_ISSUER, { pad: 'x'.repeat(9000) })),
      },
      {
        name: 'empty assertion',
        reason: 'assertion_missing',
        error: 'invalid_request',
        build: async () => '',
      },
    ];

    it.each(cases)('$name → $reason', async ({ reason, error, build }) => {
      const ctx = context();
      const refused = await refusal(verifyJwtBearerGrant(await build(), ctx));
      expect(refused.reason).toBe(reason);
      expect(refused.error).toBe(error ?? 'invalid_grant');
      expect(refused.status).toBe(400);
      expect(refused.description.length).toBeGreaterThan(0);
      expect(ctx.replayStore.size).toBe(0);
    });

    it('a missing assertion parameter is invalid_request', async () => {
      const refused = await refusal(verifyJwtBearerGrant(undefined, context()));
      expect(refused).toMatchObject({ reason: 'assertion_missing', error: 'invalid_request' });
    });

    it('a refused assertion does not burn its jti; a replay of the accepted one is refused', async () => {
      const ctx = context();
      const jti = 'single-use-1';
      const wrongAud = await sign(es256, claims(STATIC_ISSUER, { jti, aud: 'https://x.example' }));
      expect((await refusal(verifyJwtBearerGrant(wrongAud, ctx))).reason).toBe('aud_mismatch');
      const good = await sign(es256, claims(STATIC_ISSUER, { jti }));
      await expect(verifyJwtBearerGrant(good, ctx)).resolves.toMatchObject({
        issuer: STATIC_ISSUER,
      });
      const replay = await refusal(verifyJwtBearerGrant(good, ctx));
      expect(replay.reason).toBe('jti_replayed');
      expect(replay.error).toBe('invalid_grant');
      // Another assertion reusing the jti is a replay too, whatever else it says.
      const reused = await sign(es256, claims(STATIC_ISSUER, { jti, sub: 'someone-else' }));
      expect((await refusal(verifyJwtBearerGrant(reused, ctx))).reason).toBe('jti_replayed');
    });

    it('the same jti from two issuers is not a replay (keyed per issuer)', async () => {
      const ctx = context();
      const jti = 'shared-jti';
      await verifyJwtBearerGrant(await sign(es256, claims(STATIC_ISSUER, { jti })), ctx);
      await expect(
        verifyJwtBearerGrant(await sign(es256, claims(RESTRICTED_ISSUER, { jti })), ctx),
      ).resolves.toMatchObject({ issuer: RESTRICTED_ISSUER });
    });

    it('the replay entry lives until exp + leeway', async () => {
      let consumedUntil: Date | undefined;
      const ctx = context({
        replayStore: {
          consume: async (_key, expiresAt) => {
            consumedUntil = expiresAt;
            return true;
          },
        },
      });
      await verifyJwtBearerGrant(await sign(es256, claims(STATIC_ISSUER)), ctx);
      expect(consumedUntil?.getTime()).toBe((NOW_S + 60 + 30) * 1000);
    });
  });

  describe('remote keys (jwks_uri)', () => {
    it('an unknown kid causes exactly one refetch, then kid_unknown', async () => {
      const ctx = context();
      const refused = await refusal(
        verifyJwtBearerGrant(await sign(otherEs256, claims(remoteIssuer)), ctx),
      );
      expect(refused.reason).toBe('kid_unknown');
      expect(jwksRequests).toBe(2);
      expect(ctx.replayStore.size).toBe(0);
    });

    it('within the refetch cooldown an unknown kid is refused without a second fetch', async () => {
      const ctx = context({
        keySets: new JwksCache({ cooldownSeconds: 60, fetch: { allowHosts: ['127.0.0.1'] } }),
      });
      const refused = await refusal(
        verifyJwtBearerGrant(await sign(otherEs256, claims(remoteIssuer)), ctx),
      );
      expect(refused.reason).toBe('kid_unknown');
      expect(jwksRequests).toBe(1);
    });

    it('a bad signature under a published kid is signature_invalid', async () => {
      const refused = await refusal(
        verifyJwtBearerGrant(
          await sign(otherEs256, claims(remoteIssuer), { kid: es256.kid }),
          context(),
        ),
      );
      expect(refused.reason).toBe('signature_invalid');
    });

    it('a jwks_uri that fails answers keys_unavailable (invalid_grant), not a crash', async () => {
      jwksStatus = 500;
      const refused = await refusal(
        verifyJwtBearerGrant(await sign(es256, claims(remoteIssuer)), context()),
      );
      expect(refused.reason).toBe('keys_unavailable');
      expect(refused.error).toBe('invalid_grant');
    });

    it('a jwks_uri issuer without a key set provider is keys_unavailable', async () => {
      const ctx = context();
      const refused = await refusal(
        verifyJwtBearerGrant(await sign(es256, claims(remoteIssuer)), {
          ...ctx,
          keySets: undefined,
        }),
      );
      expect(refused.reason).toBe('keys_unavailable');
      expect(jwksRequests).toBe(0);
    });

    it('a key set provider outage propagates as DependencyUnavailableError (503)', async () => {
      const ctx = context({
        keySets: {
          get: () => Promise.reject(new DependencyUnavailableError('jwks-cache')),
          refresh: () => Promise.reject(new DependencyUnavailableError('jwks-cache')),
        },
      });
      await expect(
        verifyJwtBearerGrant(await sign(es256, claims(remoteIssuer)), ctx),
      ).rejects.toBeInstanceOf(DependencyUnavailableError);
    });
  });

  it('honours the leeway and lifetime settings of the context', async () => {
    const strict = context({ leewaySeconds: 0, maxLifetimeSeconds: 30 });
    const late = await sign(es256, claims(STATIC_ISSUER, { exp: NOW_S - 1, iat: NOW_S - 20 }));
    expect((await refusal(verifyJwtBearerGrant(late, strict))).reason).toBe('assertion_expired');
    const long = await sign(es256, claims(STATIC_ISSUER, { exp: NOW_S + 45 }));
    expect((await refusal(verifyJwtBearerGrant(long, strict))).reason).toBe('lifetime_too_long');
    const ok = await sign(es256, claims(STATIC_ISSUER, { exp: NOW_S + 30 }));
    await expect(verifyJwtBearerGrant(ok, strict)).resolves.toMatchObject({
      subject: 'repo:acme/api',
    });
  });
});
