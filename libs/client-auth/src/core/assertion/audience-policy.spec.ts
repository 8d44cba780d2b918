import { describe, it, expect } from '@jest/globals';
import { ClientAuthError } from '../errors.js';
import type { AudiencePolicy } from '../types.js';
import {
  checkAudience,
  isClientAuthenticationTyp,
  type AudienceContext,
} from './audience-policy.js';

const ISSUER = 'https://as.example.com';
const TOKEN = 'https://as.example.com/oauth/token';
const ENDPOINT = 'https://as.example.com/oauth/introspect';
const OTHER = 'https://other.example.com';

const ctx = (overrides: Partial<AudienceContext> = {}): AudienceContext => ({
  issuer: ISSUER,
  tokenEndpoint: TOKEN,
  endpointUrl: ENDPOINT,
  policy: 'compat',
  requireString: false,
  strictTyped: false,
  ...overrides,
});

function reasonOf(aud: unknown, context: AudienceContext): string {
  try {
    return checkAudience(aud, context);
  } catch (error) {
    if (!(error instanceof ClientAuthError)) throw error;
    // Checked after the signature: the description names the rule (SPEC S2.9).
    expect(error.description).toBe(error.detail);
    expect(error.claim).toBe('aud');
    return `throws ${error.reason}`;
  }
}

/**
 * The audience matrix of SPEC S2.8: each row is an `aud` value and its outcome under
 * [compat, strict, compat + typed, compat + requireString, strict + requireString].
 */
const MATRIX: readonly [string, unknown, string, string, string, string, string][] = [
  ['issuer string', ISSUER, 'issuer', 'issuer', 'issuer', 'issuer', 'issuer'],
  [
    'issuer one-member array',
    [ISSUER],
    'issuer_array',
    'issuer_array',
    'issuer_array',
    'throws aud_not_string',
    'throws aud_not_string',
  ],
  [
    'token endpoint string',
    TOKEN,
    'token_endpoint',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'token_endpoint',
    'throws aud_not_issuer',
  ],
  [
    'token endpoint array',
    [TOKEN],
    'token_endpoint',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_string',
    'throws aud_not_string',
  ],
  [
    'endpoint URL string',
    ENDPOINT,
    'endpoint_url',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'endpoint_url',
    'throws aud_not_issuer',
  ],
  [
    'array with the endpoint URL among others',
    [OTHER, ENDPOINT],
    'endpoint_url',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_string',
    'throws aud_not_string',
  ],
  [
    'array with the issuer among others',
    [OTHER, ISSUER],
    'issuer_among_others',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_string',
    'throws aud_not_string',
  ],
  [
    'array of the issuer and the token endpoint',
    [ISSUER, TOKEN],
    'issuer_among_others',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_string',
    'throws aud_not_string',
  ],
  [
    'another audience',
    OTHER,
    'throws aud_not_accepted',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_accepted',
    'throws aud_not_issuer',
  ],
  [
    'array of other audiences',
    [OTHER, 'x'],
    'throws aud_not_accepted',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_string',
    'throws aud_not_string',
  ],
  [
    'issuer with a trailing slash (compared exactly)',
    `${ISSUER}/`,
    'throws aud_not_accepted',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_accepted',
    'throws aud_not_issuer',
  ],
  [
    'issuer in other case (compared exactly)',
    ISSUER.toUpperCase(),
    'throws aud_not_accepted',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_accepted',
    'throws aud_not_issuer',
  ],
  [
    'token endpoint with a trailing slash',
    `${TOKEN}/`,
    'throws aud_not_accepted',
    'throws aud_not_issuer',
    'throws aud_not_issuer',
    'throws aud_not_accepted',
    'throws aud_not_issuer',
  ],
  ['missing', undefined, ...Array(5).fill('throws aud_missing')] as never,
  ['null', null, ...Array(5).fill('throws aud_missing')] as never,
  ['empty string', '', ...Array(5).fill('throws aud_missing')] as never,
  ['empty array', [], ...Array(5).fill('throws aud_missing')] as never,
  ['a number', 42, ...Array(5).fill('throws claims_malformed')] as never,
  ['an object', { aud: ISSUER }, ...Array(5).fill('throws claims_malformed')] as never,
  ['an array with a non-string', [ISSUER, 1], ...Array(5).fill('throws claims_malformed')] as never,
];

describe('checkAudience matrix (SPEC S2.8)', () => {
  it.each(MATRIX)('%s', (_name, aud, compat, strict, typed, compatString, strictString) => {
    expect(reasonOf(aud, ctx({ policy: 'compat' }))).toBe(compat);
    expect(reasonOf(aud, ctx({ policy: 'strict' }))).toBe(strict);
    // A client-authentication+jwt assertion is always strict, whatever the policy.
    expect(reasonOf(aud, ctx({ policy: 'compat', strictTyped: true }))).toBe(typed);
    expect(reasonOf(aud, ctx({ policy: 'strict', strictTyped: true }))).toBe(typed);
    expect(reasonOf(aud, ctx({ policy: 'compat', requireString: true }))).toBe(compatString);
    expect(reasonOf(aud, ctx({ policy: 'strict', requireString: true }))).toBe(strictString);
  });

  it('accepts the endpoint URL only when one is given', () => {
    expect(reasonOf(ENDPOINT, ctx({ endpointUrl: undefined }))).toBe('throws aud_not_accepted');
    expect(reasonOf(ENDPOINT, ctx({ endpointUrl: ENDPOINT }))).toBe('endpoint_url');
  });

  it('names the token endpoint in the strict refusal', () => {
    expect(() => checkAudience(TOKEN, ctx({ policy: 'strict' }))).toThrow(
      /not the token endpoint URL/,
    );
    expect(() => checkAudience([ISSUER, TOKEN], ctx({ policy: 'strict' }))).toThrow(/only value/);
  });

  it.each<[AudiencePolicy, boolean]>([
    ['strict', false],
    ['compat', true],
  ])('the refusal explains the cause (policy %s, typed %p)', (policy, strictTyped) => {
    expect(() => checkAudience(OTHER, ctx({ policy, strictTyped }))).toThrow(
      strictTyped ? /client-authentication\+jwt/ : /strict audience policy/,
    );
  });
});

describe('isClientAuthenticationTyp (draft-ietf-oauth-rfc7523bis)', () => {
  it.each([
    ['client-authentication+jwt', true],
    ['application/client-authentication+jwt', true],
    ['Client-Authentication+JWT', true],
    ['APPLICATION/CLIENT-AUTHENTICATION+JWT', true],
    ['JWT', false],
    ['application/jwt', false],
    ['client-authentication', false],
    ['text/client-authentication+jwt', false],
    [' client-authentication+jwt', false],
    [undefined, false],
    [1, false],
  ])('%p → %p', (typ, typed) => {
    expect(isClientAuthenticationTyp(typ)).toBe(typed);
  });
});
