import { readFile, stat } from 'node:fs/promises';
import {
  AssertionProviderError,
  ClientAuthConfigurationError,
} from '../outgoing/outgoing-errors.js';
import type {
  ClientAssertionContext,
  ClientAssertionProvider,
} from './assertion-provider.interface.js';
import { readJwtExpiry } from './jwt-expiry.js';

/** Options of {@link ProjectedTokenFileAssertionProvider}. */
export interface ProjectedTokenFileAssertionProviderOptions {
  /**
   * The file holding the token, e.g. a Kubernetes projected service-account token
   * (`/var/run/secrets/tokens/oauth-token`).
   */
  readonly path: string;
  /**
   * The file is re-read when the token it last held expires within this many seconds, even if
   * the file looks unchanged. Default 60.
   */
  readonly refreshBeforeExpirySeconds?: number;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

interface CachedToken {
  readonly token: string;
  readonly exp?: number;
  readonly stamp: string;
}

/**
 * An assertion provider reading a projected token from a file (SPEC S7: the Kubernetes
 * service-account token pattern, where the kubelet rewrites the file before the token
 * expires). Each call `stat`s the file and re-reads it when it changed (inode, size or mtime)
 * or when the token it holds is about to expire (`refreshBeforeExpirySeconds` before its own
 * `exp`). An expired token is never sent: the call fails with `AssertionProviderError`.
 *
 * @example
 * ```ts
 * const provider = new ProjectedTokenFileAssertionProvider({
 *   path: '/var/run/secrets/tokens/oauth-token',
 * });
 * ```
 */
export class ProjectedTokenFileAssertionProvider implements ClientAssertionProvider {
  readonly method = 'private_key_jwt' as const;
  readonly path: string;
  readonly #marginMs: number;
  readonly #clock: () => Date;
  #cached: CachedToken | undefined;

  constructor(options: ProjectedTokenFileAssertionProviderOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new ClientAuthConfigurationError('path must name the token file');
    }
    const margin = options.refreshBeforeExpirySeconds ?? 60;
    if (!Number.isFinite(margin) || margin < 0) {
      throw new ClientAuthConfigurationError('refreshBeforeExpirySeconds must be non-negative');
    }
    this.path = options.path;
    this.#marginMs = margin * 1000;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Returns the token in the file, re-reading it when it changed or is about to expire. */
  async getAssertion(_context?: ClientAssertionContext): Promise<string> {
    let stamp: string;
    try {
      const stats = await stat(this.path);
      stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    } catch (cause) {
      throw new AssertionProviderError(`the token file ${this.path} cannot be read`, { cause });
    }
    const now = this.#clock().getTime();
    const cached = this.#cached;
    const expiring = cached?.exp !== undefined && cached.exp * 1000 - this.#marginMs <= now;
    let current = cached;
    if (!cached || cached.stamp !== stamp || expiring) {
      let token: string;
      try {
        token = (await readFile(this.path, 'utf8')).trim();
      } catch (cause) {
        throw new AssertionProviderError(`the token file ${this.path} cannot be read`, { cause });
      }
      const exp = readJwtExpiry(token, `the token file ${this.path}`);
      current = { token, stamp, ...(exp !== undefined ? { exp } : {}) };
      this.#cached = current;
    }
    if (current!.exp !== undefined && current!.exp * 1000 <= now) {
      throw new AssertionProviderError(`the token in ${this.path} has expired`);
    }
    return current!.token;
  }
}
