import type { JWK } from 'jose';
import type { AudiencePolicy, TokenEndpointAuthMethod } from '../core/types.js';
import type { CreateClientInput } from '../persistence/client-metadata-validation.js';
import { FREE_FORM_METADATA } from './presenters.js';

/** RFC 7591 §2 client metadata on the wire, after DTO validation. */
export interface ClientMetadataWire {
  readonly redirect_uris?: readonly string[];
  readonly token_endpoint_auth_method?: TokenEndpointAuthMethod;
  readonly token_endpoint_auth_signing_alg?: string;
  readonly grant_types?: readonly string[];
  readonly response_types?: readonly string[];
  readonly client_name?: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly tos_uri?: string;
  readonly policy_uri?: string;
  readonly scope?: string;
  readonly contacts?: readonly string[];
  readonly jwks?: { readonly keys: readonly unknown[] };
  readonly jwks_uri?: string;
  readonly software_id?: string;
  readonly software_version?: string;
  readonly software_statement?: string;
}

/** Admin-only members on top of the RFC 7591 metadata. */
export interface AdminClientWire extends ClientMetadataWire {
  readonly client_id?: string;
  readonly audience_policy?: AudiencePolicy;
  readonly require_string_audience?: boolean;
  readonly max_assertion_lifetime?: number;
  readonly enabled?: boolean;
  readonly federated_only?: boolean;
}

/**
 * Maps wire metadata to the registry's input. `token_endpoint_auth_method` defaults to
 * `client_secret_basic` (RFC 7591 §2). Only the listed free-form members are kept; anything
 * else the DTO let through is dropped, never stored blindly.
 */
export function toCreateClientInput(body: AdminClientWire): CreateClientInput {
  const metadata: Record<string, unknown> = {};
  for (const name of FREE_FORM_METADATA) {
    const value = (body as Record<string, unknown>)[name];
    if (value !== undefined) metadata[name] = value;
  }
  return {
    ...(body.client_id !== undefined && { clientId: body.client_id }),
    tokenEndpointAuthMethod: body.token_endpoint_auth_method ?? 'client_secret_basic',
    ...(body.token_endpoint_auth_signing_alg !== undefined && {
      tokenEndpointAuthSigningAlg: body.token_endpoint_auth_signing_alg,
    }),
    ...(body.jwks !== undefined && { jwks: body.jwks as { keys: JWK[] } }),
    ...(body.jwks_uri !== undefined && { jwksUri: body.jwks_uri }),
    ...(body.scope !== undefined && { scope: body.scope }),
    ...(body.grant_types !== undefined && { grantTypes: [...body.grant_types] }),
    ...(body.audience_policy !== undefined && { audiencePolicy: body.audience_policy }),
    ...(body.require_string_audience !== undefined && {
      requireStringAudience: body.require_string_audience,
    }),
    ...(body.max_assertion_lifetime !== undefined && {
      maxAssertionLifetimeSeconds: body.max_assertion_lifetime,
    }),
    ...(body.enabled !== undefined && { enabled: body.enabled }),
    ...(body.federated_only === true && { federatedOnly: true }),
    metadata,
  };
}
