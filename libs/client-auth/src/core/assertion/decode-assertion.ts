import { ClientAuthError } from '../errors.js';

/** An assertion split and decoded, nothing verified. */
export interface DecodedAssertion {
  /** The JOSE protected header. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The JWT claims set, unverified: use only to find the client. */
  readonly payload: Readonly<Record<string, unknown>>;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict UTF-8 (invalid sequences throw); one instance, as `decode` without `stream` keeps no state. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function malformed(detail: string, clientId?: string): ClientAuthError {
  return new ClientAuthError({ reason: 'assertion_malformed', detail, clientId });
}

function decodeJsonObject(part: string, what: string, clientId?: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(Buffer.from(part, 'base64url')));
  } catch {
    throw malformed(`the assertion ${what} is not base64url-encoded JSON`, clientId);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`the assertion ${what} is not a JSON object`, clientId);
  }
  return value as Record<string, unknown>;
}

/**
 * Size-caps and decodes a client assertion without verifying it (SPEC S2.2):
 * - longer than `maxBytes` (UTF-8) → `assertion_too_large`, checked before any parsing;
 * - not a JWS Compact Serialization of three base64url parts (RFC 7515 §7.1) whose header and
 *   payload are JSON objects (RFC 7519 §7.2), or a signature not in canonical base64url (pad
 *   bits set, RFC 4648 §3.5) → `assertion_malformed`.
 * Both answer `invalid_client` with the generic description (nothing is verified yet).
 */
export function decodeAssertion(
  assertion: string,
  maxBytes: number,
  clientId?: string,
): DecodedAssertion {
  if (assertion.length > maxBytes || Buffer.byteLength(assertion, 'utf8') > maxBytes) {
    throw new ClientAuthError({
      reason: 'assertion_too_large',
      detail: `the assertion exceeds ${maxBytes} bytes`,
      clientId,
    });
  }
  const parts = assertion.split('.');
  if (parts.length !== 3) {
    throw malformed('the assertion is not a compact JWS of three parts', clientId);
  }
  const [header, payload, signature] = parts as [string, string, string];
  if (!parts.every((part) => BASE64URL.test(part)) || header === '' || payload === '') {
    throw malformed('the assertion is not base64url-encoded', clientId);
  }
  if (signature.length % 4 === 1) {
    throw malformed('the assertion signature is not base64url-encoded', clientId);
  }
  // RFC 7515 §2 base64url, canonical (RFC 4648 §3.5: decoders MAY reject nonzero pad bits): a
  // last character differing only in its unused bits decodes to the same bytes, and would let
  // a second spelling of one signed assertion authenticate.
  if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) {
    throw malformed('the assertion signature is not canonical base64url', clientId);
  }
  return {
    header: decodeJsonObject(header, 'header', clientId),
    payload: decodeJsonObject(payload, 'payload', clientId),
  };
}
