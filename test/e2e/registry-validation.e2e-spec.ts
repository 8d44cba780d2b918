import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { startTestServer, TEST_DATABASES, type TestServer } from '../utils/test-server.js';

/**
 * SPEC S3 / issue 3 validation matrix, end to end over HTTP: every client metadata rule is
 * refused with status 400, the exact error code and a description naming the field — through
 * RFC 7591 registration, RFC 7592 update and the admin API — and a refused request stores
 * nothing (no client, credential or audit row; no initial access token use; no token rotation).
 */

const INITIAL_ACCESS_TOKEN = 'iat-static-0123456789abcdefghijklmnopqrstuvwxyz';
const ADMIN_TOKEN = 'admin-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG';
/** Put into refused values whose problems must not quote them (SPEC S10: never echo input). */
const MARK = 'hunter2-must-not-echo';

// ---------------------------------------------------------------------------------------------
// Keys (generated synchronously so the tables below can hold them)
// ---------------------------------------------------------------------------------------------

type Jwk = Record<string, unknown>;
const jwkOf = (key: KeyObject, extra: Jwk = {}): Jwk => ({
  ...(key.export({ format: 'jwk' }) as Jwk),
  ...extra,
});
const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
const EC = jwkOf(ecPair.publicKey, { kid: 'ec-1', alg: 'ES256', use: 'sig' });
const EC_PRIVATE = jwkOf(ecPair.privateKey);
const EC_2 = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, {
  kid: 'ec-2',
  alg: 'ES256',
});
const RSA = jwkOf(rsaPair.publicKey, { kid: 'rsa-1', alg: 'RS256' });
const RSA_PRIVATE = jwkOf(rsaPair.privateKey);
const RSA_1024 = jwkOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, {
  kid: 'rsa-1024',
  alg: 'RS256',
});
const ED = jwkOf(generateKeyPairSync('ed25519').publicKey, { kid: 'ed-1', alg: 'EdDSA' });
/** Private key material that must never appear in a response. */
const NEVER_ECHOED = [MARK, EC_PRIVATE.d, RSA_PRIVATE.d, RSA_PRIVATE.p] as string[];

const without = (key: Jwk, ...members: string[]): Jwk =>
  Object.fromEntries(Object.entries(key).filter(([name]) => !members.includes(name)));
const keysWithKids = (count: number): Jwk[] =>
  Array.from({ length: count }, (_, index) => ({ ...EC, kid: `k-${index}` }));
const nestedArrays = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};
const nestedObjects = (depth: number): unknown => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

/** A body that is not sent as a JSON object: raw text with its media type. */
class RawBody {
  constructor(
    readonly contentType: string,
    readonly text: string,
  ) {}
}

/**
 * Where a rule lives: `dto` — the DTO/pipe (admin API: `invalid_request`); `service` — the
 * registry's domain validation (`invalid_client_metadata` everywhere); `parser` — the JSON body
 * parser, before any controller (`invalid_request` everywhere).
 */
type Layer = 'dto' | 'service' | 'parser';
type RegistrationError =
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'invalid_request';

interface MetadataCase {
  readonly name: string;
  readonly body: unknown;
  readonly layer: Layer;
  /** The error of RFC 7591 registration and RFC 7592 update. */
  readonly error: RegistrationError;
  /** What `error_description` starts with (the field path); undefined: not asserted. */
  readonly prefix?: string;
  /** A fragment the description must contain (the rule that fired). */
  readonly mentions?: string;
}

const SECRET = { token_endpoint_auth_method: 'client_secret_basic' };
const KEYS = { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [EC] } };
/** A private_key_jwt body whose second key is `key` (so problems name `jwks.keys[1]`). */
const withKey = (key: Jwk) => ({
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [EC, key] },
});

function rule(
  layer: Layer,
  error: RegistrationError,
  name: string,
  body: unknown,
  field: string,
  mentions?: string,
): MetadataCase {
  return { name, body, layer, error, prefix: `${field}: `, ...(mentions && { mentions }) };
}
const shape = (name: string, body: unknown, field: string, mentions?: string) =>
  rule('dto', 'invalid_client_metadata', name, body, field, mentions);
const domain = (name: string, body: unknown, field: string, mentions?: string) =>
  rule('service', 'invalid_client_metadata', name, body, field, mentions);
const redirect = (name: string, uris: unknown, field = 'redirect_uris[0]', mentions?: string) =>
  rule('dto', 'invalid_redirect_uri', name, { ...SECRET, redirect_uris: uris }, field, mentions);
const statement = (name: string, value: unknown, mentions?: string) =>
  rule(
    'dto',
    'invalid_software_statement',
    name,
    { ...SECRET, software_statement: value },
    'software_statement',
    mentions,
  );

/** Rules every endpoint that accepts client metadata applies (SPEC S3, RFC 7591 §2). */
const METADATA_CASES: MetadataCase[] = [
  // token_endpoint_auth_method
  shape(
    'an unknown auth method',
    { token_endpoint_auth_method: 'client_secret_magic' },
    'token_endpoint_auth_method',
    'must be one of',
  ),
  shape(
    'an auth method in the wrong case',
    { token_endpoint_auth_method: 'PRIVATE_KEY_JWT' },
    'token_endpoint_auth_method',
  ),
  shape(
    'an auth method that is not a string',
    { token_endpoint_auth_method: 42 },
    'token_endpoint_auth_method',
  ),
  // token_endpoint_auth_signing_alg, per method (SPEC S2.4)
  shape(
    'signing alg "none"',
    { ...KEYS, token_endpoint_auth_signing_alg: 'none' },
    'token_endpoint_auth_signing_alg',
    '"none" is not accepted',
  ),
  shape(
    'signing alg "NONE"',
    { ...KEYS, token_endpoint_auth_signing_alg: 'NONE' },
    'token_endpoint_auth_signing_alg',
    '"none" is not accepted',
  ),
  shape(
    'an unknown signing alg',
    { ...KEYS, token_endpoint_auth_signing_alg: 'RS1' },
    'token_endpoint_auth_signing_alg',
    'must be one of',
  ),
  shape(
    'a signing alg that is not a string',
    { ...KEYS, token_endpoint_auth_signing_alg: 256 },
    'token_endpoint_auth_signing_alg',
  ),
  domain(
    'an HMAC alg for private_key_jwt',
    { ...KEYS, token_endpoint_auth_signing_alg: 'HS256' },
    'token_endpoint_auth_signing_alg',
    'must be one of',
  ),
  domain(
    'an asymmetric alg for client_secret_jwt',
    { token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'ES256' },
    'token_endpoint_auth_signing_alg',
    'must be one of HS256',
  ),
  domain(
    'a signing alg for client_secret_basic',
    { ...SECRET, token_endpoint_auth_signing_alg: 'HS256' },
    'token_endpoint_auth_signing_alg',
    'only applies to private_key_jwt and client_secret_jwt',
  ),
  domain(
    'a signing alg for client_secret_post',
    { token_endpoint_auth_method: 'client_secret_post', token_endpoint_auth_signing_alg: 'ES256' },
    'token_endpoint_auth_signing_alg',
  ),
  // jwks XOR jwks_uri (RFC 7591 §2)
  domain(
    'private_key_jwt without jwks or jwks_uri',
    { token_endpoint_auth_method: 'private_key_jwt' },
    'jwks',
    'exactly one of jwks and jwks_uri',
  ),
  shape(
    'both jwks and jwks_uri',
    { ...KEYS, jwks_uri: 'https://jwks.example.com/keys' },
    'jwks_uri',
    'must not be present together with jwks',
  ),
  domain(
    'jwks for a secret method',
    { ...SECRET, jwks: { keys: [EC] } },
    'jwks',
    'only private_key_jwt',
  ),
  domain(
    'jwks_uri for a secret method',
    { token_endpoint_auth_method: 'client_secret_post', jwks_uri: 'https://jwks.example.com/keys' },
    'jwks_uri',
    'only private_key_jwt',
  ),
  shape(
    'jwks that is a single key, not a set',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: EC },
    'jwks',
    'must be a JWK Set',
  ),
  shape(
    'jwks that is an array',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: [EC] },
    'jwks',
    'must be a JWK Set',
  ),
  shape(
    'jwks without keys',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } },
    'jwks.keys',
    'at least one key',
  ),
  shape(
    'a jwks member that is not an object',
    withKey('key' as unknown as Jwk),
    'jwks.keys[1]',
    'must be a JSON object',
  ),
  shape(
    'a jwks_uri with a fragment',
    { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://jwks.example.com/keys#k' },
    'jwks_uri',
    'fragment',
  ),
  shape(
    'a jwks_uri with credentials',
    {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `https://user:${MARK}@jwks.example.com/keys`,
    },
    'jwks_uri',
    'user name or password',
  ),
  shape(
    'a jwks_uri that is not a URL',
    { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'keys.json' },
    'jwks_uri',
  ),
  shape(
    'a jwks_uri with another scheme',
    { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'ftp://jwks.example.com/keys' },
    'jwks_uri',
  ),
  domain(
    'a plain-http jwks_uri to a host not allow-listed',
    { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://jwks.example.com/keys' },
    'jwks_uri',
    'https',
  ),
  domain(
    'a jwks_uri at a private address',
    { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://10.0.0.1/keys' },
    'jwks_uri',
    'private',
  ),
  domain(
    'a jwks_uri at the cloud metadata address',
    {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://169.254.169.254/latest/meta-data',
    },
    'jwks_uri',
  ),
  // Public keys only (SPEC S3; RFC 7518 §6.2.2, §6.3.2, §6.4)
  shape(
    'a key with the private member d',
    withKey({ ...EC_2, d: EC_PRIVATE.d }),
    'jwks.keys[1]',
    'private member "d"',
  ),
  ...(['p', 'q', 'dp', 'dq', 'qi'] as const).map((member) =>
    shape(
      `a key with the private member ${member}`,
      withKey({ ...RSA, [member]: RSA_PRIVATE[member] }),
      'jwks.keys[1]',
      `private member "${member}"`,
    ),
  ),
  shape(
    'a key with the private member oth',
    withKey({ ...RSA, oth: [{ r: 'AQAB', d: 'AQAB', t: 'AQAB' }] }),
    'jwks.keys[1]',
    'private member "oth"',
  ),
  shape(
    'a key with the symmetric member k',
    withKey({ ...EC_2, k: 'c2VjcmV0LWtleQ' }),
    'jwks.keys[1]',
    'private member "k"',
  ),
  shape('a symmetric oct key', withKey({ kty: 'oct', kid: 'oct-1' }), 'jwks.keys[1]', 'symmetric'),
  // kty / crv / alg consistency (RFC 7517 §4.4, RFC 7518 §3.1, RFC 8037 §2)
  shape(
    'an EC key with alg RS256',
    withKey({ ...EC_2, alg: 'RS256' }),
    'jwks.keys[1]',
    'does not fit the key',
  ),
  shape(
    'a P-256 key with alg ES384',
    withKey({ ...EC_2, alg: 'ES384' }),
    'jwks.keys[1]',
    'does not fit the key',
  ),
  shape(
    'an RSA key with alg ES256',
    withKey({ ...RSA, alg: 'ES256' }),
    'jwks.keys[1]',
    'does not fit the key',
  ),
  shape(
    'an Ed25519 key with alg ES256',
    withKey({ ...ED, alg: 'ES256' }),
    'jwks.keys[1]',
    'does not fit the key',
  ),
  shape(
    'an EC key on curve Ed25519',
    withKey({ ...without(EC_2, 'alg'), crv: 'Ed25519' }),
    'jwks.keys[1]',
    'belongs to kty "OKP"',
  ),
  shape(
    'an OKP key on curve P-256',
    withKey({ ...without(ED, 'alg'), crv: 'P-256' }),
    'jwks.keys[1]',
    'belongs to kty "EC"',
  ),
  shape(
    'a P-384 key with P-256 coordinates',
    withKey({ ...without(EC_2, 'alg'), crv: 'P-384' }),
    'jwks.keys[1]',
    'must be 48 bytes',
  ),
  shape('an unknown kty', withKey({ ...EC_2, kty: 'XYZ' }), 'jwks.keys[1]', '"kty"'),
  shape('a key without kty', withKey(without(EC_2, 'kty')), 'jwks.keys[1]', '"kty"'),
  shape('an encryption key (use enc)', withKey({ ...EC_2, use: 'enc' }), 'jwks.keys[1]', '"use"'),
  shape('an EC key without y', withKey(without(EC_2, 'y')), 'jwks.keys[1]', '"y"'),
  // RSA ≥ 2048 bits (RFC 7518 §3.3)
  shape('an RSA key of 1024 bits', withKey(RSA_1024), 'jwks.keys[1]', 'RSA modulus is 1024 bits'),
  // Unique kids (RFC 7517 §4.5) and the key cap
  shape(
    'two keys with one kid',
    withKey({ ...EC_2, kid: 'ec-1' }),
    'jwks.keys[1]',
    'duplicates the kid of keys[0]',
  ),
  domain(
    '21 keys (the registry holds at most 20)',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: keysWithKids(21) } },
    'jwks',
    'at most 20',
  ),
  shape(
    '101 keys (the DTO caps a set at 100)',
    { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: keysWithKids(101) } },
    'jwks.keys',
    'at most 100',
  ),
  // grant_types (RFC 7591 §2; RFC 6749 §4.4, RFC 7523 §2.1 only)
  shape(
    'grant type authorization_code',
    { ...SECRET, grant_types: ['authorization_code'] },
    'grant_types[0]',
    'not a supported grant type',
  ),
  shape(
    'grant type refresh_token after a good one',
    { ...SECRET, grant_types: ['client_credentials', 'refresh_token'] },
    'grant_types[1]',
    'not a supported grant type',
  ),
  shape('an empty grant_types', { ...SECRET, grant_types: [] }, 'grant_types', 'must not be empty'),
  shape(
    'a repeated grant type',
    { ...SECRET, grant_types: ['client_credentials', 'client_credentials'] },
    'grant_types[1]',
    'repeats',
  ),
  shape(
    'grant_types as a string',
    { ...SECRET, grant_types: 'client_credentials' },
    'grant_types',
    'must be an array',
  ),
  shape(
    'a grant type that is not a string',
    { ...SECRET, grant_types: [7] },
    'grant_types[0]',
    'must be a string',
  ),
  // response_types (no authorization endpoint)
  shape(
    'response type code',
    { ...SECRET, response_types: ['code'] },
    'response_types',
    'must be empty',
  ),
  shape(
    'response_types as a string',
    { ...SECRET, response_types: 'code' },
    'response_types',
    'must be an array',
  ),
  // scope (RFC 6749 §3.3)
  shape(
    'a scope with two spaces',
    { ...SECRET, scope: `${MARK}  write` },
    'scope',
    'RFC 6749 §3.3',
  ),
  shape('a scope with a leading space', { ...SECRET, scope: ' read' }, 'scope', 'RFC 6749 §3.3'),
  shape(
    'a scope with a double quote',
    { ...SECRET, scope: `read "${MARK}"` },
    'scope',
    'RFC 6749 §3.3',
  ),
  shape('a scope with a backslash', { ...SECRET, scope: 'read\\write' }, 'scope', 'RFC 6749 §3.3'),
  shape(
    'a scope with non-ASCII',
    { ...SECRET, scope: 'lecture écriture' },
    'scope',
    'RFC 6749 §3.3',
  ),
  shape('a scope with a tab', { ...SECRET, scope: 'read\twrite' }, 'scope', 'control characters'),
  shape('an empty scope', { ...SECRET, scope: '' }, 'scope', 'must not be empty'),
  shape('a scope of 2049 characters', { ...SECRET, scope: 's'.repeat(2049) }, 'scope', '2048'),
  shape('a scope that is an array', { ...SECRET, scope: ['read'] }, 'scope', 'must be a string'),
  // client_name: length, control characters
  shape(
    'a client_name of 256 characters',
    { ...SECRET, client_name: 'n'.repeat(256) },
    'client_name',
    '255',
  ),
  shape('an empty client_name', { ...SECRET, client_name: '' }, 'client_name', 'must not be empty'),
  ...(
    [
      ['NUL', '\u0000'],
      ['a newline', '\n'],
      ['a carriage return', '\r'],
      ['ESC', '\u001b'],
      ['DEL', '\u007f'],
      ['a C1 control', '\u0085'],
      ['a line separator', '\u2028'],
    ] as const
  ).map(([label, char]) =>
    shape(
      `a client_name with ${label}`,
      { ...SECRET, client_name: `${MARK}${char}x` },
      'client_name',
      'control characters',
    ),
  ),
  shape(
    'a client_name that is a number',
    { ...SECRET, client_name: 12 },
    'client_name',
    'must be a string',
  ),
  // contacts
  shape(
    'a contact that is not an e-mail address',
    { ...SECRET, contacts: [MARK] },
    'contacts[0]',
    'e-mail',
  ),
  shape(
    'a bad second contact',
    { ...SECRET, contacts: ['ops@client.example.com', 'ops at client'] },
    'contacts[1]',
    'e-mail',
  ),
  shape(
    '11 contacts',
    { ...SECRET, contacts: Array.from({ length: 11 }, (_, i) => `ops${i}@client.example.com`) },
    'contacts',
    'at most 10',
  ),
  shape(
    'a contact of 255 characters',
    { ...SECRET, contacts: [`${'a'.repeat(64)}@${'b'.repeat(186)}.com`] },
    'contacts[0]',
    '254',
  ),
  shape(
    'contacts as a string',
    { ...SECRET, contacts: 'ops@client.example.com' },
    'contacts',
    'must be an array',
  ),
  shape(
    'a contact that is not a string',
    { ...SECRET, contacts: [{ email: 'ops@client.example.com' }] },
    'contacts[0]',
    'must be a string',
  ),
  // software_id, software_version
  shape(
    'a software_id of 256 characters',
    { ...SECRET, software_id: 'i'.repeat(256) },
    'software_id',
    '255',
  ),
  shape('an empty software_id', { ...SECRET, software_id: '' }, 'software_id', 'must not be empty'),
  shape(
    'a software_id with a newline',
    { ...SECRET, software_id: `${MARK}\n` },
    'software_id',
    'control characters',
  ),
  shape(
    'a software_id that is a number',
    { ...SECRET, software_id: 1 },
    'software_id',
    'must be a string',
  ),
  shape(
    'a software_version of 256 characters',
    { ...SECRET, software_version: '1'.repeat(256) },
    'software_version',
    '255',
  ),
  shape(
    'a software_version with NUL',
    { ...SECRET, software_version: `1.0${MARK}\u0000` },
    'software_version',
    'control characters',
  ),
  shape(
    'a software_version that is a number',
    { ...SECRET, software_version: 1.2 },
    'software_version',
    'must be a string',
  ),
  // client_uri, logo_uri, tos_uri, policy_uri: https URLs shown to users
  ...(['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const).flatMap((field) => [
    shape(
      `a plain-http ${field}`,
      { ...SECRET, [field]: 'http://client.example.com/' },
      field,
      'https',
    ),
    shape(
      `a ${field} with credentials`,
      { ...SECRET, [field]: `https://u:${MARK}@client.example.com/` },
      field,
      'user name or password',
    ),
  ]),
  shape(
    'a client_uri with a space',
    { ...SECRET, client_uri: 'https://client.example.com/a b' },
    'client_uri',
    'without spaces',
  ),
  // redirect_uris → invalid_redirect_uri (RFC 7591 §3.2.2)
  redirect(
    'a redirect URI with a fragment',
    [`https://client.example.com/cb#${MARK}`],
    undefined,
    'fragment',
  ),
  redirect(
    'a plain-http redirect URI to a remote host',
    ['http://client.example.com/cb'],
    undefined,
    'loopback',
  ),
  redirect('a relative redirect URI', ['/cb'], undefined, 'absolute'),
  redirect('a custom scheme without a dot', ['myapp:/cb'], undefined, 'reverse domain name'),
  redirect(
    'a redirect URI with credentials',
    [`https://u:${MARK}@client.example.com/cb`],
    undefined,
    'user name or password',
  ),
  redirect(
    'a redirect URI with non-ASCII',
    ['https://client.example.com/café'],
    undefined,
    'non-ASCII',
  ),
  redirect('an empty redirect URI', [''], undefined, 'must not be empty'),
  redirect('a redirect URI that is not a string', [42], undefined, 'must be a string'),
  redirect(
    'a bad second redirect URI',
    ['https://client.example.com/cb', 'https://client.example.com/x#y'],
    'redirect_uris[1]',
    'fragment',
  ),
  redirect(
    'a repeated redirect URI',
    ['https://client.example.com/cb', 'https://client.example.com/cb'],
    'redirect_uris[1]',
    'repeats',
  ),
  redirect(
    '21 redirect URIs',
    Array.from({ length: 21 }, (_, i) => `https://client.example.com/cb${i}`),
    'redirect_uris',
    'at most 20',
  ),
  redirect(
    'redirect_uris as a string',
    'https://client.example.com/cb',
    'redirect_uris',
    'must be an array',
  ),
  // software_statement → invalid_software_statement (RFC 7591 §2.3, §3.2.2)
  statement('a software_statement that is not a JWT', MARK, 'JWS compact serialization'),
  statement(
    'a software_statement of two segments',
    `${b64({ alg: 'RS256' })}.${b64({})}`,
    'JWS compact serialization',
  ),
  statement(
    'an unsigned software_statement (alg none)',
    `${b64({ alg: 'none' })}.${b64({ software_id: 'x' })}.c2ln`,
    'must be signed',
  ),
  statement(
    'a software_statement whose header is not JSON',
    `${Buffer.from('not json').toString('base64url')}.${b64({})}.c2ln`,
    'JWS compact serialization',
  ),
  statement(
    'a software_statement without alg',
    `${b64({ typ: 'JWT' })}.${b64({})}.c2ln`,
    'JWS compact serialization',
  ),
  statement(
    'a software_statement of 8193 characters',
    `${b64({ alg: 'RS256' })}.${'a'.repeat(8193)}.c2ln`,
    '8192',
  ),
  statement('a software_statement that is an object', { alg: 'RS256' }, 'must be a string'),
  // Deep nesting: refused before any recursive processing (16 levels per field)
  shape(
    'a key nested 20 levels deep',
    withKey({ ...EC_2, x5c: nestedArrays(20, 'MII') }),
    'jwks',
    'nested too deeply',
  ),
  shape(
    'contacts nested 1000 levels deep',
    { ...SECRET, contacts: nestedArrays(1000, 'a@b.example') },
    'contacts',
    'nested too deeply',
  ),
  shape(
    'a client_name of nested objects',
    { ...SECRET, client_name: nestedObjects(100) },
    'client_name',
    'nested too deeply',
  ),
  shape(
    'grant_types nested 17 levels deep',
    { ...SECRET, grant_types: nestedArrays(17, 'client_credentials') },
    'grant_types',
    'nested too deeply',
  ),
  shape(
    'grant_types nested 16 levels deep (within the cap)',
    { ...SECRET, grant_types: nestedArrays(16, 'client_credentials') },
    'grant_types[0]',
    'must be a string',
  ),
];

/** Bodies that are not a JSON object (RFC 7591 §3.1: the request is a JSON object). */
const BODY_CASES: MetadataCase[] = [
  {
    name: 'a JSON array body',
    body: [SECRET],
    layer: 'dto',
    error: 'invalid_client_metadata',
    prefix: 'request body must be a JSON object',
  },
  {
    name: 'an empty JSON array body',
    body: new RawBody('application/json', '[]'),
    layer: 'dto',
    error: 'invalid_client_metadata',
    prefix: 'request body must be a JSON object',
  },
  {
    name: 'a text/plain body',
    body: new RawBody('text/plain', JSON.stringify(SECRET)),
    layer: 'dto',
    error: 'invalid_client_metadata',
    prefix: 'request body must be a JSON object',
  },
  {
    name: 'a form-encoded body',
    body: new RawBody(
      'application/x-www-form-urlencoded',
      'token_endpoint_auth_method=client_secret_basic&client_name=form',
    ),
    layer: 'dto',
    error: 'invalid_client_metadata',
    prefix: 'request body must be a JSON object',
  },
  {
    name: 'no body at all',
    body: new RawBody('application/octet-stream', ''),
    layer: 'dto',
    error: 'invalid_client_metadata',
    prefix: 'request body must be a JSON object',
  },
  // JSON scalars: the reference server's strict JSON parser refuses them before any controller.
  ...['null', '"client"', '42', 'true', '{"client_name":'].map((text): MetadataCase => ({
    name: `the JSON body ${text}`,
    body: new RawBody('application/json', text),
    layer: 'parser',
    error: 'invalid_request',
  })),
];

/** Registration rules only (the admin API may create other clients). */
const REGISTRATION_ONLY: MetadataCase[] = [
  domain(
    'method none (not offered for registration)',
    { token_endpoint_auth_method: 'none' },
    'token_endpoint_auth_method',
    'is not offered',
  ),
];

/** Members only the admin API accepts (`AdminCreateClientDto`): shape errors → `invalid_request`. */
const ADMIN_ONLY: { name: string; body: Record<string, unknown>; field: string }[] = [
  { name: 'an empty client_id', body: { client_id: '' }, field: 'client_id' },
  {
    name: 'a client_id of 256 characters',
    body: { client_id: 'c'.repeat(256) },
    field: 'client_id',
  },
  { name: 'a non-ASCII client_id', body: { client_id: 'clïent' }, field: 'client_id' },
  { name: 'a client_id with a newline', body: { client_id: 'a\nb' }, field: 'client_id' },
  { name: 'a client_id that is a number', body: { client_id: 7 }, field: 'client_id' },
  {
    name: 'an unknown audience_policy',
    body: { audience_policy: 'lax' },
    field: 'audience_policy',
  },
  {
    name: 'require_string_audience as a string',
    body: { require_string_audience: 'true' },
    field: 'require_string_audience',
  },
  {
    name: 'max_assertion_lifetime 0',
    body: { max_assertion_lifetime: 0 },
    field: 'max_assertion_lifetime',
  },
  {
    name: 'max_assertion_lifetime 3601',
    body: { max_assertion_lifetime: 3601 },
    field: 'max_assertion_lifetime',
  },
  {
    name: 'a fractional max_assertion_lifetime',
    body: { max_assertion_lifetime: 1.5 },
    field: 'max_assertion_lifetime',
  },
  {
    name: 'max_assertion_lifetime as a string',
    body: { max_assertion_lifetime: '60' },
    field: 'max_assertion_lifetime',
  },
  { name: 'enabled as a string', body: { enabled: 'yes' }, field: 'enabled' },
  { name: 'enabled as a number', body: { enabled: 1 }, field: 'enabled' },
];

/** The error the admin API answers for a case: shape errors are the request's, domain rules the metadata's. */
const adminError = (c: MetadataCase) =>
  c.layer === 'service' ? 'invalid_client_metadata' : 'invalid_request';

/** A valid registration with every field at its limit: the boundaries of the cases above. */
const FULL = {
  token_endpoint_auth_method: 'private_key_jwt',
  token_endpoint_auth_signing_alg: 'ES256',
  jwks: { keys: keysWithKids(20) },
  grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
  response_types: [],
  client_name: 'n'.repeat(255),
  client_uri: 'https://client.example.com',
  logo_uri: 'https://client.example.com/logo.png',
  tos_uri: 'https://client.example.com/tos',
  policy_uri: 'https://client.example.com/policy',
  scope: `read write ${'s'.repeat(2037)}`,
  contacts: Array.from({ length: 10 }, (_, i) => `ops${i}@client.example.com`),
  redirect_uris: [
    ...Array.from({ length: 17 }, (_, i) => `https://client.example.com/cb${i}`),
    'http://127.0.0.1:8080/cb',
    'http://[::1]/cb',
    'com.example.app:/cb',
  ],
  software_id: 'i'.repeat(255),
  software_version: '2.1.0',
  software_statement: `${b64({ alg: 'RS256' })}.${b64({ software_id: 'x' })}.c2ln`,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** 400, the error code, a description starting with `prefix`, nothing secret echoed. */
function expectRefusal(
  res: request.Response,
  error: string,
  prefix: string | undefined,
  mentions?: string,
): void {
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error });
  expect(typeof res.body.error_description).toBe('string');
  if (prefix !== undefined) {
    expect(res.body.error_description).toMatch(new RegExp(`^${escapeRegExp(prefix)}`));
  }
  if (mentions !== undefined) expect(res.body.error_description).toContain(mentions);
  expect(res.headers['cache-control']).toBe('no-store');
  const text = JSON.stringify(res.body);
  for (const secret of NEVER_ECHOED) expect(text).not.toContain(secret);
}

function withBody(req: request.Test, body: unknown): request.Test {
  if (body instanceof RawBody) {
    return body.text === ''
      ? req.set('Content-Type', body.contentType)
      : req.set('Content-Type', body.contentType).send(body.text);
  }
  return req.send(body as object);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof RawBody);

// ---------------------------------------------------------------------------------------------
// Suites
// ---------------------------------------------------------------------------------------------

describe.each(TEST_DATABASES)('registry validation matrix on %s', (kind) => {
  let server: TestServer;
  /** An initial access token issued through the admin API with a single use. */
  let issuedToken: { id: string; token: string };

  beforeAll(async () => {
    server = await startTestServer(kind, {
      INITIAL_ACCESS_TOKEN,
      ADMIN_TOKEN,
      JWKS_URI_ALLOW_HOSTS: '127.0.0.1',
    });
    const issued = await admin(http().post('/admin/initial-access-tokens'))
      .send({ max_uses: 1, expires_in: 3600, description: 'validation matrix' })
      .expect(201);
    issuedToken = { id: issued.body.id, token: issued.body.initial_access_token };
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  const http = () => request(server.url);
  const admin = (req: request.Test) => req.set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  const bearer = (req: request.Test, token: string) => req.set('Authorization', `Bearer ${token}`);

  /** Row counts of the registry tables and the use count of every initial access token. */
  async function stored() {
    const dataSource = server.app.get<DataSource>(getDataSourceToken());
    const count = async (table: string) =>
      Number((await dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    const tokens: { id: string; uses: number | string }[] = await dataSource.query(
      'SELECT id, uses FROM oauth_initial_access_token',
    );
    return {
      clients: await count('oauth_client'),
      credentials: await count('oauth_client_credential'),
      auditEvents: await count('oauth_audit_event'),
      initialAccessTokenUses: Object.fromEntries(tokens.map((t) => [t.id, Number(t.uses)])),
    };
  }

  /** Every row of the registry tables as text (to prove a value is stored nowhere). */
  async function dump(): Promise<string> {
    const dataSource = server.app.get<DataSource>(getDataSourceToken());
    const tables = ['oauth_client', 'oauth_client_credential', 'oauth_audit_event'];
    const rows = await Promise.all(tables.map((t) => dataSource.query(`SELECT * FROM ${t}`)));
    return JSON.stringify(rows);
  }

  const adminRead = async (clientId: string) =>
    (await admin(http().get(`/admin/clients/${encodeURIComponent(clientId)}`)).expect(200)).body;

  // -------------------------------------------------------------------------------------------
  describe('POST /oauth/register (RFC 7591)', () => {
    it.each([...METADATA_CASES, ...BODY_CASES, ...REGISTRATION_ONLY])(
      'refuses $name; nothing stored, no token use',
      async (c) => {
        const before = await stored();
        const res = await withBody(
          bearer(http().post('/oauth/register'), issuedToken.token),
          c.body,
        );
        expectRefusal(res, c.error, c.prefix, c.mentions);
        const after = await stored();
        expect(after).toEqual(before);
        expect(after.initialAccessTokenUses[issuedToken.id]).toBe(0);
      },
    );

    it('accepts the bodies the cases start from, and every field at its limit', async () => {
      for (const body of [SECRET, KEYS]) {
        const res = await bearer(http().post('/oauth/register'), INITIAL_ACCESS_TOKEN).send(body);
        expect(res.status).toBe(201);
      }
      const full = await bearer(http().post('/oauth/register'), INITIAL_ACCESS_TOKEN).send(FULL);
      expect(full.body).toMatchObject({
        client_name: FULL.client_name,
        scope: FULL.scope,
        contacts: FULL.contacts,
        redirect_uris: FULL.redirect_uris,
        software_id: FULL.software_id,
      });
      expect(full.body.jwks.keys).toHaveLength(20);
    });

    it('the issued initial access token kept its single use through every refusal', async () => {
      const listed = await admin(http().get('/admin/initial-access-tokens')).expect(200);
      const info = listed.body.find((t: { id: string }) => t.id === issuedToken.id);
      expect(info).toMatchObject({ uses: 0, max_uses: 1, status: 'active' });
      await bearer(http().post('/oauth/register'), issuedToken.token).send(SECRET).expect(201);
      const spent = await bearer(http().post('/oauth/register'), issuedToken.token).send(SECRET);
      expect(spent.status).toBe(401);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PUT /oauth/register/:id (RFC 7592)', () => {
    let target: { id: string; token: string };
    let registered: Record<string, unknown>;
    let managed: Record<string, unknown>;

    beforeAll(async () => {
      const res = await bearer(http().post('/oauth/register'), INITIAL_ACCESS_TOKEN)
        .send({ ...KEYS, client_name: 'RFC 7592 target', contacts: ['ops@client.example.com'] })
        .expect(201);
      target = { id: res.body.client_id, token: res.body.registration_access_token };
      registered = (
        await bearer(http().get(`/oauth/register/${target.id}`), target.token).expect(200)
      ).body;
      managed = await adminRead(target.id);
    });

    it.each([...METADATA_CASES, ...BODY_CASES, ...REGISTRATION_ONLY])(
      'refuses $name; registration unchanged, token not rotated',
      async (c) => {
        const before = await stored();
        const body = isRecord(c.body) ? { client_id: target.id, ...c.body } : c.body;
        const res = await withBody(
          bearer(http().put(`/oauth/register/${target.id}`), target.token),
          body,
        );
        expectRefusal(res, c.error, c.prefix, c.mentions);
        expect(await stored()).toEqual(before);
        // The old registration access token still works, and reads the same registration.
        const read = await bearer(http().get(`/oauth/register/${target.id}`), target.token);
        expect(read.status).toBe(200);
        expect(read.body).toEqual(registered);
        expect(await adminRead(target.id)).toEqual(managed);
      },
    );

    it('a valid update is accepted and does rotate the token (the control)', async () => {
      const res = await bearer(http().put(`/oauth/register/${target.id}`), target.token)
        .send({ client_id: target.id, ...KEYS, client_name: 'renamed' })
        .expect(200);
      expect(res.body.client_name).toBe('renamed');
      await bearer(http().get(`/oauth/register/${target.id}`), target.token).expect(401);
      await bearer(
        http().get(`/oauth/register/${target.id}`),
        res.body.registration_access_token,
      ).expect(200);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('POST /admin/clients', () => {
    it.each(METADATA_CASES.concat(BODY_CASES))('refuses $name; nothing stored', async (c) => {
      const before = await stored();
      const res = await withBody(admin(http().post('/admin/clients')), c.body);
      expectRefusal(res, adminError(c), c.prefix, c.mentions);
      expect(await stored()).toEqual(before);
    });

    it.each(ADMIN_ONLY)('refuses $name with invalid_request; nothing stored', async (c) => {
      const before = await stored();
      const res = await admin(http().post('/admin/clients')).send({ ...SECRET, ...c.body });
      expectRefusal(res, 'invalid_request', `${c.field}: `);
      expect(await stored()).toEqual(before);
    });

    it('refuses a client_id already registered (a domain rule); nothing stored', async () => {
      await admin(http().post('/admin/clients'))
        .send({ ...SECRET, client_id: 'taken' })
        .expect(201);
      const before = await stored();
      const res = await admin(http().post('/admin/clients')).send({ ...KEYS, client_id: 'taken' });
      expectRefusal(res, 'invalid_client_metadata', 'client_id: ', 'already registered');
      expect(await stored()).toEqual(before);
    });

    it('accepts the bodies the cases start from, and every field at its limit', async () => {
      for (const body of [SECRET, KEYS, FULL]) {
        const res = await admin(http().post('/admin/clients')).send(body);
        expect(res.status).toBe(201);
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PUT /admin/clients/:id', () => {
    const targetId = 'admin-put-target';
    let managed: Record<string, unknown>;

    beforeAll(async () => {
      await admin(http().post('/admin/clients'))
        .send({ ...KEYS, client_id: targetId, client_name: 'Admin target', scope: 'read' })
        .expect(201);
      managed = await adminRead(targetId);
    });

    it.each(METADATA_CASES.concat(BODY_CASES))('refuses $name; client unchanged', async (c) => {
      const before = await stored();
      const res = await withBody(admin(http().put(`/admin/clients/${targetId}`)), c.body);
      expectRefusal(res, adminError(c), c.prefix, c.mentions);
      expect(await stored()).toEqual(before);
      expect(await adminRead(targetId)).toEqual(managed);
    });

    it.each([
      ...ADMIN_ONLY,
      {
        name: 'another client’s client_id',
        body: { client_id: 'someone-else' },
        field: 'client_id',
      },
    ])('refuses $name with invalid_request; client unchanged', async (c) => {
      const before = await stored();
      const res = await admin(http().put(`/admin/clients/${targetId}`)).send({
        ...KEYS,
        ...c.body,
      });
      expectRefusal(res, 'invalid_request', `${c.field}: `);
      expect(await stored()).toEqual(before);
      expect(await adminRead(targetId)).toEqual(managed);
    });

    it('a valid update (with its own client_id) is accepted (the control)', async () => {
      const res = await admin(http().put(`/admin/clients/${targetId}`))
        .send({ ...KEYS, client_id: targetId, client_name: 'renamed' })
        .expect(200);
      expect(res.body).toMatchObject({ client_name: 'renamed', version: 2 });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('admin inputs: queries, credentials, initial access tokens', () => {
    const secretClient = 'secret-target';
    const keyClient = 'key-target';
    let credentialId: string;
    const snapshots: Record<string, Record<string, unknown>> = {};

    beforeAll(async () => {
      await admin(http().post('/admin/clients'))
        .send({ ...SECRET, client_id: secretClient })
        .expect(201);
      await admin(http().post('/admin/clients'))
        .send({ ...KEYS, client_id: keyClient })
        .expect(201);
      snapshots[secretClient] = await adminRead(secretClient);
      snapshots[keyClient] = await adminRead(keyClient);
      credentialId = (snapshots[keyClient]!.credentials as { id: string }[])[0]!.id;
    });

    /** Rows of `[name, body, error, description prefix, mentions?]` as objects. */
    const bodyCases = (rows: [string, unknown, string, string, string?][]) =>
      rows.map(([name, body, error, prefix, mentions]) => ({
        name,
        body,
        error,
        prefix,
        mentions,
      }));

    /** Refused with `error`, the field named, and nothing anywhere changed. */
    async function expectNothingChanged(
      send: () => request.Test,
      error: string,
      prefix: string,
      mentions?: string,
    ): Promise<void> {
      const before = await stored();
      expectRefusal(await send(), error, prefix, mentions);
      expect(await stored()).toEqual(before);
      expect(await adminRead(secretClient)).toEqual(snapshots[secretClient]);
      expect(await adminRead(keyClient)).toEqual(snapshots[keyClient]);
    }

    it.each([
      ['/admin/clients', 'limit=0', 'limit'],
      ['/admin/clients', 'limit=101', 'limit'],
      ['/admin/clients', 'limit=ten', 'limit'],
      ['/admin/clients', 'limit=1.5', 'limit'],
      ['/admin/clients', 'limit=-1', 'limit'],
      ['/admin/clients', 'limit=1e2', 'limit'],
      ['/admin/clients', 'limit=', 'limit'],
      ['/admin/clients', 'limit=5&limit=6', 'limit'],
      ['/admin/clients', 'offset=-1', 'offset'],
      ['/admin/clients', 'offset=1000001', 'offset'],
      ['/admin/clients', 'offset=0x10', 'offset'],
      ['/admin/clients', 'method=client_secret_magic', 'method'],
      ['/admin/clients', 'status=active', 'status'],
      ['/admin/clients', 'name=', 'name'],
      ['/admin/clients', `name=${'n'.repeat(256)}`, 'name'],
      ['/admin/clients', 'name=a%00b', 'name'],
      ['/admin/readiness', 'limit=0', 'limit'],
      ['/admin/readiness', 'offset=x', 'offset'],
      ['/admin/readiness', 'status=gone', 'status'],
      ['/admin/audit-events', 'limit=501', 'limit'],
      ['/admin/audit-events', 'before=yesterday', 'before'],
      ['/admin/audit-events', 'before=2030-01-01', 'before'],
      ['/admin/audit-events', 'before=1700000000', 'before'],
      ['/admin/audit-events', 'client_id=', 'client_id'],
      ['/admin/failures', 'limit=0', 'limit'],
      ['/admin/failures', 'before=2030-02-30T00:00:00Z', 'before'],
      [`/admin/clients/${secretClient}/failures`, 'limit=501', 'limit'],
      [`/admin/clients/${secretClient}/failures`, 'before=2030-01-01T00:00:00', 'before'],
    ])('GET %s?%s → 400 naming %s', async (path, query, field) => {
      await expectNothingChanged(
        () => admin(http().get(`${path}?${query}`)),
        'invalid_request',
        `${field}: `,
      );
    });

    it('accepts list queries at their bounds (the control)', async () => {
      const listed = await admin(
        http().get(
          '/admin/clients?limit=100&offset=0&method=private_key_jwt&status=enabled&name=KEY-TARGET',
        ),
      ).expect(200);
      expect(listed.body.items.map((c: { client_id: string }) => c.client_id)).toEqual([keyClient]);
      await admin(http().get('/admin/clients?offset=1000000&limit=1')).expect(200);
      await admin(http().get('/admin/audit-events?limit=500&before=2100-01-01T00:00:00Z')).expect(
        200,
      );
      await admin(http().get('/admin/failures?limit=1&before=2100-01-01T00:00:00%2B02:00')).expect(
        200,
      );
    });

    const overlapCases: [string, unknown, string][] = [
      ['a negative overlap', { overlap_seconds: -1 }, 'overlap_seconds: '],
      ['an overlap over 30 days', { overlap_seconds: 2_592_001 }, 'overlap_seconds: '],
      ['a fractional overlap', { overlap_seconds: 1.5 }, 'overlap_seconds: '],
      ['an overlap as a string', { overlap_seconds: '60' }, 'overlap_seconds: '],
      ['an overlap as a boolean', { overlap_seconds: true }, 'overlap_seconds: '],
      ['an array body', [{ overlap_seconds: 60 }], 'request body must be a JSON object'],
      [
        'a form-encoded body',
        new RawBody('application/x-www-form-urlencoded', 'overlap_seconds=60'),
        'request body must be a JSON object',
      ],
    ];

    it.each(overlapCases)('rotate secret: refuses %s', async (_name, body, prefix) => {
      await expectNothingChanged(
        () => withBody(admin(http().post(`/admin/clients/${secretClient}/secret/rotate`)), body),
        'invalid_request',
        prefix,
      );
    });

    it.each(
      bodyCases([
        ['no jwk', {}, 'invalid_request', 'jwk: ', 'is required'],
        ['a jwk that is a string', { jwk: 'key' }, 'invalid_request', 'jwk: ', 'JSON object'],
        ['a jwk that is an array', { jwk: [EC_2] }, 'invalid_request', 'jwk: ', 'JSON object'],
        [
          'a private jwk',
          { jwk: { ...EC_2, d: EC_PRIVATE.d } },
          'invalid_request',
          'jwk: ',
          'private member "d"',
        ],
        ['an RSA key of 1024 bits', { jwk: RSA_1024 }, 'invalid_request', 'jwk: ', '1024 bits'],
        [
          'a symmetric key',
          { jwk: { kty: 'oct', k: 'c2VjcmV0', kid: 'o' } },
          'invalid_request',
          'jwk: ',
          'private member "k"',
        ],
        [
          'a jwk whose alg does not fit',
          { jwk: { ...EC_2, alg: 'RS256' } },
          'invalid_request',
          'jwk: ',
          'does not fit',
        ],
        [
          'not_before that is not a date',
          { jwk: EC_2, not_before: 'tomorrow' },
          'invalid_request',
          'not_before: ',
          'RFC 3339',
        ],
        [
          'not_before without a time',
          { jwk: EC_2, not_before: '2030-01-01' },
          'invalid_request',
          'not_before: ',
        ],
        [
          'not_before on February 30',
          { jwk: EC_2, not_before: '2030-02-30T00:00:00Z' },
          'invalid_request',
          'not_before: ',
        ],
        [
          'not_before as epoch seconds',
          { jwk: EC_2, not_before: 1_893_456_000 },
          'invalid_request',
          'not_before: ',
        ],
        [
          'expires_at without a time zone',
          { jwk: EC_2, expires_at: '2030-01-01T00:00:00' },
          'invalid_request',
          'expires_at: ',
        ],
        [
          'expires_at before not_before',
          { jwk: EC_2, not_before: '2031-01-01T00:00:00Z', expires_at: '2030-01-01T00:00:00Z' },
          'invalid_request',
          'expires_at: ',
          'later than not_before',
        ],
        [
          'expires_at equal to not_before',
          {
            jwk: EC_2,
            not_before: '2031-01-01T00:00:00Z',
            expires_at: '2031-01-01T01:00:00+01:00',
          },
          'invalid_request',
          'expires_at: ',
          'later than not_before',
        ],
        ['an array body', [{ jwk: EC_2 }], 'invalid_request', 'request body must be a JSON object'],
        [
          'a kid the client already has',
          { jwk: { ...EC_2, kid: 'ec-1' } },
          'invalid_client_metadata',
          'jwk: ',
          'already registered',
        ],
      ]),
    )('add credential: refuses $name', async ({ body, error, prefix, mentions }) => {
      await expectNothingChanged(
        () => withBody(admin(http().post(`/admin/clients/${keyClient}/credentials`)), body),
        error,
        prefix,
        mentions,
      );
    });

    it.each(
      bodyCases([
        ['no jwk', { overlap_seconds: 60 }, 'invalid_request', 'jwk: ', 'is required'],
        [
          'a private jwk',
          { jwk: { ...RSA, qi: RSA_PRIVATE.qi } },
          'invalid_request',
          'jwk: ',
          'private member "qi"',
        ],
        [
          'a negative overlap',
          { jwk: EC_2, overlap_seconds: -1 },
          'invalid_request',
          'overlap_seconds: ',
        ],
        [
          'an overlap over 30 days',
          { jwk: EC_2, overlap_seconds: 2_592_001 },
          'invalid_request',
          'overlap_seconds: ',
        ],
        [
          'an overlap as a string',
          { jwk: EC_2, overlap_seconds: '60' },
          'invalid_request',
          'overlap_seconds: ',
        ],
        [
          'a fractional overlap',
          { jwk: EC_2, overlap_seconds: 0.5 },
          'invalid_request',
          'overlap_seconds: ',
        ],
        [
          'a kid the client already has',
          { jwk: { ...EC_2, kid: 'ec-1' } },
          'invalid_client_metadata',
          'jwk: ',
          'already registered',
        ],
      ]),
    )('rotate key: refuses $name', async ({ body, error, prefix, mentions }) => {
      await expectNothingChanged(
        () => withBody(admin(http().post(`/admin/clients/${keyClient}/credentials/rotate`)), body),
        error,
        prefix,
        mentions,
      );
    });

    it.each<[string, unknown, string]>([
      ['"now"', { at: 'now' }, 'at: '],
      ['a date without a time', { at: '2030-01-01' }, 'at: '],
      ['month 13', { at: '2030-13-01T00:00:00Z' }, 'at: '],
      ['epoch seconds', { at: 1_893_456_000 }, 'at: '],
      ['an array body', [{ at: '2030-01-01T00:00:00Z' }], 'request body must be a JSON object'],
    ])('expire credential: refuses %s', async (_name, body, prefix) => {
      await expectNothingChanged(
        () =>
          withBody(
            admin(http().post(`/admin/clients/${keyClient}/credentials/${credentialId}/expire`)),
            body,
          ),
        'invalid_request',
        prefix,
      );
    });

    it.each<[string, unknown, string]>([
      ['expires_in 59', { expires_in: 59 }, 'expires_in: '],
      ['expires_in over a year', { expires_in: 31_536_001 }, 'expires_in: '],
      ['expires_in as a string', { expires_in: '3600' }, 'expires_in: '],
      ['a fractional expires_in', { expires_in: 3600.5 }, 'expires_in: '],
      ['a negative expires_in', { expires_in: -3600 }, 'expires_in: '],
      ['max_uses 0', { max_uses: 0 }, 'max_uses: '],
      ['max_uses over a million', { max_uses: 1_000_001 }, 'max_uses: '],
      ['max_uses as a string', { max_uses: '1' }, 'max_uses: '],
      ['a fractional max_uses', { max_uses: 1.5 }, 'max_uses: '],
      ['an empty description', { description: '' }, 'description: '],
      ['a description of 256 characters', { description: 'd'.repeat(256) }, 'description: '],
      ['a description with control characters', { description: `${MARK}\u0007` }, 'description: '],
      ['a description that is a number', { description: 42 }, 'description: '],
      ['an array body', [{ max_uses: 1 }], 'request body must be a JSON object'],
    ])('issue initial access token: refuses %s; none stored', async (_name, body, prefix) => {
      const dataSource = server.app.get<DataSource>(getDataSourceToken());
      const tokens = async () =>
        Number(
          (await dataSource.query('SELECT COUNT(*) AS n FROM oauth_initial_access_token'))[0].n,
        );
      const count = await tokens();
      await expectNothingChanged(
        () => withBody(admin(http().post('/admin/initial-access-tokens')), body),
        'invalid_request',
        prefix,
      );
      expect(await tokens()).toBe(count);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('unknown metadata is ignored, not stored', () => {
    /** Members no DTO declares, admin-only members, server-managed ones, and a prototype key. */
    const unknownJson = (base: Record<string, unknown>) =>
      JSON.stringify({
        ...base,
        unknown_member: 'unknown-value-1',
        'client_name#fr': 'nom-inconnu-2',
        client_secret: 'chosen-secret-3',
        registration_access_token: 'chosen-token-4',
        credentials: [{ kind: 'secret', secret: 'chosen-secret-5' }],
        version: 99,
        deep: nestedArrays(2000, 'deep-value-6'),
      }).replace(
        /^\{/,
        '{"__proto__":{"polluted":"prototype-7"},"constructor":{"prototype":{"polluted":"prototype-7"}},',
      );
    const MARKERS = [
      'unknown_member',
      'unknown-value-1',
      'nom-inconnu-2',
      'chosen-secret-3',
      'chosen-token-4',
      'chosen-secret-5',
      'deep-value-6',
      'prototype-7',
      'polluted',
    ];
    const expectNoMarkers = (value: unknown) => {
      const text = JSON.stringify(value);
      for (const marker of MARKERS) expect(text).not.toContain(marker);
    };

    it('RFC 7591 registration ignores them, and admin-only members too', async () => {
      const res = await bearer(http().post('/oauth/register'), INITIAL_ACCESS_TOKEN)
        .set('Content-Type', 'application/json')
        .send(
          unknownJson({
            ...SECRET,
            client_name: 'Known name',
            client_id: 'chosen-client-id',
            enabled: false,
            audience_policy: 'strict',
            max_assertion_lifetime: 5,
          }),
        )
        .expect(201);
      const id: string = res.body.client_id;
      expect(id).not.toBe('chosen-client-id');
      expect(res.body.client_name).toBe('Known name');
      expect(res.body.client_secret).not.toBe('chosen-secret-3');
      expect(res.body.registration_access_token).not.toBe('chosen-token-4');
      expectNoMarkers(res.body);
      const read = await bearer(
        http().get(`/oauth/register/${id}`),
        res.body.registration_access_token,
      ).expect(200);
      expectNoMarkers(read.body);
      const managed = await adminRead(id);
      expectNoMarkers(managed);
      expect(managed).toMatchObject({
        enabled: true,
        audience_policy: null,
        max_assertion_lifetime: null,
        version: 1,
      });
      await bearer(http().get(`/oauth/register/${id}`), 'chosen-token-4').expect(401);
      await http()
        .get('/admin/clients/chosen-client-id')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .expect(404);
      expectNoMarkers(await dump());
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('RFC 7592 update ignores them', async () => {
      const created = await bearer(http().post('/oauth/register'), INITIAL_ACCESS_TOKEN)
        .send(SECRET)
        .expect(201);
      const id: string = created.body.client_id;
      const res = await bearer(
        http().put(`/oauth/register/${id}`),
        created.body.registration_access_token,
      )
        .set('Content-Type', 'application/json')
        .send(
          unknownJson({ ...SECRET, client_id: id, client_name: 'Updated', enabled: false })
            // RFC 7592 §2.2: a client_secret, when sent, must be the current one.
            .replace('"chosen-secret-3"', JSON.stringify(created.body.client_secret))
            .replace(/"registration_access_token":"chosen-token-4",/, ''),
        )
        .expect(200);
      expect(res.body.client_name).toBe('Updated');
      expectNoMarkers(res.body);
      const read = await bearer(
        http().get(`/oauth/register/${id}`),
        res.body.registration_access_token,
      ).expect(200);
      expectNoMarkers(read.body);
      const managed = await adminRead(id);
      expectNoMarkers(managed);
      expect(managed).toMatchObject({ enabled: true, version: 2 });
      expectNoMarkers(await dump());
    });

    it('the admin API ignores them on create and on replace', async () => {
      const res = await admin(http().post('/admin/clients'))
        .set('Content-Type', 'application/json')
        .send(unknownJson({ ...KEYS, client_id: 'admin-unknown', client_name: 'Known' }))
        .expect(201);
      expectNoMarkers(res.body);
      expect(res.body.version).toBe(1);
      const replaced = await admin(http().put('/admin/clients/admin-unknown'))
        .set('Content-Type', 'application/json')
        .send(unknownJson({ ...KEYS, client_name: 'Replaced' }))
        .expect(200);
      expectNoMarkers(replaced.body);
      expect(replaced.body).toMatchObject({ client_name: 'Replaced', version: 2 });
      expectNoMarkers(await adminRead('admin-unknown'));
      expectNoMarkers(await dump());
    });
  });
});
