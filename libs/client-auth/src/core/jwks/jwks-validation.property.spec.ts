/**
 * Property-based tests over hostile JWK Sets (SPEC S3, S6, S10): `parseJwks` returns public
 * signature keys or throws `InvalidJwksError` — never anything else — whether the document is
 * any JSON, or a valid set with members mutated, nested or multiplied.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  fuzzParameters,
  fuzzTimeout,
  hostileJson,
  mutatedJwks,
} from '../../../../../test/utils/arbitraries.js';
import { fixtureKey, type FixtureAlg } from '../../../../../test/fixtures/keys/index.js';
import { InvalidJwksError } from './jwks-errors.js';
import { parseJwks } from './jwks-validation.js';

/** Jest timeout of one property (scaled with `FUZZ_RUNS`). */
const PROPERTY_TIMEOUT = fuzzTimeout(30_000);

const FIXTURES: FixtureAlg[] = ['RS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const PUBLIC_KEYS = FIXTURES.flatMap((alg) => [
  fixtureKey(alg, 0).publicJwk,
  fixtureKey(alg, 1).publicJwk,
]) as unknown as Record<string, unknown>[];
const PRIVATE_KEYS = FIXTURES.map((alg) => fixtureKey(alg, 0).privateJwk) as unknown as Record<
  string,
  unknown
>[];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const mutatedSet = mutatedJwks(PUBLIC_KEYS, PRIVATE_KEYS);

/** Checks one outcome: valid public keys, or an `InvalidJwksError`. */
function check(document: unknown, ignoreUnusableKeys: boolean): void {
  let keys: readonly Record<string, unknown>[];
  try {
    keys = parseJwks(document, { ignoreUnusableKeys }) as unknown as Record<string, unknown>[];
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidJwksError);
    expect((error as InvalidJwksError).reason).toBe('invalid_jwks');
    return;
  }
  expect(Object.isFrozen(keys)).toBe(true);
  const kids = new Set<string>();
  for (const key of keys) {
    expect(Object.isFrozen(key)).toBe(true);
    // SPEC S3: public keys only, of a type that verifies signatures.
    for (const member of PRIVATE_MEMBERS) expect(Object.hasOwn(key, member)).toBe(false);
    expect(['RSA', 'EC', 'OKP']).toContain(key.kty);
    if (key.use !== undefined) expect(key.use).toBe('sig');
    if (typeof key.kid === 'string') {
      expect(kids.has(key.kid)).toBe(false);
      kids.add(key.kid);
    }
  }
}

describe('parseJwks over hostile documents', () => {
  it(
    'returns public keys or throws InvalidJwksError for any JSON',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            hostileJson(),
            fc.array(hostileJson(2), { maxLength: 5 }).map((keys) => ({ keys })),
          ),
          fc.boolean(),
          check,
        ),
        fuzzParameters(300),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'returns public keys or throws InvalidJwksError for mutated valid sets',
    () => {
      fc.assert(fc.property(mutatedSet, fc.boolean(), check), fuzzParameters(400));
    },
    PROPERTY_TIMEOUT,
  );

  it('accepts the unmutated fixture sets (the mutations start from valid input)', () => {
    const keys = parseJwks({ keys: PUBLIC_KEYS });
    expect(keys).toHaveLength(PUBLIC_KEYS.length);
  });
});

describe('regressions found by the properties above', () => {
  it('refuses a key nesting a member thousands of levels deep (a 64 KiB jwks_uri body)', () => {
    // Counterexample: x5c = nested(3238, 'array') on an RS256 key threw RangeError (stack
    // overflow while copying and freezing the key). A 64 KiB body nests 32 000 levels.
    const depth = 32_000;
    const body = `{"keys":[{"kty":"EC","crv":"P-256","x5c":${'['.repeat(depth)}1${']'.repeat(depth)}}]}`;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(64 * 1024);
    const document: unknown = JSON.parse(body);
    for (const ignoreUnusableKeys of [false, true]) {
      let thrown: unknown;
      try {
        parseJwks(document, { ignoreUnusableKeys });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidJwksError);
      expect((thrown as InvalidJwksError).message).toMatch(/^keys\[0\]: nests arrays or objects/);
    }
  });

  it('still accepts keys with the usual shallow members (x5c, key_ops)', () => {
    const key = { ...PUBLIC_KEYS[0]!, x5c: ['MIIB'], key_ops: ['verify'] };
    expect(parseJwks({ keys: [key] })).toHaveLength(1);
  });
});
