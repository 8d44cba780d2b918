import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256:';

/**
 * Generates a client secret: 64 random bytes, base64url (512 bits, enough for HS512 per
 * RFC 7518 §3.2, and well above the 256 bits SPEC S3 requires).
 */
export function generateClientSecret(): string {
  return randomBytes(64).toString('base64url');
}

/** Generates an opaque bearer token (registration access tokens, initial access tokens): 256 bits. */
export function generateOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Digest stored for a server-generated secret or token. Secrets are high-entropy, so a single
 * SHA-256 is a sound one-way function here (no password stretching needed).
 */
export function digestSecret(secret: string): string {
  return PREFIX + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Compares a presented secret with a stored digest in constant time. */
export function secretMatchesDigest(secret: string, storedDigest: string): boolean {
  if (!storedDigest.startsWith(PREFIX)) return false;
  const expected = Buffer.from(storedDigest.slice(PREFIX.length), 'base64url');
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
