import { Inject, SetMetadata } from '@nestjs/common';
import { ClientStore } from '../core/clients/client-store.interface.js';
import { ReplayStore } from '../core/replay/replay-store.interface.js';
import type { TokenEndpointAuthMethod } from '../core/types.js';
import { CLIENT_AUTH_METHODS_METADATA } from './client-auth.constants.js';
import { CLIENT_AUTH_OPTIONS } from './client-auth.module-definition.js';

/** Injects the resolved `ClientAuthModuleOptions`. */
export const InjectClientAuthOptions = (): ParameterDecorator => Inject(CLIENT_AUTH_OPTIONS);

/** Injects the `ClientStore` the module authenticates against. */
export const InjectClientStore = (): ParameterDecorator => Inject(ClientStore);

/** Injects the `ReplayStore` used for single-use `jti`s. */
export const InjectReplayStore = (): ParameterDecorator => Inject(ReplayStore);

/**
 * Narrows the client authentication methods a route accepts (default: every method but `none`).
 * Include `'none'` to let public clients through, identified by `client_id` only.
 *
 * @example
 * ```ts
 * @Post('introspect')
 * @UseGuards(ClientAuthGuard)
 * @ClientAuthMethods('private_key_jwt', 'client_secret_jwt')
 * introspect(@AuthenticatedClient() client: AuthenticatedClientInfo) { ... }
 * ```
 */
export const ClientAuthMethods = (...methods: TokenEndpointAuthMethod[]) =>
  SetMetadata(CLIENT_AUTH_METHODS_METADATA, methods);
