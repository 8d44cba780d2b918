import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import { OAuthError } from '../../core/errors.js';
import { OAuthValidationPipe } from '../validation/oauth-validation.pipe.js';
import { ClientMetadataDto } from './client-metadata.dto.js';

const pipe = new OAuthValidationPipe();

async function validate(body: unknown): Promise<ClientMetadataDto> {
  return (await pipe.transform(body, {
    type: 'body',
    metatype: ClientMetadataDto,
  })) as ClientMetadataDto;
}

async function refusal(body: unknown): Promise<{ error: string; description: string }> {
  try {
    await validate(body);
  } catch (error) {
    if (error instanceof OAuthError) return { error: error.error, description: error.description };
    throw error;
  }
  throw new Error('the body was accepted');
}

const rsa = fixtureKey('RS256').publicJwk;
const ec = fixtureKey('ES256').publicJwk;
const ed = fixtureKey('EdDSA').publicJwk;
const ecPrivate = fixtureKey('ES256').privateJwk;
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const jws = (header: unknown, payload: unknown = { software_id: 'x' }): string =>
  `${b64(header)}.${b64(payload)}.c2lnbmF0dXJl`;
const long = (length: number, char = 'a'): string => char.repeat(length);
const httpsOf = (length: number): string => `https://a.example/${long(length - 18)}`;

describe('ClientMetadataDto', () => {
  it('accepts a complete registration and keeps every field', async () => {
    const body = {
      redirect_uris: ['https://client.example.com/cb', 'http://127.0.0.1:8080/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      response_types: [],
      client_name: 'Billing service',
      client_uri: 'https://client.example.com',
      logo_uri: 'https://client.example.com/logo.png',
      tos_uri: 'https://client.example.com/tos',
      policy_uri: 'https://client.example.com/privacy',
      scope: 'billing.read billing.write',
      contacts: ['ops@client.example.com'],
      jwks: { keys: [rsa, ec, ed] },
      software_id: '4NRB1-0XZABZI9E6-5SM3R',
      software_version: '2.1',
      software_statement: jws({ alg: 'RS256' }),
    };
    const dto = await validate(structuredClone(body));
    expect(dto).toBeInstanceOf(ClientMetadataDto);
    expect({ ...dto }).toEqual(body);
  });

  it('defaults token_endpoint_auth_method to client_secret_basic (RFC 7591 §2), also for null', async () => {
    expect((await validate({})).token_endpoint_auth_method).toBe('client_secret_basic');
    expect((await validate({ token_endpoint_auth_method: null })).token_endpoint_auth_method).toBe(
      'client_secret_basic',
    );
  });

  it('treats null as absent', async () => {
    const dto = await validate({ client_name: null, jwks: null, grant_types: null });
    expect(dto.client_name).toBeUndefined();
    expect(dto.jwks).toBeUndefined();
    expect(dto.grant_types).toBeUndefined();
  });

  it('drops unknown properties, server-issued fields and language-tagged variants', async () => {
    const dto = await validate({
      client_name: 'A',
      'client_name#fr': 'Un',
      client_secret: 'chosen-by-client',
      client_id: 'chosen',
      registration_access_token: 'x',
      is_admin: true,
      ['__proto__']: { polluted: true },
    });
    expect(
      Object.keys(dto).filter((key) => dto[key as keyof ClientMetadataDto] !== undefined),
    ).toEqual(['token_endpoint_auth_method', 'client_name']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps every member of a submitted JWK (the whitelist applies to the DTO only)', async () => {
    const key = { ...ec, x5t: 'abc', ext: true };
    const dto = await validate({ jwks: { keys: [key] } });
    expect(dto.jwks).toEqual({ keys: [key] });
  });

  it.each([
    ['https', 'https://client.example.com/cb?x=1'],
    ['http on 127.0.0.1', 'http://127.0.0.1/cb'],
    ['http on another 127/8 address', 'http://127.0.0.2:9000/cb'],
    ['http on [::1]', 'http://[::1]:3000/cb'],
    ['http on localhost (RFC 8252 §8.3)', 'http://localhost:3000/cb'],
    ['a private-use scheme (RFC 8252 §7.1)', 'com.example.app:/oauth2redirect'],
    ['a private-use scheme with an authority', 'com.example.app://cb'],
    ['the longest URI', httpsOf(2048)],
  ])('accepts a redirect URI: %s', async (_name, uri) => {
    expect((await validate({ redirect_uris: [uri] })).redirect_uris).toEqual([uri]);
  });

  it('accepts 20 redirect URIs and an empty list', async () => {
    const uris = Array.from({ length: 20 }, (_, i) => `https://c.example/${i}`);
    expect((await validate({ redirect_uris: uris })).redirect_uris).toHaveLength(20);
    expect((await validate({ redirect_uris: [] })).redirect_uris).toEqual([]);
  });

  it.each([
    ['accepts every registrable algorithm', 'PS512'],
    ['accepts HMAC (client_secret_jwt)', 'HS384'],
    ['accepts EdDSA', 'EdDSA'],
    ['accepts Ed25519 (RFC 9864)', 'Ed25519'],
  ])('token_endpoint_auth_signing_alg %s', async (_name, alg) => {
    expect(
      (await validate({ token_endpoint_auth_signing_alg: alg })).token_endpoint_auth_signing_alg,
    ).toBe(alg);
  });

  it.each([
    ['a single scope', 'read'],
    ['scopes with URI characters', 'https://api.example.com/read openid'],
  ])('accepts scope: %s', async (_name, value) => {
    expect((await validate({ scope: value })).scope).toBe(value);
  });

  it.each([
    ['a client_name of 255 characters', { client_name: long(255) }],
    ['non-ASCII text', { client_name: 'Système de facturation' }],
    ['ten contacts', { contacts: Array.from({ length: 10 }, (_, i) => `a${i}@example.com`) }],
    [
      'a JWKS of 100 keys',
      {
        jwks: { keys: Array.from({ length: 100 }, (_, i) => ({ ...ec, kid: `k${i}` })) },
      },
    ],
    ['a jwks_uri', { jwks_uri: 'https://client.example.com/jwks.json' }],
    [
      'an http jwks_uri (the allow-list is applied by the service)',
      {
        jwks_uri: 'http://jwks.internal.example/jwks.json',
      },
    ],
    ['a software_version of 255 characters', { software_version: long(255) }],
  ])('accepts %s', async (_name, body) => {
    await expect(validate(body)).resolves.toBeInstanceOf(ClientMetadataDto);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    // redirect_uris (RFC 7591 §2, RFC 6749 §3.1.2, RFC 8252 §7): invalid_redirect_uri
    [
      'redirect_uris not an array',
      { redirect_uris: 'https://a.example/cb' },
      'invalid_redirect_uri',
      'redirect_uris: must be an array',
    ],
    [
      'a non-string redirect URI',
      { redirect_uris: [42] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must be a string',
    ],
    [
      'an empty redirect URI',
      { redirect_uris: [''] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must not be empty',
    ],
    [
      'a relative redirect URI',
      { redirect_uris: ['https://a.example/ok', '/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[1]: must be an absolute URI (RFC 3986 §4.3)',
    ],
    [
      'a redirect URI with a fragment',
      { redirect_uris: ['https://a.example/cb#top'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must not include a fragment (RFC 6749 §3.1.2)',
    ],
    [
      'a redirect URI with an empty fragment',
      { redirect_uris: ['https://a.example/cb#'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must not include a fragment (RFC 6749 §3.1.2)',
    ],
    [
      'http on a public host',
      { redirect_uris: ['http://client.example.com/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: may use http only with a loopback host (RFC 8252 §7.3); use https',
    ],
    [
      'http on a private address',
      { redirect_uris: ['http://10.0.0.1/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: may use http only with a loopback host (RFC 8252 §7.3); use https',
    ],
    [
      'a scheme without a dot',
      { redirect_uris: ['myapp:/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must use https, http with a loopback host, or a private-use scheme in reverse domain name form such as com.example.app (RFC 8252 §7)',
    ],
    [
      'javascript:',
      { redirect_uris: ['javascript:alert(1)'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must use https, http with a loopback host, or a private-use scheme in reverse domain name form such as com.example.app (RFC 8252 §7)',
    ],
    [
      'a redirect URI with credentials',
      { redirect_uris: ['https://u:p@a.example/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must not include a user name or password',
    ],
    [
      'a redirect URI with a space',
      { redirect_uris: ['https://a.example/c b'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must be an absolute URI without spaces or non-ASCII characters (RFC 3986 §4.3)',
    ],
    [
      'a redirect URI with non-ASCII',
      { redirect_uris: ['https://a.example/ça'] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must be an absolute URI without spaces or non-ASCII characters (RFC 3986 §4.3)',
    ],
    [
      'a redirect URI too long',
      { redirect_uris: [httpsOf(2049)] },
      'invalid_redirect_uri',
      'redirect_uris[0]: must be at most 2048 characters long',
    ],
    [
      '21 redirect URIs',
      { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://c.example/${i}`) },
      'invalid_redirect_uri',
      'redirect_uris: must hold at most 20 entries',
    ],
    [
      'a repeated redirect URI',
      { redirect_uris: ['https://a.example/cb', 'https://a.example/cb'] },
      'invalid_redirect_uri',
      'redirect_uris[1]: repeats an earlier entry',
    ],
    // token_endpoint_auth_method
    [
      'an unknown auth method',
      { token_endpoint_auth_method: 'tls_client_auth' },
      'invalid_client_metadata',
      'token_endpoint_auth_method: must be one of private_key_jwt, client_secret_jwt, client_secret_basic, client_secret_post, none',
    ],
    [
      'an auth method of the wrong case',
      { token_endpoint_auth_method: 'PRIVATE_KEY_JWT' },
      'invalid_client_metadata',
      'token_endpoint_auth_method: must be one of private_key_jwt, client_secret_jwt, client_secret_basic, client_secret_post, none',
    ],
    [
      'an auth method that is not a string',
      { token_endpoint_auth_method: ['private_key_jwt'] },
      'invalid_client_metadata',
      'token_endpoint_auth_method: must be one of private_key_jwt, client_secret_jwt, client_secret_basic, client_secret_post, none',
    ],
    // token_endpoint_auth_signing_alg (SPEC S2.4)
    [
      'alg none',
      { token_endpoint_auth_signing_alg: 'none' },
      'invalid_client_metadata',
      'token_endpoint_auth_signing_alg: "none" is not accepted: assertions must be signed or MACed (RFC 7523 §3)',
    ],
    [
      'alg NONE',
      { token_endpoint_auth_signing_alg: 'NONE' },
      'invalid_client_metadata',
      'token_endpoint_auth_signing_alg: "none" is not accepted: assertions must be signed or MACed (RFC 7523 §3)',
    ],
    [
      'an unsupported alg',
      { token_endpoint_auth_signing_alg: 'ES256K' },
      'invalid_client_metadata',
      'token_endpoint_auth_signing_alg: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512',
    ],
    [
      'an alg of the wrong case',
      { token_endpoint_auth_signing_alg: 'es256' },
      'invalid_client_metadata',
      'token_endpoint_auth_signing_alg: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512',
    ],
    [
      'an alg that is not a string',
      { token_endpoint_auth_signing_alg: 256 },
      'invalid_client_metadata',
      'token_endpoint_auth_signing_alg: must be a string',
    ],
    // grant_types
    [
      'grant_types not an array',
      { grant_types: 'client_credentials' },
      'invalid_client_metadata',
      'grant_types: must be an array',
    ],
    [
      'empty grant_types',
      { grant_types: [] },
      'invalid_client_metadata',
      'grant_types: must not be empty',
    ],
    [
      'authorization_code',
      { grant_types: ['client_credentials', 'authorization_code'] },
      'invalid_client_metadata',
      'grant_types[1]: "authorization_code" is not a supported grant type; supported: client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    [
      'refresh_token',
      { grant_types: ['refresh_token'] },
      'invalid_client_metadata',
      'grant_types[0]: "refresh_token" is not a supported grant type; supported: client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    [
      'an unsafe grant type value is not echoed',
      { grant_types: ['<script>"x"'] },
      'invalid_client_metadata',
      'grant_types[0]: is not a supported grant type; supported: client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    [
      'a repeated grant type',
      { grant_types: ['client_credentials', 'client_credentials'] },
      'invalid_client_metadata',
      'grant_types[1]: repeats an earlier entry',
    ],
    [
      'a non-string grant type',
      { grant_types: [{}] },
      'invalid_client_metadata',
      'grant_types[0]: must be a string',
    ],
    // response_types
    [
      'response_types code',
      { response_types: ['code'] },
      'invalid_client_metadata',
      'response_types: must be empty: this server has no authorization endpoint',
    ],
    [
      'response_types not an array',
      { response_types: 'code' },
      'invalid_client_metadata',
      'response_types: must be an array',
    ],
    // client_name and the other texts
    [
      'an empty client_name',
      { client_name: '' },
      'invalid_client_metadata',
      'client_name: must not be empty',
    ],
    [
      'a client_name too long',
      { client_name: long(256) },
      'invalid_client_metadata',
      'client_name: must be 1 to 255 characters long',
    ],
    [
      'a client_name with a control character',
      { client_name: 'a\u0000b' },
      'invalid_client_metadata',
      'client_name: must not contain control characters',
    ],
    [
      'a client_name with a newline',
      { client_name: 'a\nb' },
      'invalid_client_metadata',
      'client_name: must not contain control characters',
    ],
    [
      'a client_name that is a number',
      { client_name: 7 },
      'invalid_client_metadata',
      'client_name: must be a string',
    ],
    [
      'a software_id too long',
      { software_id: long(256) },
      'invalid_client_metadata',
      'software_id: must be 1 to 255 characters long',
    ],
    [
      'a software_version that is a number',
      { software_version: 2 },
      'invalid_client_metadata',
      'software_version: must be a string',
    ],
    [
      'an empty software_version',
      { software_version: '' },
      'invalid_client_metadata',
      'software_version: must not be empty',
    ],
    // client_uri, logo_uri, tos_uri, policy_uri
    [
      'an http client_uri',
      { client_uri: 'http://client.example.com' },
      'invalid_client_metadata',
      'client_uri: must be an absolute https URL',
    ],
    [
      'a relative logo_uri',
      { logo_uri: '/logo.png' },
      'invalid_client_metadata',
      'logo_uri: must be an absolute https URL',
    ],
    [
      'a data: logo_uri',
      { logo_uri: 'data:image/png;base64,AAAA' },
      'invalid_client_metadata',
      'logo_uri: must be an absolute https URL',
    ],
    [
      'a tos_uri with credentials',
      { tos_uri: 'https://u:p@client.example.com/tos' },
      'invalid_client_metadata',
      'tos_uri: must not include a user name or password',
    ],
    [
      'a policy_uri too long',
      { policy_uri: httpsOf(2049) },
      'invalid_client_metadata',
      'policy_uri: must be at most 2048 characters long',
    ],
    [
      'a policy_uri that is not a string',
      { policy_uri: { href: 'https://a.example' } },
      'invalid_client_metadata',
      'policy_uri: must be a string',
    ],
    // scope (RFC 6749 §3.3)
    ['an empty scope', { scope: '' }, 'invalid_client_metadata', 'scope: must not be empty'],
    [
      'a scope with two spaces',
      { scope: 'a  b' },
      'invalid_client_metadata',
      'scope: must be scope tokens separated by single spaces (RFC 6749 §3.3)',
    ],
    [
      'a scope with a leading space',
      { scope: ' a' },
      'invalid_client_metadata',
      'scope: must be scope tokens separated by single spaces (RFC 6749 §3.3)',
    ],
    [
      'a scope with a double quote',
      { scope: 'a"b' },
      'invalid_client_metadata',
      'scope: must be scope tokens separated by single spaces (RFC 6749 §3.3)',
    ],
    [
      'a scope with a backslash',
      { scope: 'a\\b' },
      'invalid_client_metadata',
      'scope: must be scope tokens separated by single spaces (RFC 6749 §3.3)',
    ],
    [
      'a scope with non-ASCII',
      { scope: 'lecture.é' },
      'invalid_client_metadata',
      'scope: must be scope tokens separated by single spaces (RFC 6749 §3.3)',
    ],
    [
      'a scope too long',
      { scope: long(2049) },
      'invalid_client_metadata',
      'scope: must be 1 to 2048 characters long',
    ],
    ['a scope array', { scope: ['a', 'b'] }, 'invalid_client_metadata', 'scope: must be a string'],
    // contacts
    [
      'contacts not an array',
      { contacts: 'ops@example.com' },
      'invalid_client_metadata',
      'contacts: must be an array',
    ],
    [
      'a contact that is not an address',
      { contacts: ['ops@example.com', 'call me'] },
      'invalid_client_metadata',
      'contacts[1]: must be an e-mail address',
    ],
    [
      'a contact that is a number',
      { contacts: [1] },
      'invalid_client_metadata',
      'contacts[0]: must be a string',
    ],
    [
      'a contact too long',
      { contacts: [`${long(250)}@example.com`] },
      'invalid_client_metadata',
      'contacts[0]: must be at most 254 characters long',
    ],
    [
      'eleven contacts',
      { contacts: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) },
      'invalid_client_metadata',
      'contacts: must hold at most 10 entries',
    ],
    // jwks (RFC 7517 §5, SPEC S3)
    [
      'jwks as an array',
      { jwks: [ec] },
      'invalid_client_metadata',
      'jwks: must be a JWK Set: an object with a "keys" array (RFC 7517 §5)',
    ],
    [
      'jwks without keys',
      { jwks: {} },
      'invalid_client_metadata',
      'jwks: must be a JWK Set: an object with a "keys" array (RFC 7517 §5)',
    ],
    [
      'jwks as a string',
      { jwks: JSON.stringify({ keys: [ec] }) },
      'invalid_client_metadata',
      'jwks: must be a JWK Set: an object with a "keys" array (RFC 7517 §5)',
    ],
    [
      'an empty key set',
      { jwks: { keys: [] } },
      'invalid_client_metadata',
      'jwks.keys: must hold at least one key',
    ],
    [
      '101 keys',
      { jwks: { keys: Array.from({ length: 101 }, (_, i) => ({ ...ec, kid: `k${i}` })) } },
      'invalid_client_metadata',
      'jwks.keys: must hold at most 100 keys',
    ],
    [
      'a key that is not an object',
      { jwks: { keys: [ec, 'key'] } },
      'invalid_client_metadata',
      'jwks.keys[1]: must be a JSON object',
    ],
    [
      'a private key',
      { jwks: { keys: [rsa, ecPrivate] } },
      'invalid_client_metadata',
      'jwks.keys[1]: holds the private member "d"; only public keys are accepted',
    ],
    [
      'a symmetric key',
      { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: holds the private member "k"; only public keys are accepted',
    ],
    [
      'a small RSA key',
      {
        jwks: {
          keys: [{ kty: 'RSA', e: 'AQAB', n: Buffer.alloc(128, 0xff).toString('base64url') }],
        },
      },
      'invalid_client_metadata',
      'jwks.keys[0]: RSA modulus is 1024 bits; at least 2048 are required',
    ],
    [
      'an alg that does not fit the key',
      { jwks: { keys: [{ ...ec, alg: 'RS256' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: "alg" RS256 does not fit the key (EC P-256)',
    ],
    [
      'a curve of another key type',
      { jwks: { keys: [{ ...ec, crv: 'Ed25519' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: curve "Ed25519" belongs to kty "OKP", not "EC"',
    ],
    [
      'duplicate kids',
      { jwks: { keys: [ec, { ...ed, kid: ec.kid }] } },
      'invalid_client_metadata',
      'jwks.keys[1]: duplicates the kid of keys[0]',
    ],
    [
      'an encryption key',
      { jwks: { keys: [{ ...rsa, use: 'enc' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: "use" is "enc", not "sig"',
    ],
    [
      'an unknown use',
      { jwks: { keys: [{ ...rsa, use: 'signing' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: "use" must be "sig" (RFC 7517 §4.2)',
    ],
    [
      'an encryption alg',
      { jwks: { keys: [ec, { ...rsa, alg: 'RSA-OAEP' }] } },
      'invalid_client_metadata',
      'jwks.keys[1]: "alg" is not a JWS signature algorithm (RFC 7518 §3.1)',
    ],
    [
      'an unknown kty',
      { jwks: { keys: [{ kty: 'DSA', y: 'AQAB' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: "kty" is not a supported key type (RSA, EC, OKP)',
    ],
    [
      'an unknown curve',
      { jwks: { keys: [{ ...ec, crv: 'P-192' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: "crv" is not a supported curve (P-256, P-384, P-521, Ed25519)',
    ],
    [
      'a key without kty',
      { jwks: { keys: [{ x: 'a' }] } },
      'invalid_client_metadata',
      'jwks.keys[0]: "kty" must be a non-empty string',
    ],
    // jwks_uri
    [
      'a relative jwks_uri',
      { jwks_uri: '/jwks.json' },
      'invalid_client_metadata',
      'jwks_uri: must be an absolute https URL',
    ],
    [
      'an ftp jwks_uri',
      { jwks_uri: 'ftp://client.example.com/jwks.json' },
      'invalid_client_metadata',
      'jwks_uri: must be an absolute https URL',
    ],
    [
      'a jwks_uri with credentials',
      { jwks_uri: 'https://u:p@client.example.com/jwks.json' },
      'invalid_client_metadata',
      'jwks_uri: must not include a user name or password',
    ],
    [
      'a jwks_uri with a fragment',
      { jwks_uri: 'https://client.example.com/jwks.json#k' },
      'invalid_client_metadata',
      'jwks_uri: must not include a fragment',
    ],
    [
      'a jwks_uri too long',
      { jwks_uri: httpsOf(2049) },
      'invalid_client_metadata',
      'jwks_uri: must be at most 2048 characters long',
    ],
    [
      'jwks and jwks_uri together',
      { jwks: { keys: [ec] }, jwks_uri: 'https://client.example.com/jwks.json' },
      'invalid_client_metadata',
      'jwks_uri: must not be present together with jwks (RFC 7591 §2)',
    ],
    // software_statement (RFC 7591 §2.3): invalid_software_statement
    [
      'a software statement that is not a JWS',
      { software_statement: 'not-a-jwt' },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
    [
      'a software statement with two segments',
      { software_statement: `${b64({ alg: 'RS256' })}.${b64({})}` },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
    [
      'a software statement whose header is not JSON',
      { software_statement: 'aGVsbG8.e30.c2ln' },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
    [
      'a software statement without alg',
      { software_statement: jws({ typ: 'JWT' }) },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
    [
      'a software statement whose payload is an array',
      { software_statement: jws({ alg: 'RS256' }, [1]) },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
    [
      'an unsigned software statement',
      { software_statement: `${b64({ alg: 'none' })}.${b64({})}.` },
      'invalid_software_statement',
      'software_statement: must be a JWT in JWS compact serialization (RFC 7591 §2.3, RFC 7515 §7.1)',
    ],
    [
      'a software statement with alg none',
      { software_statement: jws({ alg: 'none' }) },
      'invalid_software_statement',
      'software_statement: must be signed: "alg" "none" is not accepted (RFC 7591 §2.3)',
    ],
    [
      'a software statement too long',
      { software_statement: jws({ alg: 'RS256' }, { pad: long(8192) }) },
      'invalid_software_statement',
      'software_statement: must be at most 8192 characters long',
    ],
    [
      'a software statement that is an object',
      { software_statement: { alg: 'RS256' } },
      'invalid_software_statement',
      'software_statement: must be a string',
    ],
  ])('refuses %s', async (_name, body, error, description) => {
    await expect(refusal(body)).resolves.toEqual({ error, description });
  });

  it('names the first failing field in declaration order', async () => {
    await expect(
      refusal({ scope: '', redirect_uris: ['http://a.example/'], client_name: '' }),
    ).resolves.toEqual({
      error: 'invalid_redirect_uri',
      description:
        'redirect_uris[0]: may use http only with a loopback host (RFC 8252 §7.3); use https',
    });
  });

  it.each([
    ['an array', [{ client_name: 'a' }]],
    ['a string', 'client_name=a'],
    ['null', null],
    ['a number', 1],
    ['no body at all', undefined],
  ])('refuses a body that is %s', async (_name, body) => {
    await expect(refusal(body)).resolves.toEqual({
      error: 'invalid_client_metadata',
      description: 'request body must be a JSON object',
    });
  });

  it('never echoes submitted key material or secrets', async () => {
    const secretish = 'S3cr3t';
    for (const body of [
      { jwks: { keys: [ecPrivate] } },
      { jwks: { keys: [{ kty: 'oct', k: secretish }] } },
      { jwks: { keys: [{ kty: secretish }] } },
      { jwks: { keys: [{ ...ec, crv: secretish }] } },
      { jwks: { keys: [{ ...ec, alg: secretish }] } },
      { jwks: { keys: [{ ...ec, use: secretish }] } },
      {
        jwks: {
          keys: [
            { ...ec, kid: secretish },
            { ...ec, kid: secretish },
          ],
        },
      },
      { grant_types: [`${secretish}${long(70)}`] },
      { software_statement: `${secretish}.${secretish}` },
      { client_name: `${secretish}${long(300)}` },
      { token_endpoint_auth_method: secretish },
    ]) {
      const { description } = await refusal(body);
      expect(description).not.toContain(secretish);
      expect(description).not.toContain(ecPrivate.d as string);
    }
  });
});
