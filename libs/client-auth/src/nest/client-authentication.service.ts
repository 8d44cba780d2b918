import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ClientAuthenticator, type ClientAuthObserver } from '../core/authenticate-client.js';
import type { ClientStore } from '../core/clients/client-store.interface.js';
import { ClientAuthError } from '../core/errors.js';
import { FederatedIssuerDiscovery } from '../core/federation/issuer-discovery.js';
import { JwksFetcher } from '../core/jwks/jwks-fetcher.js';
import type { RemoteKeySetProvider } from '../core/jwks/remote-key-set.interface.js';
import type { ReplayStore } from '../core/replay/replay-store.interface.js';
import type { AuthenticatedClient, TokenEndpointAuthMethod } from '../core/types.js';
import { CLIENT_AUTH_OBSERVER, CLIENT_KEY_SETS } from './client-auth.constants.js';
import {
  InjectClientAuthOptions,
  InjectClientStore,
  InjectReplayStore,
} from './client-auth.decorators.js';
import type { ClientAuthModuleOptions } from './client-auth.options.js';
import {
  type HttpReplyLike,
  type HttpRequestLike,
  nodeRequest,
  requestPath,
} from './http-platform.js';
import { requestIdOf } from './request-id.js';

/** Where the authenticated client is kept on the request. */
export const AUTHENTICATED_CLIENT = 'oauthClient';

/** A request (Express or Fastify) after client authentication. */
export type ClientAuthenticatedRequest = HttpRequestLike & {
  [AUTHENTICATED_CLIENT]?: AuthenticatedClient;
};

/**
 * Authenticates the client of an HTTP request with the framework-free `ClientAuthenticator`
 * (SPEC S2). Used by `ClientAuthGuard` and the Passport strategy; inject it to authenticate by hand.
 */
@Injectable()
export class ClientAuthenticationService {
  private readonly logger = new Logger('ClientAuth');
  private readonly authenticator: ClientAuthenticator;
  private readonly baseUrl: string;

  constructor(
    @InjectClientAuthOptions() private readonly options: ClientAuthModuleOptions,
    @InjectClientStore() clientStore: ClientStore,
    @InjectReplayStore() replayStore: ReplayStore,
    @Inject(CLIENT_KEY_SETS) keySets: RemoteKeySetProvider,
    @Optional() @Inject(CLIENT_AUTH_OBSERVER) injectedObserver?: ClientAuthObserver,
  ) {
    const { allowHosts, timeoutMs, maxBytes } = options.jwks ?? {};
    const observer = bothObservers(options.observer, injectedObserver);
    this.authenticator = new ClientAuthenticator({
      settings: options,
      clientStore,
      replayStore,
      keySets,
      ...(observer && { observer }),
      ...(options.federation?.discovery !== false && {
        issuerDiscovery: new FederatedIssuerDiscovery({
          fetcher: new JwksFetcher({ allowHosts, timeoutMs, maxBytes }),
          ...(allowHosts && { policy: { allowHosts } }),
        }),
      }),
    });
    this.baseUrl = (options.baseUrl ?? options.issuer).replace(/\/+$/, '');
  }

  /**
   * Authenticates the request's client and stores the result on the request.
   *
   * @param allowedMethods methods this endpoint accepts (default: the module's `allowedMethods`).
   * @param res the reply, to echo the request id on (Express also finds it from the request).
   * @throws ClientAuthError on failure, DependencyUnavailableError when a store is down.
   */
  async authenticate(
    req: HttpRequestLike,
    allowedMethods?: readonly TokenEndpointAuthMethod[],
    res?: HttpReplyLike,
  ): Promise<AuthenticatedClient> {
    const requestId = requestIdOf(req, res, this.options.trustRequestIdHeader);
    try {
      const client = await this.authenticator.authenticate({
        // Every Authorization header sent, so a duplicate is refused (SPEC S2.1) instead of
        // Node silently keeping the first.
        authorization: nodeRequest(req).headersDistinct?.authorization ?? req.headers.authorization,
        body: req.body as unknown,
        endpointUrl: this.endpointUrl(req),
        allowedMethods,
        requestId,
      });
      (req as ClientAuthenticatedRequest)[AUTHENTICATED_CLIENT] = client;
      return client;
    } catch (error) {
      if (error instanceof ClientAuthError) {
        // Reason code and operator detail only: never the assertion or a secret (SPEC S2.9).
        this.logger.warn(
          `client authentication failed: reason=${error.reason} client=${error.clientId ?? '-'} request=${requestId} detail=${error.detail}`,
        );
      }
      throw error;
    }
  }

  /** The URL of the endpoint being called, from the configured base URL (never the Host header). */
  endpointUrl(req: HttpRequestLike): string {
    return this.baseUrl + requestPath(req);
  }
}

/** One observer notifying both (either may be absent); each call is isolated from the other. */
function bothObservers(
  a: ClientAuthObserver | undefined,
  b: ClientAuthObserver | undefined,
): ClientAuthObserver | undefined {
  if (!a || !b || a === b) return a ?? b;
  const each = (call: (observer: ClientAuthObserver) => void) => {
    for (const observer of [a, b]) {
      try {
        call(observer);
      } catch {
        // reporting never changes the outcome
      }
    }
  };
  return {
    onSuccess: (event) => each((observer) => observer.onSuccess?.(event)),
    onFailure: (event) => each((observer) => observer.onFailure?.(event)),
  };
}
