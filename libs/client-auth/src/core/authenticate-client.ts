import { methodForAlgorithm } from './assertion/algorithms.js';
import { decodeAssertion, type DecodedAssertion } from './assertion/decode-assertion.js';
import {
  extractClientCredentials,
  type PresentedCredentials,
} from './assertion/parse-client-credentials.js';
import {
  resolveClientAuthenticationSettings,
  type ResolvedClientAuthenticationSettings,
} from './assertion/resolve-settings.js';
import { verifyClientAssertion } from './assertion/verify-client-assertion.js';
import type {
  ClientAuthenticationFailure,
  ClientAuthenticationSuccess,
  ClientStore,
} from './clients/client-store.interface.js';
import { secretMatchesDigest } from './crypto/secret-digest.js';
import {
  ClientAuthError,
  DependencyUnavailableError,
  OAuthError,
  type ClientAuthReason,
} from './errors.js';
import type { FederatedIssuerDiscovery } from './federation/issuer-discovery.js';
import {
  nearMissIssuer,
  verifyFederatedAssertion,
} from './federation/verify-federated-assertion.js';
import type { RemoteKeySetProvider } from './jwks/remote-key-set.interface.js';
import type { ClientAuthenticationSettings } from './options.js';
import { replayKey } from './replay/replay-key.js';
import type { ReplayStore } from './replay/replay-store.interface.js';
import type {
  AuthenticatedClient,
  ClientCredential,
  FederatedCredential,
  RegisteredClient,
  TokenEndpointAuthMethod,
} from './types.js';

/** Receives every outcome of client authentication (logs, metrics). Calls are synchronous and best-effort. */
export interface ClientAuthObserver {
  /** A client authenticated. */
  onSuccess?(event: ClientAuthenticationSuccess & { readonly requestId?: string }): void;
  /** Authentication failed; `reason` is the stable code (SPEC S2.9). */
  onFailure?(event: ClientAuthenticationFailure): void;
}

/** Dependencies of {@link ClientAuthenticator}. */
export interface ClientAuthenticatorOptions {
  readonly settings: ClientAuthenticationSettings;
  readonly clientStore: ClientStore;
  readonly replayStore: ReplayStore;
  readonly keySets: RemoteKeySetProvider;
  /** Finds federated issuers' `jwks_uri` by discovery (SPEC S9). Absent: credentials need a key source. */
  readonly issuerDiscovery?: FederatedIssuerDiscovery;
  readonly observer?: ClientAuthObserver;
}

/** One request to authenticate. */
export interface ClientAuthenticationRequest {
  /** The `Authorization` header (an array when sent more than once). */
  readonly authorization?: string | string[];
  /** The parsed form body. */
  readonly body?: unknown;
  /** The URL of the endpoint being called (an accepted `aud` under `compat`). */
  readonly endpointUrl?: string;
  /**
   * The methods this endpoint accepts. When given it is the endpoint's own list and replaces
   * `settings.allowedMethods` (so an endpoint can admit `none`, which the default excludes).
   */
  readonly allowedMethods?: readonly TokenEndpointAuthMethod[];
  /** Joins the failure record and logs to the response (SPEC S2.9). */
  readonly requestId?: string;
  /** The current time. Default `new Date()`. */
  readonly now?: Date;
}

const METHOD_OF_KIND = {
  basic: 'client_secret_basic',
  post: 'client_secret_post',
  none: 'none',
} as const;

function usable(
  credential: Pick<ClientCredential, 'status' | 'notBefore' | 'expiresAt'>,
  now: Date,
): boolean {
  return (
    credential.status === 'active' &&
    (credential.notBefore === undefined || credential.notBefore.getTime() <= now.getTime()) &&
    (credential.expiresAt === undefined || credential.expiresAt.getTime() > now.getTime())
  );
}

function asDependencyError(dependency: string, cause: unknown): OAuthError {
  // A store outage is a 503, never an authentication failure (SPEC S10).
  if (cause instanceof OAuthError) return cause;
  return new DependencyUnavailableError(dependency, { cause });
}

/**
 * Framework-free client authentication (SPEC S2): one entry point for every registered method —
 * `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt` and `none`.
 *
 * Order of checks: request shape (S2.1) → assertion size and structure (S2.2) → client lookup by
 * `client_id` or the unverified `sub` (S2.3) → method allowed at the endpoint and registered for
 * the client (S2.3) → secret or assertion verification (S2.4–S2.6, S2.8) → `jti` consumption,
 * last (S2.7, S5). Failures are `ClientAuthError`s with a stable reason; a store outage is a
 * `DependencyUnavailableError`.
 *
 * @example
 * ```ts
 * const authenticator = new ClientAuthenticator({
 *   settings: { issuer: 'https://as.example' },
 *   clientStore: new InMemoryClientStore(clients),
 *   replayStore: new MemoryReplayStore(),
 *   keySets: jwksCache,
 * });
 * const client = await authenticator.authenticate({
 *   authorization: req.headers.authorization,
 *   body: req.body,
 *   endpointUrl: 'https://as.example/oauth/token',
 * });
 * ```
 */
export class ClientAuthenticator {
  private readonly settings: ResolvedClientAuthenticationSettings;

  constructor(private readonly options: ClientAuthenticatorOptions) {
    this.settings = resolveClientAuthenticationSettings(options.settings);
  }

  /** Authenticates the client of one request; see the class description. */
  async authenticate(request: ClientAuthenticationRequest): Promise<AuthenticatedClient> {
    const now = request.now ?? new Date();
    const state: { clientId?: string; method?: TokenEndpointAuthMethod } = {};
    try {
      const result = await this.run(request, now, state);
      this.reportSuccess(result, request, now);
      return result;
    } catch (error) {
      this.reportFailure(error, request, now, state);
      throw error;
    }
  }

  private async run(
    request: ClientAuthenticationRequest,
    now: Date,
    state: { clientId?: string; method?: TokenEndpointAuthMethod },
  ): Promise<AuthenticatedClient> {
    const credentials = extractClientCredentials(request);
    state.clientId = credentials.clientId;

    // Which method the request uses, and which client it names.
    let method: TokenEndpointAuthMethod;
    let clientId: string;
    let decoded: DecodedAssertion | undefined;
    if (credentials.kind === 'assertion') {
      decoded = decodeAssertion(
        credentials.assertion,
        this.settings.maxAssertionBytes,
        credentials.clientId,
      );
      const { header, payload } = decoded;
      const federated = await this.federated(credentials, header, payload, request, now, state);
      if (federated) return federated;
      // S2.3: an HS* assertion is client_secret_jwt, anything else private_key_jwt.
      method = methodForAlgorithm(header.alg);
      clientId = this.assertionClientId(credentials.clientId, payload);
    } else {
      method = METHOD_OF_KIND[credentials.kind];
      clientId = credentials.clientId;
    }
    state.clientId = clientId;
    state.method = method;

    const allowed = request.allowedMethods ?? this.settings.allowedMethods;
    if (!allowed.includes(method)) {
      throw new ClientAuthError({
        reason: 'method_not_allowed_here',
        detail: `${method} is not accepted at this endpoint`,
        clientId,
      });
    }

    const client = await this.findClient(clientId);
    // S2.3: a private_key_jwt client never falls back to a secret, a secret client cannot use a
    // key, a public client cannot send an assertion.
    if (client.tokenEndpointAuthMethod !== method) {
      throw new ClientAuthError({
        reason: 'method_not_registered',
        detail: `the client is registered for ${client.tokenEndpointAuthMethod}, the request used ${method}`,
        clientId,
      });
    }

    switch (credentials.kind) {
      case 'basic':
      case 'post':
        return this.checkSecret(client, method, credentials.secret, now);
      case 'none':
        return { clientId, method, client };
      case 'assertion':
        return this.checkAssertion(client, credentials, decoded!, request, now);
    }
  }

  /**
   * SPEC S9: a workload token (`iss` ≠ `sub`, `iss` not the client) authenticates through the
   * federated credentials naming its issuer. Resolves undefined when the assertion is an ordinary
   * client assertion.
   */
  private async federated(
    credentials: Extract<PresentedCredentials, { kind: 'assertion' }>,
    header: Readonly<Record<string, unknown>>,
    payload: Readonly<Record<string, unknown>>,
    request: ClientAuthenticationRequest,
    now: Date,
    state: { clientId?: string; method?: TokenEndpointAuthMethod },
  ): Promise<AuthenticatedClient | undefined> {
    const store = this.options.clientStore;
    const issuer = payload.iss;
    if (!store.findFederatedCredentials || typeof issuer !== 'string' || issuer === payload.sub) {
      return undefined;
    }
    if (credentials.clientId !== undefined && issuer === credentials.clientId) return undefined;
    let found: readonly FederatedCredential[];
    let known: readonly string[] = [];
    try {
      found = await store.findFederatedCredentials(issuer);
      if (found.length === 0) known = (await store.federatedIssuers?.()) ?? [];
    } catch (cause) {
      throw asDependencyError('client-store', cause);
    }
    const clientId = credentials.clientId;
    if (found.length === 0) {
      const near = nearMissIssuer(issuer, known);
      if (near !== undefined) {
        const how = near.toLowerCase() === issuer.toLowerCase() ? 'case' : 'a trailing slash';
        throw new ClientAuthError({
          reason: 'federated_issuer_near_miss',
          detail: `iss ${JSON.stringify(issuer.slice(0, 200))} is not trusted; ${JSON.stringify(near)} is, and differs by ${how}`,
          claim: 'iss',
          ...(clientId !== undefined && { clientId }),
        });
      }
      // An issuer URL that is not a client id: a workload token from an issuer nobody trusts.
      if (/^https?:\/\//i.test(issuer)) {
        throw new ClientAuthError({
          reason: 'federated_issuer_unknown',
          detail: `iss ${JSON.stringify(issuer.slice(0, 200))} is not a trusted federated issuer`,
          claim: 'iss',
          ...(clientId !== undefined && { clientId }),
        });
      }
      return undefined;
    }
    state.method = 'private_key_jwt';
    const allowed = request.allowedMethods ?? this.settings.allowedMethods;
    if (!allowed.includes('private_key_jwt')) {
      throw new ClientAuthError({
        reason: 'method_not_allowed_here',
        detail: 'federated tokens (private_key_jwt) are not accepted at this endpoint',
        ...(clientId !== undefined && { clientId }),
      });
    }
    const usableCredentials = found.filter((credential) => usable(credential, now));
    // The credentials the request may use: those of the client it names, when it names one.
    const relevant =
      clientId === undefined
        ? found
        : found.filter((credential) => credential.clientId === clientId);
    if (
      usableCredentials.length === 0 ||
      (relevant.length > 0 && !relevant.some((credential) => usable(credential, now)))
    ) {
      throw new ClientAuthError({
        reason: 'federated_issuer_unknown',
        detail: `every federated credential ${clientId === undefined ? '' : `of ${clientId} `}for ${issuer} is revoked, expired or not yet valid`,
        claim: 'iss',
        ...(clientId !== undefined && { clientId }),
      });
    }
    const verified = await verifyFederatedAssertion(credentials.assertion, header, payload, {
      candidates: usableCredentials,
      ...(clientId !== undefined && { requestedClientId: clientId }),
      keySets: this.options.keySets,
      ...(this.options.issuerDiscovery && { discovery: this.options.issuerDiscovery }),
      leewaySeconds: this.settings.clockLeewaySeconds,
      now,
    });
    const credential = verified.credential;
    state.clientId = credential.clientId;
    const client = await this.findClient(credential.clientId);
    if (client.tokenEndpointAuthMethod !== 'private_key_jwt') {
      throw new ClientAuthError({
        reason: 'method_not_registered',
        detail: `the client is registered for ${client.tokenEndpointAuthMethod}; federated credentials need private_key_jwt`,
        clientId: client.clientId,
      });
    }
    if (credential.replay === 'single_use') {
      await this.consumeJti(
        replayKey('federated', issuer, verified.jti!),
        verified.exp + this.settings.clockLeewaySeconds,
        client.clientId,
        'the token jti was already used and the credential is single-use',
      );
    }
    return {
      clientId: client.clientId,
      method: 'private_key_jwt',
      client,
      credentialId: credential.id,
      ...(verified.kid !== undefined && { keyId: verified.kid }),
      federated: {
        issuer,
        subject: verified.subject,
        exp: verified.exp,
        ...(verified.jti !== undefined && { jti: verified.jti }),
      },
    };
  }

  /** S2.3: `client_id`, when present with an assertion, equals `iss` and `sub`; else `sub` names the client. */
  private assertionClientId(
    bodyClientId: string | undefined,
    payload: Readonly<Record<string, unknown>>,
  ): string {
    if (bodyClientId !== undefined) {
      if (payload.iss !== bodyClientId || payload.sub !== bodyClientId) {
        throw new ClientAuthError({
          reason: 'client_id_mismatch',
          detail: 'client_id differs from the assertion iss or sub',
          claim: 'client_id',
          clientId: bodyClientId,
        });
      }
      return bodyClientId;
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') {
      throw new ClientAuthError({
        reason: 'client_id_missing',
        detail: 'neither client_id nor the assertion sub names a client',
        claim: 'sub',
      });
    }
    return payload.sub;
  }

  private async findClient(clientId: string): Promise<RegisteredClient> {
    let client: RegisteredClient | undefined;
    try {
      client = await this.options.clientStore.findClient(clientId);
    } catch (cause) {
      throw asDependencyError('client-store', cause);
    }
    if (!client) {
      throw new ClientAuthError({ reason: 'client_unknown', detail: 'no such client', clientId });
    }
    if (!client.enabled) {
      throw new ClientAuthError({
        reason: 'client_disabled',
        detail: 'the client is disabled',
        clientId,
      });
    }
    return client;
  }

  /** RFC 6749 §2.3.1: the secret matches a stored digest of an active credential (constant time). */
  private checkSecret(
    client: RegisteredClient,
    method: TokenEndpointAuthMethod,
    secret: string,
    now: Date,
  ): AuthenticatedClient {
    let matched: ClientCredential | undefined;
    for (const credential of client.credentials) {
      if (
        credential.kind !== 'secret_digest' ||
        !credential.secretDigest ||
        !usable(credential, now)
      ) {
        continue;
      }
      // Every digest is compared (no early exit), so timing does not reveal which one matched.
      if (secretMatchesDigest(secret, credential.secretDigest) && !matched) matched = credential;
    }
    if (!matched) {
      throw new ClientAuthError({
        reason: 'secret_invalid',
        detail: 'the client secret does not match',
        clientId: client.clientId,
      });
    }
    return {
      clientId: client.clientId,
      method,
      client,
      credentialId: matched.id,
      ...(matched.kid !== undefined ? { keyId: matched.kid } : {}),
    };
  }

  private async checkAssertion(
    client: RegisteredClient,
    credentials: Extract<PresentedCredentials, { kind: 'assertion' }>,
    decoded: DecodedAssertion,
    request: ClientAuthenticationRequest,
    now: Date,
  ): Promise<AuthenticatedClient> {
    // Decoded once per request: the verifier reuses the header and claims parsed here.
    const verified = await verifyClientAssertion(credentials.assertion, client, {
      decoded,
      settings: this.options.settings,
      endpointUrl: request.endpointUrl,
      keySets: this.options.keySets,
      now,
    });

    // S2.7 / S5: consume the jti last, once everything else passed. The entry lives until
    // exp + leeway; the cap (now + lifetime cap + leeway) never cuts that short, because a
    // verified assertion already satisfies exp − now ≤ cap + leeway (exp_too_far).
    const leeway = this.settings.clockLeewaySeconds;
    const cap = client.maxAssertionLifetimeSeconds ?? this.settings.maxAssertionLifetimeSeconds;
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const until = Math.min(verified.exp, nowSeconds + cap + leeway) + leeway;
    await this.consumeJti(
      replayKey(verified.method, client.clientId, verified.jti),
      until,
      client.clientId,
      'the assertion jti was already used',
    );
    return {
      clientId: client.clientId,
      method: verified.method,
      client,
      ...(verified.kid !== undefined ? { keyId: verified.kid } : {}),
      ...(verified.credentialId !== undefined ? { credentialId: verified.credentialId } : {}),
      assertion: {
        alg: verified.alg,
        jti: verified.jti,
        exp: verified.exp,
        ...(verified.iat !== undefined ? { iat: verified.iat } : {}),
        audienceForm: verified.audienceForm,
        ...(verified.typ !== undefined ? { typ: verified.typ } : {}),
      },
    };
  }

  /** S2.7 / S5: records the `jti` until `until` (epoch seconds); a second use is `jti_replayed`. */
  private async consumeJti(
    key: string,
    until: number,
    clientId: string,
    detail: string,
  ): Promise<void> {
    let first: boolean;
    try {
      first = await this.options.replayStore.consume(key, new Date(until * 1000));
    } catch (cause) {
      throw asDependencyError('replay-store', cause);
    }
    if (!first) {
      throw new ClientAuthError({
        reason: 'jti_replayed',
        detail,
        exposeDetail: true,
        claim: 'jti',
        clientId,
      });
    }
  }

  private reportSuccess(
    result: AuthenticatedClient,
    request: ClientAuthenticationRequest,
    at: Date,
  ): void {
    const event: ClientAuthenticationSuccess = {
      clientId: result.clientId,
      method: result.method,
      at,
      ...(result.credentialId !== undefined ? { credentialId: result.credentialId } : {}),
      ...(result.assertion ? { audienceForm: result.assertion.audienceForm } : {}),
      ...(result.assertion?.typ !== undefined ? { typ: result.assertion.typ } : {}),
    };
    this.safely(() =>
      this.options.observer?.onSuccess?.(
        request.requestId !== undefined ? { ...event, requestId: request.requestId } : event,
      ),
    );
    this.safely(() => this.options.clientStore.recordSuccess?.(event));
  }

  private reportFailure(
    error: unknown,
    request: ClientAuthenticationRequest,
    at: Date,
    state: { clientId?: string; method?: TokenEndpointAuthMethod },
  ): void {
    let reason: ClientAuthReason;
    let detail: string;
    if (error instanceof ClientAuthError) {
      reason = error.reason;
      detail = error.detail;
    } else if (error instanceof OAuthError && error.error === 'temporarily_unavailable') {
      reason = 'store_unavailable';
      detail =
        error instanceof DependencyUnavailableError
          ? `${error.dependency} unavailable`
          : error.description;
    } else {
      return; // a programming error: let it surface untouched
    }
    const clientId =
      (error instanceof ClientAuthError ? error.clientId : undefined) ?? state.clientId;
    const event: ClientAuthenticationFailure = {
      reason,
      detail,
      at,
      ...(clientId !== undefined ? { clientId } : {}),
      ...(state.method !== undefined ? { method: state.method } : {}),
      ...(request.requestId !== undefined ? { requestId: request.requestId } : {}),
    };
    this.safely(() => this.options.observer?.onFailure?.(event));
    this.safely(() => this.options.clientStore.recordFailure?.(event));
  }

  /** Best-effort reporting: never awaited, never throws into the request. */
  private safely(report: () => unknown): void {
    try {
      const result = report();
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // reporting must not change the outcome
    }
  }
}
