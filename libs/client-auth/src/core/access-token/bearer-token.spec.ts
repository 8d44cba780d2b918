import { describe, expect, it } from '@jest/globals';
import { AccessTokenError, type AccessTokenReason } from './access-token-error.js';
import { bearerChallenge, extractBearerToken, type BearerTokenRequest } from './bearer-token.js';
import { missingScopes, parseScope, requireScopes } from './scopes.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';

function refusal(request: BearerTokenRequest, maxTokenBytes?: number): AccessTokenError {
  try {
    extractBearerToken(request, maxTokenBytes === undefined ? {} : { maxTokenBytes });
  } catch (error) {
    expect(error).toBeInstanceOf(AccessTokenError);
    return error as AccessTokenError;
  }
  throw new Error('expected a refusal');
}

describe('extractBearerToken (RFC 6750 §2.1)', () => {
  it.each([
    [`Bearer ${TOKEN}`],
    [`bearer ${TOKEN}`],
    [`BEARER ${TOKEN}`],
    [`Bearer   ${TOKEN}`],
    [[`Bearer ${TOKEN}`]],
  ])('takes the token from %j', (authorization) => {
    expect(extractBearerToken({ authorization, url: '/api/whoami' })).toBe(TOKEN);
  });

  it('accepts b64token characters and trailing "="', () => {
    expect(extractBearerToken({ authorization: 'Bearer a-._~+/Z9==' })).toBe('a-._~+/Z9==');
  });

  type Case = [string, BearerTokenRequest, AccessTokenReason, number];
  const cases: Case[] = [
    ['no header', { url: '/api' }, 'token_missing', 401],
    ['an empty header', { authorization: '' }, 'token_missing', 401],
    ['Basic credentials', { authorization: 'Basic YTpi' }, 'token_missing', 401],
    ['a DPoP-bound token', { authorization: `DPoP ${TOKEN}` }, 'token_missing', 401],
    ['Bearer without a token', { authorization: 'Bearer' }, 'authorization_malformed', 400],
    ['Bearer with two tokens', { authorization: 'Bearer a b' }, 'authorization_malformed', 400],
    ['Bearer with a comma', { authorization: 'Bearer a,b' }, 'authorization_malformed', 400],
    ['"=" inside the token', { authorization: 'Bearer a=b' }, 'authorization_malformed', 400],
    [
      'two Authorization headers',
      { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] },
      'authorization_malformed',
      400,
    ],
    [
      'a query token alone (RFC 6750 §2.3)',
      { url: `/api/whoami?access_token=${TOKEN}` },
      'token_not_in_header',
      400,
    ],
    [
      'a query token besides the header',
      { authorization: `Bearer ${TOKEN}`, url: `/api?x=1&access_token=${TOKEN}` },
      'token_not_in_header',
      400,
    ],
    [
      'a form body token (RFC 6750 §2.2)',
      { formBody: { access_token: TOKEN } },
      'token_not_in_header',
      400,
    ],
  ];

  it.each(cases)('refuses %s', (_case, request, reason, status) => {
    const error = refusal(request);
    expect(error.reason).toBe(reason);
    expect(error.status).toBe(status);
  });

  it('refuses a token over the cap as invalid_token without parsing it', () => {
    const error = refusal({ authorization: `Bearer ${'a'.repeat(2000)}` }, 1024);
    expect(error).toMatchObject({ reason: 'token_too_large', error: 'invalid_token' });
    expect(refusal({ authorization: `Bearer ${'a'.repeat(1025)}` }, 1024).reason).toBe(
      'token_too_large',
    );
    expect(
      extractBearerToken({ authorization: `Bearer ${'a'.repeat(1024)}` }, { maxTokenBytes: 1024 }),
    ).toHaveLength(1024);
  });

  it('ignores an access_token that is only in the path or a fragment', () => {
    expect(
      extractBearerToken({ authorization: `Bearer ${TOKEN}`, url: '/api/access_token?q=1' }),
    ).toBe(TOKEN);
  });
});

describe('bearerChallenge (RFC 6750 §3)', () => {
  it('is a bare challenge without an error (§3.1: no token, no error code)', () => {
    expect(bearerChallenge('api')).toBe('Bearer realm="api"');
    expect(bearerChallenge('api', new AccessTokenError({ reason: 'token_missing' }))).toBe(
      'Bearer realm="api"',
    );
    expect(bearerChallenge(undefined)).toBe('Bearer');
  });

  it('carries error and description for invalid_token', () => {
    expect(bearerChallenge('api', new AccessTokenError({ reason: 'token_expired' }))).toBe(
      'Bearer realm="api", error="invalid_token", error_description="the access token expired"',
    );
  });

  it('carries the required scopes for insufficient_scope', () => {
    const error = new AccessTokenError({
      reason: 'scope_insufficient',
      requiredScopes: ['reports:read', 'reports:export'],
    });
    expect(bearerChallenge('api', error)).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="the access token lacks a required scope", scope="reports:read reports:export"',
    );
  });

  it('cannot be broken out of by quotes, backslashes or line breaks', () => {
    const challenge = bearerChallenge('a"b\\c\r\nSet-Cookie: x', {
      error: 'invalid_token',
      description: 'say "hi"\n',
    });
    expect(challenge).toBe(
      'Bearer realm="abcSet-Cookie: x", error="invalid_token", error_description="say hi"',
    );
  });
});

describe('scopes', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['a', ['a']],
    ['a b  a c', ['a', 'b', 'c']],
    ['reports:read https://api.example.com/x', ['reports:read', 'https://api.example.com/x']],
  ])('parses %j as %j', (value, expected) => {
    expect(parseScope(value)).toEqual(expected);
  });

  it.each([[42], [['a']], ['a\tb'], ['a "b"'], ['a\\b']])('refuses %j', (value) => {
    expect(parseScope(value)).toBeUndefined();
  });

  it('finds missing scopes case-sensitively (RFC 6749 §3.3)', () => {
    expect(missingScopes(['a', 'B'], ['a', 'b', 'B'])).toEqual(['b']);
  });

  it('requires every scope', () => {
    expect(() => requireScopes({ scopes: ['a', 'b'] }, ['a', 'b'])).not.toThrow();
    expect(() => requireScopes({ scopes: [] }, [])).not.toThrow();
    let error: unknown;
    try {
      requireScopes({ scopes: ['a'] }, ['a', 'b', 'b']);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      reason: 'scope_insufficient',
      error: 'insufficient_scope',
      requiredScopes: ['a', 'b'],
      detail: 'missing scope b',
    });
  });
});
