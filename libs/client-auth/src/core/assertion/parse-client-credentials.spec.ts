import { describe, it, expect } from '@jest/globals';
import { ClientAuthError, GENERIC_CLIENT_AUTH_DESCRIPTION } from '../errors.js';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE as TYPE } from '../options.js';
import { extractClientCredentials, type CredentialSource } from './parse-client-credentials.js';

/** RFC 6749 §2.3.1 Basic credentials: form-urlencode each part, then base64. */
const basic = (id: string, secret: string): string => {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
};
const rawBasic = (decoded: string): string => `Basic ${Buffer.from(decoded).toString('base64')}`;

const ASSERTION = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjIn0.c2ln';

function failure(input: CredentialSource): ClientAuthError {
  try {
    extractClientCredentials(input);
  } catch (error) {
    if (error instanceof ClientAuthError) return error;
    throw error;
  }
  throw new Error('expected extractClientCredentials to throw');
}

describe('extractClientCredentials: accepted shapes (SPEC S2.1)', () => {
  it('reads Basic credentials, form-urldecoding id and secret (RFC 6749 §2.3.1)', () => {
    const id = 'client:1 ü+%/';
    const secret = 's3cr:et with spaces+plus&amp=é';
    expect(extractClientCredentials({ authorization: basic(id, secret) })).toEqual({
      kind: 'basic',
      clientId: id,
      secret,
    });
  });

  it('splits Basic credentials at the first colon only (a colon in the secret is encoded anyway)', () => {
    expect(extractClientCredentials({ authorization: rawBasic('id:sec:ret') })).toEqual({
      kind: 'basic',
      clientId: 'id',
      secret: 'sec:ret',
    });
  });

  it.each(['basic', 'BASIC', 'Basic'])('accepts the scheme case-insensitively (%s)', (scheme) => {
    const header = `${scheme} ${Buffer.from('a:b').toString('base64')}`;
    expect(extractClientCredentials({ authorization: header })).toMatchObject({ kind: 'basic' });
  });

  it('accepts a Basic header with a matching body client_id', () => {
    expect(
      extractClientCredentials({ authorization: basic('c1', 'pw'), body: { client_id: 'c1' } }),
    ).toEqual({ kind: 'basic', clientId: 'c1', secret: 'pw' });
  });

  it('accepts a one-element header array (the header sent once)', () => {
    expect(extractClientCredentials({ authorization: [basic('c1', 'pw')] })).toMatchObject({
      kind: 'basic',
    });
  });

  it('reads client_secret_post', () => {
    expect(extractClientCredentials({ body: { client_id: 'c1', client_secret: 'pw' } })).toEqual({
      kind: 'post',
      clientId: 'c1',
      secret: 'pw',
    });
  });

  it('reads an assertion with and without client_id', () => {
    expect(
      extractClientCredentials({
        body: { client_assertion: ASSERTION, client_assertion_type: TYPE },
      }),
    ).toEqual({ kind: 'assertion', assertion: ASSERTION });
    expect(
      extractClientCredentials({
        body: { client_assertion: ASSERTION, client_assertion_type: TYPE, client_id: 'c1' },
      }),
    ).toEqual({ kind: 'assertion', assertion: ASSERTION, clientId: 'c1' });
  });

  it('reads a public client (client_id only) as none', () => {
    expect(extractClientCredentials({ body: { client_id: 'pub', grant_type: 'x' } })).toEqual({
      kind: 'none',
      clientId: 'pub',
    });
  });

  it('treats empty parameters as omitted (RFC 6749 §3.1)', () => {
    expect(
      extractClientCredentials({
        body: {
          client_id: 'c1',
          client_secret: '',
          client_assertion: '',
          client_assertion_type: '',
        },
      }),
    ).toEqual({ kind: 'none', clientId: 'c1' });
  });

  it('ignores Authorization schemes other than Basic', () => {
    expect(
      extractClientCredentials({
        authorization: 'Bearer abc',
        body: { client_id: 'c', client_secret: 's' },
      }),
    ).toEqual({ kind: 'post', clientId: 'c', secret: 's' });
  });
});

describe('extractClientCredentials: refused shapes (SPEC S2.1)', () => {
  const assertionBody = { client_assertion: ASSERTION, client_assertion_type: TYPE };

  it.each([
    ['client_id', { client_id: ['a', 'b'] }],
    ['client_secret', { client_id: 'a', client_secret: ['x', 'y'] }],
    ['client_assertion', { client_assertion: [ASSERTION, ASSERTION], client_assertion_type: TYPE }],
    ['client_assertion_type', { client_assertion: ASSERTION, client_assertion_type: [TYPE, TYPE] }],
  ])('a parameter sent twice (%s) → invalid_request duplicate_parameter', (name, body) => {
    const error = failure({ body });
    expect(error).toMatchObject({
      error: 'invalid_request',
      reason: 'duplicate_parameter',
      claim: name,
    });
    expect(error.status).toBe(400);
  });

  it('the Authorization header sent twice → duplicate_parameter', () => {
    expect(failure({ authorization: [basic('a', 'b'), basic('a', 'b')] })).toMatchObject({
      error: 'invalid_request',
      reason: 'duplicate_parameter',
    });
  });

  it.each([
    ['client_id', { client_id: { x: '1' } }],
    ['client_secret', { client_id: 'a', client_secret: { 0: 's' } }],
    ['client_assertion', { client_assertion: { a: 1 }, client_assertion_type: TYPE }],
    ['client_assertion_type', { client_assertion: ASSERTION, client_assertion_type: 5 }],
  ])('a non-string %s (bracket syntax) → invalid_request parameter_not_string', (name, body) => {
    expect(failure({ body })).toMatchObject({
      error: 'invalid_request',
      reason: 'parameter_not_string',
      claim: name,
    });
  });

  it.each([
    [
      'Basic + client_secret',
      { authorization: basic('a', 'b'), body: { client_id: 'a', client_secret: 'b' } },
    ],
    ['Basic + client_assertion', { authorization: basic('a', 'b'), body: assertionBody }],
    [
      'client_secret + client_assertion',
      { body: { ...assertionBody, client_id: 'a', client_secret: 'b' } },
    ],
    [
      'all three',
      {
        authorization: basic('a', 'b'),
        body: { ...assertionBody, client_id: 'a', client_secret: 'b' },
      },
    ],
  ])('%s → invalid_request multiple_methods', (_name, input) => {
    const error = failure(input as CredentialSource);
    expect(error).toMatchObject({ error: 'invalid_request', reason: 'multiple_methods' });
    // invalid_request descriptions are specific: the caller can fix its request.
    expect(error.description).toMatch(/more than one way/);
  });

  it.each([
    'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
    'urn:ietf:params:oauth:client-assertion-type:JWT-BEARER',
    `${TYPE} `,
    'jwt',
  ])('client_assertion_type %p → assertion_type_unsupported', (type) => {
    expect(
      failure({ body: { client_assertion: ASSERTION, client_assertion_type: type } }),
    ).toMatchObject({
      error: 'invalid_request',
      reason: 'assertion_type_unsupported',
    });
  });

  it('client_assertion_type without client_assertion → invalid_request', () => {
    expect(failure({ body: { client_assertion_type: TYPE, client_id: 'a' } })).toMatchObject({
      error: 'invalid_request',
      reason: 'assertion_type_without_assertion',
    });
  });

  it('client_assertion without client_assertion_type → invalid_request', () => {
    expect(failure({ body: { client_assertion: ASSERTION } })).toMatchObject({
      error: 'invalid_request',
      reason: 'assertion_without_type',
    });
  });

  it('client_assertion_type beside Basic (without an assertion) → invalid_request', () => {
    expect(
      failure({ authorization: basic('a', 'b'), body: { client_assertion_type: TYPE } }),
    ).toMatchObject({
      error: 'invalid_request',
      reason: 'assertion_type_without_assertion',
    });
  });

  it.each([
    ['no credentials part', 'Basic'],
    ['not base64', 'Basic !!!!'],
    ['bad base64 padding', 'Basic YWJj='],
    ['no colon', rawBasic('abc')],
    ['empty client_id', rawBasic(':secret')],
    ['empty secret', rawBasic('id:')],
    ['broken percent-encoding', rawBasic('id%zz:secret')],
    ['broken percent-encoding in the secret', rawBasic('id:%E0%A4%A')],
    ['whitespace only', '   '],
  ])('a malformed Basic header (%s) → invalid_request basic_malformed', (_name, header) => {
    expect(failure({ authorization: header })).toMatchObject({
      error: 'invalid_request',
      reason: 'basic_malformed',
    });
  });

  it('a Basic client_id that differs from the body client_id → invalid_request', () => {
    expect(failure({ authorization: basic('a', 'pw'), body: { client_id: 'b' } })).toMatchObject({
      error: 'invalid_request',
      reason: 'client_id_mismatch',
    });
  });

  it('client_secret without client_id → invalid_request client_id_missing', () => {
    expect(failure({ body: { client_secret: 'pw' } })).toMatchObject({
      error: 'invalid_request',
      reason: 'client_id_missing',
    });
  });

  it.each([
    ['no body', {}],
    ['empty body', { body: {} }],
    ['body of other parameters', { body: { grant_type: 'client_credentials' } }],
    ['a non-object body', { body: 'client_id=a' }],
    ['an empty Authorization header', { authorization: '', body: {} }],
  ])('%s → invalid_client credentials_missing with the generic description', (_name, input) => {
    const error = failure(input as CredentialSource);
    expect(error).toMatchObject({ error: 'invalid_client', reason: 'credentials_missing' });
    expect(error.status).toBe(401);
    expect(error.description).toBe(GENERIC_CLIENT_AUTH_DESCRIPTION);
  });
});
