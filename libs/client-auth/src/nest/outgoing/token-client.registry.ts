import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ClientAuthConfigurationError } from '../../core/outgoing/outgoing-errors.js';
import { TokenClient } from '../../core/token-client/token-client.js';
import type { ClientAuthClientsModuleOptions } from './client-auth-clients.module-definition.js';
import { CLIENT_AUTH_CLIENTS_OPTIONS_TOKEN } from './client-auth-clients.constants.js';

/**
 * The named token clients of `ClientAuthClientsModule` (SPEC S7: several named clients per
 * application). Every client is built — and its options validated — when the module starts, so
 * a misconfigured client stops the application at boot.
 *
 * @example
 * ```ts
 * constructor(private readonly clients: TokenClientRegistry) {}
 * const token = await this.clients.get('billing').getAccessToken();
 * ```
 */
@Injectable()
export class TokenClientRegistry implements OnApplicationShutdown {
  readonly #clients = new Map<string, TokenClient>();

  constructor(@Inject(CLIENT_AUTH_CLIENTS_OPTIONS_TOKEN) options: ClientAuthClientsModuleOptions) {
    const clients = options?.clients;
    if (typeof clients !== 'object' || clients === null || Array.isArray(clients)) {
      throw new ClientAuthConfigurationError('ClientAuthClientsModule: clients must be an object');
    }
    for (const [name, clientOptions] of Object.entries(clients)) {
      try {
        this.#clients.set(name, new TokenClient(clientOptions));
      } catch (error) {
        for (const client of this.#clients.values()) void client.close();
        const message = error instanceof Error ? error.message : String(error);
        throw new ClientAuthConfigurationError(`token client "${name}": ${message}`, {
          cause: error,
        });
      }
    }
  }

  /** The client registered under `name`; throws `ClientAuthConfigurationError` for an unknown name. */
  get(name: string): TokenClient {
    const client = this.#clients.get(name);
    if (!client) {
      throw new ClientAuthConfigurationError(
        `no token client named "${name}" (registered: ${[...this.#clients.keys()].join(', ') || 'none'})`,
      );
    }
    return client;
  }

  /** Whether a client is registered under `name`. */
  has(name: string): boolean {
    return this.#clients.has(name);
  }

  /** The registered names. */
  names(): string[] {
    return [...this.#clients.keys()];
  }

  /** Stops the clients' background work (key file checks). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
  }
}
