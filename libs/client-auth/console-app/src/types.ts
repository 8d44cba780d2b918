/** Wire forms of the admin API (docs/registry.md), as the console reads them. */

export interface Credential {
  id: string;
  kind: string;
  kid?: string;
  alg?: string;
  status: 'active' | 'expiring' | 'expired' | 'revoked' | 'not_yet_valid';
  not_before?: string;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface Client {
  client_id: string;
  client_name?: string;
  token_endpoint_auth_method: string;
  token_endpoint_auth_signing_alg?: string;
  grant_types: string[];
  scope?: string;
  jwks_uri?: string;
  enabled: boolean;
  audience_policy: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  last_authenticated_at: string | null;
  credentials: Credential[];
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Failure {
  id: string;
  at: string;
  client_id: string | null;
  reason: string;
  method: string | null;
  request_id: string | null;
  detail: string;
}

export interface Readiness {
  client_id: string;
  audience_policy: string | null;
  last_audience_form: string | null;
  last_assertion_typ: string | null;
  last_authenticated_at: string | null;
  passes_strict: boolean | null;
  reason: string;
}

export interface InitialAccessToken {
  id: string;
  description: string | null;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  revoked_at: string | null;
  status: string;
}

export interface Overview {
  total_clients: number;
  enabled_clients: number;
  disabled_clients: number;
  clients_by_method: Record<string, number>;
  expiring_within_days: number;
  expiring_credentials: {
    client_id: string;
    credential_id: string;
    kind: string;
    kid: string | null;
    expires_at: string;
  }[];
  strict_readiness: { passing: number; failing: number; unknown: number; not_applicable: number };
  truncated: boolean;
}

export interface AuthenticationStats {
  hours: number;
  since: string;
  until: string;
  failures: { hour: string; total: number; by_reason: Record<string, number> }[];
  failure_totals: Record<string, number>;
  process_totals: {
    success: number;
    failure: number;
    unavailable: number;
    failure_by_reason: Record<string, number>;
  } | null;
  truncated: boolean;
}

export const AUTH_METHODS = [
  'private_key_jwt',
  'client_secret_jwt',
  'client_secret_basic',
  'client_secret_post',
  'none',
] as const;
