/**
 * Port for revoked access tokens (RFC 7009, SPEC S4): a revoked `jti` stays revoked, across
 * restarts and instances sharing the store, until the token would have expired anyway.
 */
export interface RevocationStore {
  /** Records `jti` as revoked until `expiresAt`. Idempotent. */
  revoke(jti: string, expiresAt: Date, clientId: string): Promise<void>;
  /** Whether `jti` is revoked. Throws `DependencyUnavailableError` when the store is down. */
  isRevoked(jti: string): Promise<boolean>;
  /** Deletes entries whose token expired before `now`. */
  purgeExpired?(now?: Date): Promise<number>;
}

/** Injection token of {@link RevocationStore}. */
export const RevocationStore = Symbol('RevocationStore');

/** A single-process {@link RevocationStore} (tests, one instance). */
export class MemoryRevocationStore implements RevocationStore {
  readonly #revoked = new Map<string, number>();

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    this.#revoked.set(jti, expiresAt.getTime());
  }

  async isRevoked(jti: string): Promise<boolean> {
    const until = this.#revoked.get(jti);
    if (until === undefined) return false;
    if (until <= Date.now()) {
      this.#revoked.delete(jti);
      return false;
    }
    return true;
  }

  async purgeExpired(now = new Date()): Promise<number> {
    let removed = 0;
    for (const [jti, until] of this.#revoked) {
      if (until <= now.getTime()) {
        this.#revoked.delete(jti);
        removed++;
      }
    }
    return removed;
  }
}
