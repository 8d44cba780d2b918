import type { JWK } from 'jose';

/** A fetched, validated key set. The `keys` array and its members are never mutated. */
export interface KeySetSnapshot {
  readonly keys: readonly JWK[];
  /** When the set was fetched (epoch ms). */
  readonly fetchedAt: number;
}

/**
 * Port for remote key sets (`jwks_uri`, trusted issuers, resource servers; SPEC S6).
 * Implemented by `JwksCache`.
 */
export interface RemoteKeySetProvider {
  /** The cached set, fetching it when absent or expired (stale served on failure within bounds). */
  get(uri: string): Promise<KeySetSnapshot>;
  /**
   * Refetches when the cached set is older than the cooldown; resolves the fresh set, or
   * `undefined` when the cooldown forbade a refetch.
   */
  refresh(uri: string): Promise<KeySetSnapshot | undefined>;
}
