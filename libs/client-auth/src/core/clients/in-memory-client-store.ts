import type { FederatedCredential, RegisteredClient } from '../types.js';
import type {
  ClientAuthenticationFailure,
  ClientAuthenticationSuccess,
  ClientStore,
} from './client-store.interface.js';

/** Options of {@link InMemoryClientStore}. */
export interface InMemoryClientStoreOptions {
  /** How many recent successes and failures are kept (each). Default 100. */
  readonly maxEvents?: number;
}

/**
 * A {@link ClientStore} over a fixed set of registrations: static configuration and tests. The
 * registration objects are returned as given (never copied), which lets verifiers cache imported
 * keys per JWK object. Recent successes and failures are kept in memory, bounded.
 *
 * @example
 * ```ts
 * const store = new InMemoryClientStore([{ clientId: 'svc', enabled: true, tokenEndpointAuthMethod: 'private_key_jwt', … }]);
 * ```
 */
export class InMemoryClientStore implements ClientStore {
  private readonly clients = new Map<string, RegisteredClient>();
  private readonly maxEvents: number;
  private readonly successLog: ClientAuthenticationSuccess[] = [];
  private readonly failureLog: ClientAuthenticationFailure[] = [];

  constructor(clients: Iterable<RegisteredClient> = [], options: InMemoryClientStoreOptions = {}) {
    this.maxEvents = Math.max(0, options.maxEvents ?? 100);
    for (const client of clients) this.set(client);
  }

  /** The client with this id, or undefined. */
  findClient(clientId: string): Promise<RegisteredClient | undefined> {
    return Promise.resolve(this.clients.get(clientId));
  }

  /** Federated credentials naming `issuer` exactly, of every client held (SPEC S9). */
  findFederatedCredentials(issuer: string): Promise<readonly FederatedCredential[]> {
    return Promise.resolve(
      [...this.clients.values()].flatMap((client) =>
        (client.federatedCredentials ?? []).filter((credential) => credential.issuer === issuer),
      ),
    );
  }

  /** Every issuer a federated credential names. */
  federatedIssuers(): Promise<readonly string[]> {
    const issuers = new Set<string>();
    for (const client of this.clients.values()) {
      for (const credential of client.federatedCredentials ?? []) issuers.add(credential.issuer);
    }
    return Promise.resolve([...issuers]);
  }

  /** Adds or replaces a registration. */
  set(client: RegisteredClient): void {
    this.clients.set(client.clientId, client);
  }

  /** Removes a registration; true when it existed. */
  delete(clientId: string): boolean {
    return this.clients.delete(clientId);
  }

  /** Every registration held. */
  list(): RegisteredClient[] {
    return [...this.clients.values()];
  }

  /** Records a success (bounded, oldest dropped first). */
  recordSuccess(event: ClientAuthenticationSuccess): void {
    this.push(this.successLog, event);
  }

  /** Records a failure (bounded, oldest dropped first). */
  recordFailure(event: ClientAuthenticationFailure): void {
    this.push(this.failureLog, event);
  }

  /** Recent successes, oldest first. */
  get successes(): readonly ClientAuthenticationSuccess[] {
    return [...this.successLog];
  }

  /** Recent failures, oldest first. */
  get failures(): readonly ClientAuthenticationFailure[] {
    return [...this.failureLog];
  }

  /** The most recent success of a client (e.g. its last audience form and `typ`, SPEC S2.8). */
  lastSuccess(clientId: string): ClientAuthenticationSuccess | undefined {
    return this.successLog.findLast((event) => event.clientId === clientId);
  }

  private push<T>(log: T[], event: T): void {
    if (this.maxEvents === 0) return;
    log.push(event);
    if (log.length > this.maxEvents) log.splice(0, log.length - this.maxEvents);
  }
}
