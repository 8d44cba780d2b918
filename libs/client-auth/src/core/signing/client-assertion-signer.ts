import type { AssertionAuthMethod } from '../assertion/algorithms.js';
import { ClientAuthConfigurationError } from '../outgoing/outgoing-errors.js';
import type {
  ClientAssertionContext,
  ClientAssertionProvider,
} from './assertion-provider.interface.js';
import {
  CLIENT_AUTHENTICATION_JWT_TYP,
  resolveAssertionLifetime,
  signClientAssertion,
} from './sign-client-assertion.js';
import { createSigningKeySource, type SigningKeyInput } from './signing-key-input.js';
import type { SigningKeySource } from './signing-key.js';

/**
 * Which `aud` a signer puts in its assertions:
 * - `issuer` (default) — the issuer identifier, as draft-ietf-oauth-rfc7523bis requires;
 * - `token_endpoint` — the token endpoint URL, for servers that still demand it (RFC 7523 §3);
 * - a function of the request context, for anything else.
 */
export type AssertionAudience =
  'issuer' | 'token_endpoint' | ((context: ClientAssertionContext) => string | readonly string[]);

/** Options of {@link ClientAssertionSigner}. */
export interface ClientAssertionSignerOptions {
  /** The signing key (JWK, PEM, file, KMS callback, client secret, or a source). */
  readonly key: SigningKeyInput;
  /** `aud` of the assertions. Default `issuer`. */
  readonly audience?: AssertionAudience;
  /** `exp − iat` in seconds. Default 60. */
  readonly lifetimeSeconds?: number;
  /** The server's cap on assertion lifetime; `lifetimeSeconds` may not exceed it. Default 300. */
  readonly maxLifetimeSeconds?: number;
  /**
   * JOSE `typ`. Default `client-authentication+jwt` when the audience is the issuer; none with
   * `token_endpoint`, because an explicitly typed assertion must name the issuer
   * (draft-ietf-oauth-rfc7523bis) and strict servers refuse the combination. `false` turns
   * it off.
   */
  readonly typ?: string | false;
  /** Clock. Default `() => new Date()`. */
  readonly clock?: () => Date;
}

/**
 * The `private_key_jwt` / `client_secret_jwt` assertion provider: signs a fresh RFC 7523
 * assertion for every token request, with the key source's current key.
 *
 * @example
 * ```ts
 * const signer = new ClientAssertionSigner({ key: { file: '/etc/client/key.pem', kid: 'k1' } });
 * const assertion = await signer.getAssertion({
 *   clientId: 'billing', issuer: 'https://auth.example.com',
 *   tokenEndpoint: 'https://auth.example.com/oauth/token', grantType: 'client_credentials',
 * });
 * ```
 */
export class ClientAssertionSigner implements ClientAssertionProvider {
  readonly method: AssertionAuthMethod;
  readonly #source: SigningKeySource;
  readonly #audience: AssertionAudience;
  readonly #lifetime: number;
  readonly #maxLifetime: number | undefined;
  readonly #typ: string | false;
  readonly #clock: () => Date;

  constructor(options: ClientAssertionSignerOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new ClientAuthConfigurationError('signer options are required');
    }
    const audience = options.audience ?? 'issuer';
    if (audience !== 'issuer' && audience !== 'token_endpoint' && typeof audience !== 'function') {
      throw new ClientAuthConfigurationError(
        'audience must be "issuer", "token_endpoint" or a function',
      );
    }
    this.#lifetime = resolveAssertionLifetime(options.lifetimeSeconds, options.maxLifetimeSeconds);
    this.#maxLifetime = options.maxLifetimeSeconds;
    const typ =
      options.typ === undefined
        ? audience === 'token_endpoint'
          ? false
          : CLIENT_AUTHENTICATION_JWT_TYP
        : options.typ;
    if (
      audience === 'token_endpoint' &&
      typeof typ === 'string' &&
      typ.toLowerCase().replace(/^application\//, '') === CLIENT_AUTHENTICATION_JWT_TYP
    ) {
      throw new ClientAuthConfigurationError(
        'typ client-authentication+jwt requires the issuer as audience (draft-ietf-oauth-rfc7523bis)',
      );
    }
    this.#typ = typ;
    this.#audience = audience;
    this.#clock = options.clock ?? (() => new Date());
    this.#source = createSigningKeySource(options.key);
    this.method = this.#source.method ?? 'private_key_jwt';
  }

  /** Signs a new assertion for the token request described by `context`. */
  getAssertion(context: ClientAssertionContext): Promise<string> {
    const audience =
      this.#audience === 'issuer'
        ? context.issuer
        : this.#audience === 'token_endpoint'
          ? context.tokenEndpoint
          : this.#audience(context);
    return signClientAssertion({
      clientId: context.clientId,
      audience,
      key: this.#source,
      lifetimeSeconds: this.#lifetime,
      maxLifetimeSeconds: this.#maxLifetime,
      typ: this.#typ,
      now: this.#clock(),
    });
  }

  /** Stops the key source's background work (a key file's change check). */
  close(): void {
    this.#source.close?.();
  }
}
