import { Controller, Get, Header } from '@nestjs/common';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from 'nestjs-client-auth';
import type { AppConfig } from '../config/app-config.js';
import { InjectAppConfig } from '../config/app-config.token.js';
import { ServerKeysService } from '../keys/server-keys.service.js';

/** Client assertion signing algorithms accepted at the token endpoint (SPEC S2.4). */
export const ASSERTION_SIGNING_ALGS = [
  ...PRIVATE_KEY_JWT_ALGORITHMS,
  ...CLIENT_SECRET_JWT_ALGORITHMS,
];

/**
 * Authorization server metadata (RFC 8414), derived from the live configuration, at both
 * well-known locations (the OpenID one carries the same OAuth fields).
 */
@Controller('.well-known')
export class DiscoveryController {
  constructor(@InjectAppConfig() private readonly config: AppConfig) {}

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  oauthMetadata(): Record<string, unknown> {
    return this.metadata();
  }

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  openidMetadata(): Record<string, unknown> {
    return this.metadata();
  }

  private metadata(): Record<string, unknown> {
    const issuer = this.config.issuer;
    return {
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/oauth/jwks`,
      registration_endpoint: `${issuer}/oauth/register`,
      grant_types_supported: ['client_credentials'],
      response_types_supported: [],
      token_endpoint_auth_methods_supported: TOKEN_ENDPOINT_AUTH_METHODS.filter(
        (m) => m !== 'none',
      ),
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_SIGNING_ALGS,
    };
  }
}

/** The server's public keys (RFC 7517 JWK Set). */
@Controller('oauth')
export class JwksController {
  constructor(private readonly keys: ServerKeysService) {}

  @Get('jwks')
  @Header('Content-Type', 'application/jwk-set+json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks(): { keys: unknown[] } {
    return this.keys.publicJwks();
  }
}
