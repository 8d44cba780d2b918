/**
 * Property-based tests over hostile input (SPEC S2.1, S2.2, S10) for the request parser
 * (`extractClientCredentials`) and the assertion decoder (`decodeAssertion`): whatever arrives,
 * they return a well-formed result or throw a `ClientAuthError` — never anything else.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  applyAssertionMutation,
  assertionMutation,
  authorizationHeader,
  basicHeader,
  fuzzParameters,
  fuzzTimeout,
  hostileJson,
  hostileObject,
  hostileString,
  JWT_BEARER_ASSERTION_TYPE,
} from '../../../../../test/utils/arbitraries.js';
import { ClientAuthError, GENERIC_CLIENT_AUTH_DESCRIPTION } from '../errors.js';
import { decodeAssertion } from './decode-assertion.js';
import { extractClientCredentials, type CredentialSource } from './parse-client-credentials.js';

/** Jest timeout of one property (scaled with `FUZZ_RUNS`). */
const PROPERTY_TIMEOUT = fuzzTimeout(30_000);

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A structurally valid (unsigned) compact JWS. */
const SAMPLE = `${segment({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${segment({
  iss: 'svc',
  sub: 'svc',
  aud: 'https://as.example.com',
  exp: 1_900_000_060,
  jti: 'j1',
})}.${Buffer.alloc(64, 7).toString('base64url')}`;
const OTHER = `${segment({ alg: 'HS256' })}.${segment({ iss: 'other', sub: 'other' })}.${Buffer.alloc(32, 1).toString('base64url')}`;

/** Runs `fn`; returns what it returned, or the error it threw. */
function outcome<T>(fn: () => T): { value: T } | { error: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

const body = hostileObject(
  ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'grant_type'],
  {
    client_id: ['svc', 'svc:1 é+%/', ''],
    client_secret: ['secret', ''],
    client_assertion: [SAMPLE, ''],
    client_assertion_type: [JWT_BEARER_ASSERTION_TYPE, 'urn:other'],
    grant_type: ['client_credentials'],
  },
);
/** A valid body of each method, edited: members dropped, emptied, repeated or replaced. */
const VALID_BODIES: readonly Record<string, unknown>[] = [
  { client_id: 'svc', client_secret: 'secret' },
  { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: SAMPLE },
  { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: SAMPLE, client_id: 'svc' },
  { client_id: 'svc' },
  { grant_type: 'client_credentials' },
];
const editedBody = fc
  .tuple(
    fc.constantFrom(...VALID_BODIES),
    fc.array(
      fc.tuple(
        fc.constantFrom('client_id', 'client_secret', 'client_assertion', 'client_assertion_type'),
        fc.oneof(
          fc.constantFrom('drop', 'empty', 'repeat', 'null'),
          hostileJson().map((value) => ({ value })),
        ),
      ),
      { maxLength: 2 },
    ),
  )
  .map(([base, edits]) => {
    const edited: Record<string, unknown> = { ...base };
    for (const [name, edit] of edits) {
      if (edit === 'drop') delete edited[name];
      else if (edit === 'empty') edited[name] = '';
      else if (edit === 'null') edited[name] = null;
      else if (edit === 'repeat') edited[name] = [edited[name] ?? 'x', edited[name] ?? 'x'];
      else edited[name] = edit.value;
    }
    return edited;
  });
const authorization = fc.oneof(
  fc.constant(undefined),
  authorizationHeader(['svc']),
  fc.constant(basicHeader('svc', 'secret')),
  fc.array(authorizationHeader(['svc']), { minLength: 0, maxLength: 3 }),
);

describe('extractClientCredentials over hostile requests', () => {
  it(
    'returns one well-formed method or throws ClientAuthError',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            { arbitrary: body, weight: 4 },
            { arbitrary: editedBody, weight: 4 },
            { arbitrary: hostileJson(), weight: 1 },
          ),
          authorization,
          (requestBody, header) => {
            const source: CredentialSource = { body: requestBody, authorization: header };
            const result = outcome(() => extractClientCredentials(source));
            if ('error' in result) {
              expect(result.error).toBeInstanceOf(ClientAuthError);
              const error = result.error as ClientAuthError;
              expect(['invalid_request', 'invalid_client']).toContain(error.error);
              if (error.error === 'invalid_client') {
                expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
              }
              return;
            }
            const credentials = result.value;
            const fields =
              typeof requestBody === 'object' && requestBody !== null && !Array.isArray(requestBody)
                ? (requestBody as Record<string, unknown>)
                : {};
            const present = (name: string) =>
              typeof fields[name] === 'string' && fields[name] !== '';
            // SPEC S2.1: exactly one place carried credentials, and never an empty value.
            switch (credentials.kind) {
              case 'assertion':
                expect(credentials.assertion).toBe(fields.client_assertion);
                expect(fields.client_assertion_type).toBe(JWT_BEARER_ASSERTION_TYPE);
                expect(present('client_secret')).toBe(false);
                break;
              case 'post':
                expect(credentials.secret).toBe(fields.client_secret);
                expect(credentials.clientId).toBe(fields.client_id);
                expect(present('client_assertion')).toBe(false);
                break;
              case 'basic':
                expect(credentials.secret).not.toBe('');
                expect(present('client_secret')).toBe(false);
                expect(present('client_assertion')).toBe(false);
                break;
              case 'none':
                expect(credentials.clientId).toBe(fields.client_id);
                expect(present('client_secret') || present('client_assertion')).toBe(false);
                break;
            }
            if (credentials.clientId !== undefined) expect(credentials.clientId).not.toBe('');
          },
        ),
        fuzzParameters(400),
      );
    },
    PROPERTY_TIMEOUT,
  );
});

describe('decodeAssertion over hostile strings', () => {
  const check = (text: string, maxBytes: number) => {
    const result = outcome(() => decodeAssertion(text, maxBytes));
    if ('error' in result) {
      expect(result.error).toBeInstanceOf(ClientAuthError);
      const error = result.error as ClientAuthError;
      expect(['assertion_too_large', 'assertion_malformed']).toContain(error.reason);
      // S2.9: nothing is verified yet, so the caller learns nothing specific.
      expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
      return;
    }
    // S2.2: size-capped, three base64url parts, JSON objects.
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(maxBytes);
    expect(text.split('.')).toHaveLength(3);
    for (const part of [result.value.header, result.value.payload]) {
      expect(typeof part === 'object' && part !== null && !Array.isArray(part)).toBe(true);
    }
  };

  it(
    'decodes or throws ClientAuthError for any string',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            hostileString(200),
            fc.array(hostileString(40), { minLength: 1, maxLength: 5 }).map((p) => p.join('.')),
            fc
              .tuple(hostileJson(), hostileJson(), fc.uint8Array({ maxLength: 80 }))
              .map(
                ([h, p, s]) =>
                  `${segment(h)}.${segment(p)}.${Buffer.from(s).toString('base64url')}`,
              ),
          ),
          fc.constantFrom(8192, 512, 16),
          check,
        ),
        fuzzParameters(400),
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    'decodes or throws ClientAuthError for any mutation of a well-formed assertion',
    () => {
      fc.assert(
        fc.property(assertionMutation(), (mutation) => {
          check(applyAssertionMutation(SAMPLE, mutation, OTHER), 8192);
        }),
        fuzzParameters(400),
      );
    },
    PROPERTY_TIMEOUT,
  );
});
