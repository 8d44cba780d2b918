/** Authorization server endpoints (SPEC S4). */
export { AccessTokenService } from './access-token.service.js';
export type { ActiveAccessToken } from './access-token.service.js';
export { AdminServerKeysController } from './admin-keys.controller.js';
export { DiscoveryController, JwksController } from './discovery.controller.js';
export { FormBodyGuard } from './form-body.guard.js';
export { IntrospectionController } from './introspection.controller.js';
export { OAuthServerModule } from './oauth-server.module.js';
export { OAUTH_SERVER_OPTIONS } from './oauth-server.options.js';
export type { IntrospectionPolicy, OAuthServerOptions } from './oauth-server.options.js';
export { RevocationController } from './revocation.controller.js';
export { TokenController } from './token.controller.js';
export type { TokenResponse } from './token.controller.js';
