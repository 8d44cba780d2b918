/** Configuration of the outgoing-client example, read from the environment. */
export interface OutgoingExampleConfig {
  /** Port of the example app (`PORT`, default 3001). */
  readonly port: number;
  /** Issuer of the authorization server (`ISSUER`), e.g. `http://localhost:3000`. */
  readonly issuer: string;
  /** Token endpoint (`TOKEN_ENDPOINT`); unset = discovered from `ISSUER` (RFC 8414). */
  readonly tokenEndpoint?: string;
  /** The client's `client_id` at the authorization server (`CLIENT_ID`). */
  readonly clientId: string;
  /** PKCS#8 PEM or private JWK of the client (`PRIVATE_KEY_FILE`), re-read when it changes. */
  readonly privateKeyFile: string;
  /** `kid` of a PEM key (`KEY_ID`); a JWK carries its own. */
  readonly keyId?: string;
  /** Scope to request (`SCOPE`), space-separated. */
  readonly scope?: string;
  /**
   * The protected route to call (`TARGET_URL`). Default: the reference server's
   * `GET /api/reports` under `ISSUER` (SPEC S8), which needs the `reports:read` scope.
   */
  readonly targetUrl: string;
}

/** A configuration error naming the variable. */
export class ExampleConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ExampleConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ExampleConfigError(name, 'is required');
  return value;
}

function url(env: Env, name: string, optional: true): string | undefined;
function url(env: Env, name: string, optional?: false): string;
function url(env: Env, name: string, optional = false): string | undefined {
  const value = optional ? env[name]?.trim() || undefined : required(env, name);
  if (value === undefined) return undefined;
  try {
    new URL(value);
  } catch {
    throw new ExampleConfigError(name, 'must be an absolute URL');
  }
  return value;
}

/** The reference server's protected route the example calls by default (SPEC S8). */
export const DEFAULT_TARGET_PATH = '/api/reports';

/** Reads and validates the example's environment. */
export function loadExampleConfig(env: Env = process.env): OutgoingExampleConfig {
  const port = Number(env.PORT ?? 3001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ExampleConfigError('PORT', 'must be a port number');
  }
  const issuer = url(env, 'ISSUER');
  return {
    port,
    issuer,
    tokenEndpoint: url(env, 'TOKEN_ENDPOINT', true),
    clientId: required(env, 'CLIENT_ID'),
    privateKeyFile: required(env, 'PRIVATE_KEY_FILE'),
    keyId: env.KEY_ID?.trim() || undefined,
    scope: env.SCOPE?.trim() || undefined,
    // The reference server serves its API beside its OAuth endpoints, under the issuer.
    targetUrl:
      url(env, 'TARGET_URL', true) ?? `${issuer.replace(/\/+$/, '')}${DEFAULT_TARGET_PATH}`,
  };
}
