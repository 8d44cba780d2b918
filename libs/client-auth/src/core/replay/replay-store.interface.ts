/**
 * Port for single-use assertion ids (SPEC S5). `consume` is an atomic insert-if-absent: of any
 * number of concurrent calls with one key, across every instance sharing the store, exactly one
 * resolves `true`.
 */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAt`. Resolves `true` when the key was not present (first use),
   * `false` when it was (a replay). Throws `DependencyUnavailableError` when the store is down.
   */
  consume(key: string, expiresAt: Date): Promise<boolean>;
  /** Deletes entries that expired before `now`; resolves how many were removed. */
  purgeExpired?(now?: Date): Promise<number>;
}

/** Injection token of {@link ReplayStore}. */
export const ReplayStore = Symbol('ReplayStore');
