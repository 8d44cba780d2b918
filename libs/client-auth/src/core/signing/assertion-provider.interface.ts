import type { AssertionAuthMethod } from '../assertion/algorithms.js';

/** What an assertion provider is told about the token request it serves (SPEC S7). */
export interface ClientAssertionContext {
  /** The client's `client_id`: `iss` and `sub` of a signed assertion (RFC 7523 §3). */
  readonly clientId: string;
  /** The authorization server's issuer identifier (RFC 8414 §2): the default `aud`. */
  readonly issuer: string;
  /** The token endpoint URL the assertion is sent to (the `aud` some servers demand). */
  readonly tokenEndpoint: string;
  /** `grant_type` of the token request (`client_credentials`, the JWT bearer grant URN, …). */
  readonly grantType: string;
}

/**
 * Produces the `client_assertion` of a token request (RFC 7521 §4.2, RFC 7523 §2.2): a signer
 * (`ClientAssertionSigner`), a callback returning a federated token
 * (`FederatedTokenAssertionProvider`) or a projected token file
 * (`ProjectedTokenFileAssertionProvider`). The token client asks for a new assertion for every
 * request it sends — retries included — because an assertion's `jti` is single-use.
 *
 * Also an injection token (`@Inject(ClientAssertionProvider)`), like the library's other ports.
 *
 * @example
 * ```ts
 * const provider: ClientAssertionProvider = {
 *   getAssertion: async ({ issuer }) => platform.getIdToken({ audience: issuer }),
 * };
 * ```
 */
export interface ClientAssertionProvider {
  /** The JWT method the assertions authenticate with; informative (both send the same fields). */
  readonly method?: AssertionAuthMethod;
  /** Returns a compact JWT for `context`. Never log what it returns. */
  getAssertion(context: ClientAssertionContext): Promise<string>;
  /** Releases timers or watchers. Idempotent. */
  close?(): void | Promise<void>;
}

/** Injection token of a {@link ClientAssertionProvider}. */
export const ClientAssertionProvider = Symbol('ClientAssertionProvider');

/** Whether a value looks like a {@link ClientAssertionProvider}. */
export function isClientAssertionProvider(value: unknown): value is ClientAssertionProvider {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ClientAssertionProvider).getAssertion === 'function'
  );
}
