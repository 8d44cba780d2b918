import { timingSafeEqual, createHash } from 'node:crypto';
import type { HttpRequestLike } from '../nest/http-platform.js';
import { OAuthError } from '../core/errors.js';

/** RFC 6750 §2.1 `b64token`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of `Authorization: Bearer <token>` (RFC 6750 §2.1), or undefined when the
 * header is absent. A malformed header, or a token also sent in the body or query, is refused
 * with `invalid_request` (RFC 6750 §3.1: one method only).
 */
export function bearerTokenOf(req: HttpRequestLike): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (!match || !B64TOKEN.test(match[1]!) || match[1]!.length > 1024) {
    throw new OAuthError(
      'invalid_request',
      'Authorization: must be "Bearer <token>" (RFC 6750 §2.1)',
    );
  }
  return match[1];
}

/** Constant-time equality of two strings (compared as SHA-256 digests, so lengths do not leak). */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The `invalid_token` error of RFC 6750 §3.1 (answered 401 with `WWW-Authenticate: Bearer`). */
export function invalidToken(description: string): OAuthError {
  return new OAuthError('invalid_token', description);
}
