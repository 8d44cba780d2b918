/** The registry's HTTP API (SPEC S3): RFC 7591/7592 registration and the admin REST API. */
export { AdminAccessGuard, AdminTokenGuard, defaultAdminActor } from './admin.guard.js';
export { AdminClientsController } from './admin-clients.controller.js';
export { AdminRegistryController } from './admin-registry.controller.js';
export { bearerTokenOf, tokensEqual } from './bearer-token.js';
export { ClientRegistryApiModule } from './client-registry-api.module.js';
export {
  ADMIN_ACCESS_GUARD,
  CLIENT_REGISTRY_API_OPTIONS,
  DEFAULT_REGISTRATION_AUTH_METHODS,
} from './client-registry-api.options.js';
export type {
  AdminApiOptions,
  ClientRegistryApiOptions,
  RegistrationEndpointOptions,
} from './client-registry-api.options.js';
export { toCreateClientInput } from './metadata-mapping.js';
export type { AdminClientWire, ClientMetadataWire } from './metadata-mapping.js';
export { credentialState, registeredMetadata } from './presenters.js';
export { RegistrationController } from './registration.controller.js';
export * from './dto/index.js';
export * from './server/index.js';
