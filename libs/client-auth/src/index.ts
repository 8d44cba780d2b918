/**
 * nestjs-client-auth: OAuth 2.0 client authentication with JWT assertions (RFC 7523) for NestJS.
 * `nestjs-client-auth/core` holds the framework-free protocol code alone.
 */
export * from './core/index.js';
export * from './persistence/index.js';
export type { AuthenticatedClient as AuthenticatedClientInfo } from './core/types.js';
export { AuthenticatedClient } from './nest/authenticated-client.decorator.js';
export { ClientAssertionStrategy, OAuthClientStrategy } from './nest/client-assertion.strategy.js';
export {
  CLIENT_AUTH_METHODS_METADATA,
  CLIENT_AUTH_STRATEGY,
  CLIENT_KEY_SETS,
  REQUEST_ID_HEADER,
} from './nest/client-auth.constants.js';
export {
  ClientAuthMethods,
  InjectClientAuthOptions,
  InjectClientStore,
  InjectReplayStore,
} from './nest/client-auth.decorators.js';
export { ClientAuthGuard } from './nest/client-auth.guard.js';
export { ClientAuthModule } from './nest/client-auth.module.js';
export { CLIENT_AUTH_OPTIONS } from './nest/client-auth.module-definition.js';
export type { ClientAuthModuleExtras } from './nest/client-auth.module-definition.js';
export type { ClientAuthModuleOptions, JwksOptions } from './nest/client-auth.options.js';
export {
  AUTHENTICATED_CLIENT,
  ClientAuthenticationService,
} from './nest/client-authentication.service.js';
export type { ClientAuthenticatedRequest } from './nest/client-authentication.service.js';
export { ClientRegistryModule } from './nest/client-registry.module.js';
export type { ClientRegistryModuleOptions } from './nest/client-registry.module.js';
export {
  isOutage,
  MALFORMED_REQUEST,
  OAuthEndpointExceptionFilter,
  OAuthExceptionFilter,
  platformRefusal,
  writeOAuthError,
} from './nest/oauth-exception.filter.js';
export type { OAuthErrorBody } from './nest/oauth-exception.filter.js';
export { requestIdOf } from './nest/request-id.js';
export { nodeRequest, nodeResponse, requestPath, sendReply } from './nest/http-platform.js';
export type { HttpReplyLike, HttpRequestLike } from './nest/http-platform.js';
export {
  parseForm,
  parseStrictJson,
  registerOAuthBodyParsers,
} from './nest/fastify-body-parsers.js';
export type { ContentTypeParserHost, OAuthBodyParserOptions } from './nest/fastify-body-parsers.js';
export * from './http/index.js';

// Outgoing (SPEC S7)
export { attachTokenClient } from './nest/outgoing/axios-token.interceptor.js';
export type { AxiosTokenOptions } from './nest/outgoing/axios-token.interceptor.js';
export { ClientAssertionSignerService } from './nest/outgoing/client-assertion-signer.service.js';
export { CLIENT_AUTH_CLIENTS_OPTIONS_TOKEN } from './nest/outgoing/client-auth-clients.constants.js';
export { ClientAuthClientsModule } from './nest/outgoing/client-auth-clients.module.js';
export type {
  ClientAuthClientsModuleExtras,
  ClientAuthClientsModuleOptions,
} from './nest/outgoing/client-auth-clients.module-definition.js';
export { ClientAuthHttpModule } from './nest/outgoing/client-auth-http.module.js';
export type { ClientAuthHttpModuleOptions } from './nest/outgoing/client-auth-http.module.js';
export { getTokenClientToken, InjectTokenClient } from './nest/outgoing/token-client.decorators.js';
export { TokenClientRegistry } from './nest/outgoing/token-client.registry.js';

// Resource server (SPEC S8)
export { AccessTokenAuthenticationService } from './nest/resource-server/access-token-authentication.service.js';
export type { AccessTokenAuthenticatedRequest } from './nest/resource-server/access-token-authentication.service.js';
export { AccessTokenExceptionFilter } from './nest/resource-server/access-token-exception.filter.js';
export { writeAccessTokenError } from './nest/resource-server/write-access-token-error.js';
export { AccessTokenGuard } from './nest/resource-server/access-token.guard.js';
export {
  AccessTokenStrategy,
  OAuthAccessTokenStrategy,
} from './nest/resource-server/access-token.strategy.js';
export {
  ACCESS_TOKEN_STRATEGY,
  BEARER_REALM,
  DEFAULT_BEARER_REALM,
  REQUIRED_SCOPES_METADATA,
  VERIFIED_ACCESS_TOKEN,
} from './nest/resource-server/resource-server.constants.js';
export {
  AccessTokenClaims,
  InjectResourceServerOptions,
  RequiredScopes,
} from './nest/resource-server/resource-server.decorators.js';
export { ResourceServerModule } from './nest/resource-server/resource-server.module.js';
export { RESOURCE_SERVER_OPTIONS } from './nest/resource-server/resource-server.module-definition.js';
export type { ResourceServerModuleExtras } from './nest/resource-server/resource-server.module-definition.js';
export type { ResourceServerModuleOptions } from './nest/resource-server/resource-server.options.js';

// Operations (SPEC S10): metrics, readiness checks, rate limits
export { CLIENT_AUTH_OBSERVER } from './nest/client-auth.constants.js';
export * from './ops/index.js';

// Redis: shared replay store and client invalidation broadcast (SPEC S5, S10)
export * from './redis/index.js';

// Admin console (SPEC S3)
export * from './console/index.js';
export { AdminStatsController } from './http/admin-stats.controller.js';
export type {
  AdminOverviewView,
  AuthenticationStatsView,
  ExpiringCredentialView,
  FailureHourView,
} from './http/admin-stats.controller.js';
