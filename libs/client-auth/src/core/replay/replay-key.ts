import { createHash } from 'node:crypto';
import type { TokenEndpointAuthMethod } from '../types.js';

/**
 * The replay-store key of an assertion (SPEC S5): base64url SHA-256 of (method, client_id, jti),
 * joined unambiguously as a JSON array so that no two different triples share a key (a plain
 * separator could be forged inside a jti). Digesting bounds the key length and keeps raw `jti`
 * values out of shared stores.
 *
 * @example
 * ```ts
 * await replayStore.consume(replayKey('private_key_jwt', 'client-1', jti), expiresAt);
 * ```
 */
export function replayKey(
  method: TokenEndpointAuthMethod | string,
  clientId: string,
  jti: string,
): string {
  return createHash('sha256')
    .update(JSON.stringify([method, clientId, jti]), 'utf8')
    .digest('base64url');
}
