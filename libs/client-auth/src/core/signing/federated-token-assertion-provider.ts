import {
  AssertionProviderError,
  ClientAuthConfigurationError,
} from '../outgoing/outgoing-errors.js';
import type {
  ClientAssertionContext,
  ClientAssertionProvider,
} from './assertion-provider.interface.js';
import { readJwtExpiry } from './jwt-expiry.js';

/** Options of {@link FederatedTokenAssertionProvider}. */
export interface FederatedTokenAssertionProviderOptions {
  /**
   * Returns a token issued by a trusted external issuer (SPEC S9) — a cloud workload identity
   * token, a CI platform's OIDC token — for the request in `context` (ask the platform for a
   * token whose audience the authorization server expects, typically `context.issuer`).
   * Called for every token request; the token client caches the access token it yields.
   */
  readonly getToken: (context: ClientAssertionContext) => Promise<string> | string;
  /** Clock, to refuse an already expired token. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/**
 * An assertion provider that forwards a federated token (SPEC S7): the client holds no key; a
 * platform vouches for it, and the authorization server trusts the platform's issuer (SPEC S9).
 * The token must be a compact JWT and must not have expired; it is not otherwise inspected.
 *
 * @example
 * ```ts
 * const provider = new FederatedTokenAssertionProvider({
 *   getToken: ({ issuer }) => fetchGitHubOidcToken({ audience: issuer }),
 * });
 * ```
 */
export class FederatedTokenAssertionProvider implements ClientAssertionProvider {
  readonly method = 'private_key_jwt' as const;
  readonly #getToken: FederatedTokenAssertionProviderOptions['getToken'];
  readonly #clock: () => Date;

  constructor(options: FederatedTokenAssertionProviderOptions) {
    if (typeof options?.getToken !== 'function') {
      throw new ClientAuthConfigurationError('getToken must be a function');
    }
    this.#getToken = options.getToken;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Calls the callback and checks the token's shape and expiry. */
  async getAssertion(context: ClientAssertionContext): Promise<string> {
    let token: string;
    try {
      token = await this.#getToken(context);
    } catch (cause) {
      throw new AssertionProviderError('the federated token callback failed', { cause });
    }
    const exp = readJwtExpiry(token, 'the federated token callback');
    if (exp !== undefined && exp * 1000 <= this.#clock().getTime()) {
      throw new AssertionProviderError('the federated token callback returned an expired token');
    }
    return token;
  }
}
