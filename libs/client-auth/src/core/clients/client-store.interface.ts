import type { ClientAuthReason } from '../errors.js';
import type {
  AudienceForm,
  FederatedCredential,
  RegisteredClient,
  TokenEndpointAuthMethod,
} from '../types.js';

/** A successful authentication, reported to the store for `last_used_at` and audience readiness. */
export interface ClientAuthenticationSuccess {
  readonly clientId: string;
  readonly method: TokenEndpointAuthMethod;
  readonly credentialId?: string;
  readonly audienceForm?: AudienceForm;
  readonly typ?: string;
  readonly at: Date;
}

/** A failed authentication, for the per-client recent-failure record (SPEC S2.9, S3). */
export interface ClientAuthenticationFailure {
  /** The client the request named; unverified, may not exist. */
  readonly clientId?: string;
  readonly reason: ClientAuthReason;
  readonly detail: string;
  readonly method?: TokenEndpointAuthMethod;
  readonly requestId?: string;
  readonly at: Date;
}

/**
 * Port through which client authentication finds clients. The TypeORM registry implements it;
 * `InMemoryClientStore` serves static configuration and tests.
 */
export interface ClientStore {
  /** The client with this id, or undefined. Throws `DependencyUnavailableError` when the store is down. */
  findClient(clientId: string): Promise<RegisteredClient | undefined>;
  /**
   * Federated credentials naming `issuer` exactly, of every client (SPEC S9). Stores without
   * federation leave it out, and federated tokens are then refused.
   */
  findFederatedCredentials?(issuer: string): Promise<readonly FederatedCredential[]>;
  /** Every issuer some federated credential names (for near-miss diagnostics). */
  federatedIssuers?(): Promise<readonly string[]>;
  /** Best-effort: must not throw and should not delay the request. */
  recordSuccess?(event: ClientAuthenticationSuccess): void;
  /** Best-effort: must not throw and should not delay the request. */
  recordFailure?(event: ClientAuthenticationFailure): void;
}

/** Injection token of {@link ClientStore}. */
export const ClientStore = Symbol('ClientStore');
