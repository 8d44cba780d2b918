import { randomBytes } from 'node:crypto';
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';

/** The RFC 7523 client assertion type. */
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A generated key pair with its public JWK (kid and alg set). */
export interface TestKeyPair {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Generates a signing key pair for `alg` (RSA 2048 for RS/PS). */
export async function generateTestKey(
  alg: string,
  kid = randomBytes(6).toString('hex'),
): Promise<TestKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

/** What a test assertion says; every field has a valid default. */
export interface AssertionClaims {
  clientId: string;
  aud: string | string[];
  iss?: string;
  sub?: string;
  jti?: string;
  iat?: number | null;
  exp?: number | null;
  nbf?: number;
  extra?: Record<string, unknown>;
}

/** Header options of a test assertion. */
export interface AssertionHeader {
  kid?: string | null;
  typ?: string;
  extra?: Record<string, unknown>;
}

/** Signs a client assertion with an asymmetric key or an HMAC secret. */
export async function signAssertion(
  key: CryptoKey | Uint8Array,
  alg: string,
  claims: AssertionClaims,
  header: AssertionHeader = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: claims.iss ?? claims.clientId,
    sub: claims.sub ?? claims.clientId,
    aud: claims.aud,
    jti: claims.jti ?? randomBytes(16).toString('base64url'),
    ...(claims.iat === null ? {} : { iat: claims.iat ?? now }),
    ...(claims.exp === null ? {} : { exp: claims.exp ?? now + 60 }),
    ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
    ...claims.extra,
  };
  return new SignJWT(payload)
    .setProtectedHeader({
      alg,
      ...(header.kid ? { kid: header.kid } : {}),
      ...(header.typ ? { typ: header.typ } : {}),
      ...header.extra,
    })
    .sign(key);
}

/** An unsigned `alg: none` JWT (RFC 7519 §6), which must always be refused. */
export function unsignedAssertion(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** The form body of a token request authenticated with an assertion. */
export function assertionForm(
  assertion: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  };
}

/** `Authorization: Basic` for RFC 6749 §2.3.1 (form-urlencoded id and secret). */
export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}
