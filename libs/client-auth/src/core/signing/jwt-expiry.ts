import { AssertionProviderError } from '../outgoing/outgoing-errors.js';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Checks that `token` is a compact JWS (RFC 7515 §7.1) with a JSON payload, and returns its
 * `exp` (seconds) when it has a numeric one. The signature is not verified: the token is
 * forwarded to the server, which verifies it. `source` names where the token came from in
 * error messages; the token itself never appears in them.
 */
export function readJwtExpiry(token: unknown, source: string): number | undefined {
  if (typeof token !== 'string' || !COMPACT_JWS.test(token)) {
    throw new AssertionProviderError(`${source} did not return a compact JWT`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new AssertionProviderError(`${source} returned a JWT whose payload is not JSON`, {
      cause,
    });
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new AssertionProviderError(`${source} returned a JWT whose payload is not an object`);
  }
  const exp = (payload as { exp?: unknown }).exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
}
