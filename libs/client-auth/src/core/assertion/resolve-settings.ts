import { CLIENT_AUTHENTICATION_DEFAULTS, type ClientAuthenticationSettings } from '../options.js';
import type { AudiencePolicy, TokenEndpointAuthMethod } from '../types.js';

/** {@link ClientAuthenticationSettings} with every default applied. */
export interface ResolvedClientAuthenticationSettings {
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly audiencePolicy: AudiencePolicy;
  readonly clockLeewaySeconds: number;
  readonly maxAssertionLifetimeSeconds: number;
  readonly maxAssertionBytes: number;
  readonly allowedMethods: readonly TokenEndpointAuthMethod[];
  readonly maxKeysWithoutKid: number;
}

/**
 * Applies {@link CLIENT_AUTHENTICATION_DEFAULTS} to client authentication settings. The default
 * token endpoint is `${issuer}/oauth/token` (a trailing slash of the issuer is not doubled).
 */
export function resolveClientAuthenticationSettings(
  settings: ClientAuthenticationSettings,
): ResolvedClientAuthenticationSettings {
  const d = CLIENT_AUTHENTICATION_DEFAULTS;
  return {
    issuer: settings.issuer,
    tokenEndpoint: settings.tokenEndpoint ?? `${settings.issuer.replace(/\/+$/, '')}/oauth/token`,
    audiencePolicy: settings.audiencePolicy ?? d.audiencePolicy,
    clockLeewaySeconds: settings.clockLeewaySeconds ?? d.clockLeewaySeconds,
    maxAssertionLifetimeSeconds:
      settings.maxAssertionLifetimeSeconds ?? d.maxAssertionLifetimeSeconds,
    maxAssertionBytes: settings.maxAssertionBytes ?? d.maxAssertionBytes,
    allowedMethods: settings.allowedMethods ?? d.allowedMethods,
    maxKeysWithoutKid: settings.maxKeysWithoutKid ?? d.maxKeysWithoutKid,
  };
}
