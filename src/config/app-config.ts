import { parseJwks, parseSecretEncryptionKey } from 'nestjs-client-auth';
import { isIP } from 'node:net';

/** Validated configuration of the reference server (SPEC S1). */
export interface AppConfig {
  readonly port: number;
  readonly issuer: string;
  readonly database:
    | { readonly type: 'better-sqlite3'; readonly path: string }
    | { readonly type: 'postgres'; readonly url: string };
  readonly redisUrl?: string;
  /** Prefix of every Redis key and channel (`REDIS_KEY_PREFIX`, default `client-auth:`). */
  readonly redisKeyPrefix: string;
  readonly initialAccessToken?: string;
  readonly adminToken?: string;
  readonly jwksUriAllowHosts: readonly string[];
  /** Server signing keys given as a JWKS with private members; undefined = generated and persisted. */
  readonly signingKeys?: { readonly keys: readonly Record<string, unknown>[] };
  readonly secretEncryptionKey?: string;
  readonly audiencePolicy: 'compat' | 'strict';
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  readonly workers: number | 'auto';
  /** Where the embedded database and generated keys live. */
  readonly dataDir: string;
  /** Access token lifetime in seconds (`ACCESS_TOKEN_TTL`, default 300). */
  readonly accessTokenTtlSeconds: number;
  /** Minimum seconds between two refetches of one `jwks_uri` (`JWKS_REFRESH_COOLDOWN`, default 30). */
  readonly jwksRefreshCooldownSeconds: number;
  /** `aud` of access tokens when no resource is requested (`ACCESS_TOKEN_AUDIENCE`, default the issuer). */
  readonly accessTokenAudience: string;
  /** RFC 8707 resources served (`RESOURCE_INDICATORS`, comma-separated absolute URIs). */
  readonly resourceIndicators: readonly string[];
  /** Issuers trusted for the JWT bearer grant (`TRUSTED_ISSUERS`, JSON array). */
  readonly trustedIssuers: readonly TrustedIssuerConfig[];
  /** Seconds a rotated-out server key stays published (`SERVER_KEY_RETIRE_AFTER`, default 3600). */
  readonly serverKeyRetireAfterSeconds: number;
  /** Rate limits in requests per minute, 0 = off (SPEC S10; see docs/operations.md). */
  readonly rateLimits: RateLimitConfig;
  /** Bearer token required to read `/metrics` (`METRICS_TOKEN`); unset = open. */
  readonly metricsToken?: string;
  /**
   * Milliseconds between SIGTERM and closing the listener, while `/health/ready` answers 503 so a
   * load balancer stops routing (`SHUTDOWN_DELAY_MS`, default 0).
   */
  readonly shutdownDelayMs: number;
  /**
   * Milliseconds a request may take to arrive whole, headers and body (`REQUEST_TIMEOUT_MS`,
   * default 30 000); a slower one is answered 408 and its connection closed.
   */
  readonly requestTimeoutMs: number;
}

/** Rate limits of the reference server, requests per minute per key; 0 = off. */
export interface RateLimitConfig {
  /** Token endpoint, per authenticated client (`RATE_LIMIT_TOKEN_PER_CLIENT`). */
  readonly tokenPerClient: number;
  /** Token endpoint, per caller address (`RATE_LIMIT_TOKEN_PER_IP`). */
  readonly tokenPerIp: number;
  /** Registration endpoints, per caller address (`RATE_LIMIT_REGISTER_PER_IP`). */
  readonly registerPerIp: number;
}

/** One entry of `TRUSTED_ISSUERS`: `{"issuer", "jwks_uri" | "jwks", "subjects"?}`. */
export interface TrustedIssuerConfig {
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly jwks?: { readonly keys: readonly Record<string, unknown>[] };
  readonly subjects?: readonly string[];
}

/** A configuration error naming the offending variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;

/**
 * Reads and validates the environment (SPEC S1). Throws a `ConfigError` naming the first bad
 * variable; `main.ts` prints it and exits.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const port = parsePort(env.PORT);
  const issuer = parseIssuer(env.ISSUER ?? `http://localhost:${port}`);
  const dataDir = env.DATA_DIR?.trim() || './data';
  const database = parseDatabase(env.DATABASE_URL, dataDir);
  const secretEncryptionKey = parseEncryptionKey(env.SECRET_ENCRYPTION_KEY);
  if (database.type === 'postgres' && !secretEncryptionKey) {
    // Stored client_secret_jwt secrets and server keys are encrypted with it, and every instance
    // sharing the database must use the same key, so it cannot be generated per machine.
    throw new ConfigError('SECRET_ENCRYPTION_KEY', 'is required when DATABASE_URL is set');
  }
  return {
    port,
    issuer,
    database,
    redisUrl: parseUrl('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']),
    redisKeyPrefix: parseRedisKeyPrefix(env.REDIS_KEY_PREFIX),
    initialAccessToken: parseToken('INITIAL_ACCESS_TOKEN', env.INITIAL_ACCESS_TOKEN),
    adminToken: parseToken('ADMIN_TOKEN', env.ADMIN_TOKEN),
    jwksUriAllowHosts: parseHosts(env.JWKS_URI_ALLOW_HOSTS),
    signingKeys: parseSigningKeys(env.SIGNING_KEYS),
    secretEncryptionKey,
    audiencePolicy: parseEnum(
      'AUDIENCE_POLICY',
      env.AUDIENCE_POLICY,
      ['compat', 'strict'],
      'compat',
    ),
    logLevel: parseEnum('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'log'),
    workers: parseWorkers(env.WORKERS),
    dataDir,
    accessTokenTtlSeconds: parseInteger('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL, 300, 60, 86_400),
    jwksRefreshCooldownSeconds: parseInteger(
      'JWKS_REFRESH_COOLDOWN',
      env.JWKS_REFRESH_COOLDOWN,
      30,
      0,
      3600,
    ),
    accessTokenAudience: blank(env.ACCESS_TOKEN_AUDIENCE)
      ? issuer
      : env.ACCESS_TOKEN_AUDIENCE!.trim(),
    resourceIndicators: parseResources(env.RESOURCE_INDICATORS),
    trustedIssuers: parseTrustedIssuers(env.TRUSTED_ISSUERS),
    serverKeyRetireAfterSeconds: parseInteger(
      'SERVER_KEY_RETIRE_AFTER',
      env.SERVER_KEY_RETIRE_AFTER,
      3600,
      60,
      30 * 86_400,
    ),
    rateLimits: {
      tokenPerClient: parseRate('RATE_LIMIT_TOKEN_PER_CLIENT', env.RATE_LIMIT_TOKEN_PER_CLIENT),
      tokenPerIp: parseRate('RATE_LIMIT_TOKEN_PER_IP', env.RATE_LIMIT_TOKEN_PER_IP),
      registerPerIp: parseRate('RATE_LIMIT_REGISTER_PER_IP', env.RATE_LIMIT_REGISTER_PER_IP),
    },
    metricsToken: parseToken('METRICS_TOKEN', env.METRICS_TOKEN),
    shutdownDelayMs: parseInteger('SHUTDOWN_DELAY_MS', env.SHUTDOWN_DELAY_MS, 0, 0, 600_000),
    requestTimeoutMs: parseInteger(
      'REQUEST_TIMEOUT_MS',
      env.REQUEST_TIMEOUT_MS,
      30_000,
      100,
      600_000,
    ),
  };
}

/** A rate limit in requests per minute; unset or 0 = off. */
function parseRate(name: string, value: string | undefined): number {
  return parseInteger(name, value, 0, 0, 1_000_000);
}

/** Redis key prefix: deployments sharing one Redis must use different ones (docs/scaling.md). */
function parseRedisKeyPrefix(value: string | undefined): string {
  if (blank(value)) return 'client-auth:';
  const prefix = value!.trim();
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(prefix)) {
    throw new ConfigError('REDIS_KEY_PREFIX', 'must be 1-64 characters of A-Z a-z 0-9 : _ . -');
  }
  return prefix;
}

function parseResources(value: string | undefined): string[] {
  if (blank(value)) return [];
  return value!.split(',').map((raw) => {
    const text = raw.trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError('RESOURCE_INDICATORS', `"${text}" is not an absolute URI`);
    }
    if (url.hash || text.includes('#')) {
      throw new ConfigError('RESOURCE_INDICATORS', `"${text}" must not contain a fragment`);
    }
    return text;
  });
}

function parseTrustedIssuers(value: string | undefined): TrustedIssuerConfig[] {
  if (blank(value)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value!);
  } catch {
    throw new ConfigError('TRUSTED_ISSUERS', 'must be a JSON array (invalid JSON)');
  }
  if (!Array.isArray(parsed)) throw new ConfigError('TRUSTED_ISSUERS', 'must be a JSON array');
  return parsed.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.issuer !== 'string' || !e.issuer) {
      throw new ConfigError('TRUSTED_ISSUERS', `entry ${i}: "issuer" is required`);
    }
    const hasUri = typeof e.jwks_uri === 'string';
    const keys = (e.jwks as { keys?: unknown } | undefined)?.keys;
    if (hasUri === Array.isArray(keys)) {
      throw new ConfigError('TRUSTED_ISSUERS', `entry ${i}: exactly one of "jwks_uri" and "jwks"`);
    }
    if (hasUri && !isHttpUrl(e.jwks_uri as string)) {
      throw new ConfigError('TRUSTED_ISSUERS', `entry ${i}: "jwks_uri" must be an http(s) URL`);
    }
    if (!hasUri) {
      // The same key rules as a registration (public keys only, sizes, kty/crv/alg).
      try {
        parseJwks(e.jwks, { minKeys: 1 });
      } catch (error) {
        throw new ConfigError('TRUSTED_ISSUERS', `entry ${i}: "jwks" ${(error as Error).message}`);
      }
    }
    if (
      e.subjects !== undefined &&
      (!Array.isArray(e.subjects) || e.subjects.some((s) => typeof s !== 'string'))
    ) {
      throw new ConfigError(
        'TRUSTED_ISSUERS',
        `entry ${i}: "subjects" must be an array of strings`,
      );
    }
    return {
      issuer: e.issuer,
      ...(hasUri && { jwksUri: e.jwks_uri as string }),
      ...(Array.isArray(keys) && { jwks: { keys: keys as Record<string, unknown>[] } }),
      ...(e.subjects !== undefined && { subjects: e.subjects as string[] }),
    };
  });
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !text.includes('#');
  } catch {
    return false;
  }
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

function parsePort(value: string | undefined): number {
  return parseInteger('PORT', value, 3000, 0, 65_535);
}

function parseInteger(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (blank(value)) return fallback;
  const text = value!.trim();
  if (!/^\d+$/.test(text)) throw new ConfigError(name, `must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return n;
}

function parseIssuer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('ISSUER', `must be an absolute URL, got "${value}"`);
  }
  // RFC 8414 §2: https, no query or fragment (http tolerated for local development).
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('ISSUER', 'must use https (or http for local development)');
  }
  if (url.search || url.hash || value.includes('#')) {
    throw new ConfigError('ISSUER', 'must not have a query or fragment (RFC 8414 §2)');
  }
  if (url.username || url.password) throw new ConfigError('ISSUER', 'must not carry credentials');
  return value.replace(/\/+$/, '');
}

function parseDatabase(value: string | undefined, dataDir: string): AppConfig['database'] {
  if (blank(value)) return { type: 'better-sqlite3', path: `${dataDir}/client-auth.sqlite` };
  const url = parseUrl('DATABASE_URL', value, ['postgres:', 'postgresql:'])!;
  return { type: 'postgres', url };
}

function parseUrl(
  name: string,
  value: string | undefined,
  protocols: string[],
): string | undefined {
  if (blank(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value!.trim());
  } catch {
    throw new ConfigError(name, 'must be a URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value!.trim();
}

function parseToken(name: string, value: string | undefined): string | undefined {
  if (blank(value)) return undefined;
  const token = value!.trim();
  if (token.length < 16) throw new ConfigError(name, 'must be at least 16 characters');
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new ConfigError(name, 'must be printable ASCII without spaces');
  return token;
}

function parseHosts(value: string | undefined): string[] {
  if (blank(value)) return [];
  return value!.split(',').map((raw) => {
    const host = raw
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, '$1');
    const hostname = /^[a-z0-9.-]+(:\d+)?$/.test(host) || isIP(host) !== 0;
    if (!host || !hostname)
      throw new ConfigError('JWKS_URI_ALLOW_HOSTS', `"${raw.trim()}" is not a host name`);
    return host;
  });
}

function parseSigningKeys(value: string | undefined): AppConfig['signingKeys'] {
  if (blank(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value!);
  } catch {
    throw new ConfigError('SIGNING_KEYS', 'must be a JSON Web Key Set (invalid JSON)');
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError('SIGNING_KEYS', 'must be a JSON Web Key Set with at least one key');
  }
  keys.forEach((key: unknown, i) => {
    const k = key as Record<string, unknown>;
    if (typeof k !== 'object' || k === null)
      throw new ConfigError('SIGNING_KEYS', `key ${i} is not an object`);
    if (typeof k.kty !== 'string' || !['RSA', 'EC', 'OKP'].includes(k.kty)) {
      throw new ConfigError('SIGNING_KEYS', `key ${i}: kty must be RSA, EC or OKP`);
    }
    if (typeof k.d !== 'string')
      throw new ConfigError('SIGNING_KEYS', `key ${i}: must be a private key (no "d")`);
    if (typeof k.alg !== 'string')
      throw new ConfigError('SIGNING_KEYS', `key ${i}: "alg" is required`);
    if (typeof k.kid !== 'string' || !k.kid)
      throw new ConfigError('SIGNING_KEYS', `key ${i}: "kid" is required`);
  });
  return { keys: keys as Record<string, unknown>[] };
}

function parseEncryptionKey(value: string | undefined): string | undefined {
  if (blank(value)) return undefined;
  const text = value!.trim();
  try {
    parseSecretEncryptionKey(text);
  } catch (error) {
    throw new ConfigError(
      'SECRET_ENCRYPTION_KEY',
      (error as Error).message.replace(/^SECRET_ENCRYPTION_KEY:?\s*/, ''),
    );
  }
  return text;
}

function parseEnum<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (blank(value)) return fallback;
  const text = value!.trim() as T;
  if (!allowed.includes(text))
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${text}"`);
  return text;
}

function parseWorkers(value: string | undefined): number | 'auto' {
  if (blank(value)) return 1;
  if (value!.trim() === 'auto') return 'auto';
  return parseInteger('WORKERS', value, 1, 1, 64);
}
