import type { AccessTokenVerifierOptions } from '../../core/access-token/access-token-verifier.js';

/**
 * Options of `ResourceServerModule.forRoot` / `forRootAsync` (SPEC S8): the verification options
 * of `AccessTokenVerifier` — `issuer`, `audience` (always checked), the key source (`jwks`,
 * `jwksUri`, `keySource`, or discovery by default), `algorithms`, `clockLeewaySeconds`,
 * `introspection`, `mode` — plus how refusals are answered.
 */
export interface ResourceServerModuleOptions extends AccessTokenVerifierOptions {
  /** `realm` of the `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). Default `api`. */
  readonly realm?: string;
  /** Take a well-formed `X-Request-Id` from the request instead of generating one. Default true. */
  readonly trustRequestIdHeader?: boolean;
}
