import { Controller, Get, Header, Inject, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  CLIENT_SECRET_JWT_ALGORITHMS,
  PRIVATE_KEY_JWT_ALGORITHMS,
} from '../../core/assertion/algorithms.js';
import { JWT_BEARER_GRANT_TYPE } from '../../core/grants/jwt-bearer-grant.js';
import type { ClientAuthModuleOptions } from '../../nest/client-auth.options.js';
import { CLIENT_AUTH_OPTIONS } from '../../nest/client-auth.module-definition.js';
import { TOKEN_ENDPOINT_AUTH_METHODS } from '../../core/types.js';
import {
  CLIENT_REGISTRY_API_OPTIONS,
  type ClientRegistryApiOptions,
} from '../client-registry-api.options.js';
import { AccessTokenService } from './access-token.service.js';
import { OAUTH_SERVER_OPTIONS, type OAuthServerOptions } from './oauth-server.options.js';

/**
 * Authorization server metadata (RFC 8414), derived from the live configuration, at both
 * well-known locations (the OpenID one carries the same OAuth fields). Lists only what the
 * server does: each endpoint with its client authentication methods and their algorithms.
 */
@ApiExcludeController()
@Controller('.well-known')
export class DiscoveryController {
  constructor(
    private readonly tokens: AccessTokenService,
    @Inject(OAUTH_SERVER_OPTIONS) private readonly options: OAuthServerOptions,
    @Inject(CLIENT_AUTH_OPTIONS) private readonly clientAuth: ClientAuthModuleOptions,
    @Optional()
    @Inject(CLIENT_REGISTRY_API_OPTIONS)
    private readonly registry?: ClientRegistryApiOptions,
  ) {}

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

  /** The metadata document (RFC 8414 §2). */
  metadata(): Record<string, unknown> {
    const issuer = this.options.issuer;
    const methods = (this.clientAuth.allowedMethods ?? TOKEN_ENDPOINT_AUTH_METHODS).filter(
      (method) => method !== 'none',
    );
    const algorithms = [
      ...(methods.includes('private_key_jwt') ? PRIVATE_KEY_JWT_ALGORITHMS : []),
      ...(methods.includes('client_secret_jwt') ? CLIENT_SECRET_JWT_ALGORITHMS : []),
    ];
    const withAlgorithms = algorithms.length > 0;
    const grants = [
      'client_credentials',
      ...(this.options.trustedIssuers?.length ? [JWT_BEARER_GRANT_TYPE] : []),
    ];
    const signing = [...new Set(this.tokens.keys.publishedKeys().map((key) => key.alg))];
    const metadata: Record<string, unknown> = {
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/oauth/jwks`,
      grant_types_supported: grants,
      response_types_supported: [],
      token_endpoint_auth_methods_supported: methods,
      ...(withAlgorithms && { token_endpoint_auth_signing_alg_values_supported: algorithms }),
    };
    if (this.options.introspection?.enabled !== false) {
      metadata.introspection_endpoint = `${issuer}/oauth/introspect`;
      metadata.introspection_endpoint_auth_methods_supported = methods;
      if (withAlgorithms) {
        metadata.introspection_endpoint_auth_signing_alg_values_supported = algorithms;
      }
    }
    if (this.options.revocation?.enabled !== false) {
      metadata.revocation_endpoint = `${issuer}/oauth/revoke`;
      metadata.revocation_endpoint_auth_methods_supported = methods;
      if (withAlgorithms)
        metadata.revocation_endpoint_auth_signing_alg_values_supported = algorithms;
    }
    if (this.registry && this.registry.registration?.enabled !== false) {
      metadata.registration_endpoint = `${issuer}/oauth/register`;
    }
    // RFC 9068 §4 / RFC 8414 §2: algorithms the server signs access tokens with.
    metadata.access_token_signing_alg_values_supported = signing;
    if (this.options.resources?.length) {
      metadata.resource_indicators_supported = true;
    }
    return metadata;
  }
}

/** The server's public keys at `/oauth/jwks` (RFC 7517 §5): current, next and retiring. */
@ApiExcludeController()
@Controller('oauth')
export class JwksController {
  constructor(private readonly tokens: AccessTokenService) {}

  @Get('jwks')
  @Header('Content-Type', 'application/jwk-set+json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks(): { keys: unknown[] } {
    return this.tokens.keys.publicJwks();
  }
}
