import { isIP } from 'node:net';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { HttpRequestLike, HttpReplyLike } from '../../nest/http-platform.js';
import { ClientAuthMetrics } from '../metrics/client-auth-metrics.js';
import {
  CLIENT_AUTH_RATE_LIMIT_OPTIONS,
  type ClientAuthRateLimitOptions,
} from './rate-limit.options.js';
import { RateLimitExceededError } from './rate-limit-exceeded.error.js';
import { type RateLimitDecision, TokenBucketLimiter } from './token-bucket-limiter.js';

/** An endpoint with rate limits. */
export type RateLimitedEndpoint = 'token' | 'registration';

/** Longest claimed client id looked at (longer ones cannot be registered ids). */
const MAX_CLAIMED_ID = 256;
/** Largest assertion decoded for its unverified `sub` (SPEC S2.2's default cap is 8 KiB). */
const MAX_ASSERTION_CHARS = 16 * 1024;

/**
 * The caller address a per-address bucket is keyed on: an IPv4 address as is (IPv4-mapped IPv6
 * unwrapped), an IPv6 address reduced to its /64 prefix (one site usually holds a whole /64),
 * `unknown` when there is none.
 */
export function addressBucketKey(address: string | undefined): string {
  if (!address) return 'unknown';
  let text = address.trim().toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (mapped) return mapped[1]!;
  if (isIP(text) !== 6) return text.slice(0, 64);
  return `${expandIpv6(text).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  let text = address;
  // A dotted IPv4 tail counts as two groups.
  const tail = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const middle = rest === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((group) => (parseInt(group, 16) || 0).toString(16));
}

/**
 * The client a token request names, *unverified*: `client_id`, the Basic user name, or the
 * assertion's `sub`. Used only to refuse early a client already over its limit, never to
 * consume from its bucket (so nobody can drain another client's budget).
 */
export function claimedClientId(req: HttpRequestLike): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const fit = (value: unknown) =>
    typeof value === 'string' && value !== '' && value.length <= MAX_CLAIMED_ID ? value : undefined;
  const fromBody = fit(body.client_id);
  if (fromBody) return fromBody;
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && /^basic\s+/i.test(authorization)) {
    const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ''), 'base64').toString();
    const colon = decoded.indexOf(':');
    try {
      // RFC 6749 §2.3.1: the user name is form-urlencoded.
      return fit(
        decodeURIComponent((colon < 0 ? decoded : decoded.slice(0, colon)).replace(/\+/g, ' ')),
      );
    } catch {
      return undefined;
    }
  }
  const assertion = body.client_assertion;
  if (typeof assertion === 'string' && assertion.length <= MAX_ASSERTION_CHARS) {
    try {
      const payload = JSON.parse(
        Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString(),
      ) as Record<string, unknown>;
      return fit(payload?.sub);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The buckets of `ClientAuthRateLimitModule` and the decisions on them. Three independent
 * limits, each with its own bounded set of buckets: token endpoint per client, token endpoint
 * per address, registration per address.
 */
@Injectable()
export class ClientAuthRateLimiter {
  readonly #tokenPerClient: TokenBucketLimiter;
  readonly #tokenPerAddress: TokenBucketLimiter;
  readonly #registrationPerAddress: TokenBucketLimiter;

  constructor(
    @Inject(CLIENT_AUTH_RATE_LIMIT_OPTIONS) private readonly options: ClientAuthRateLimitOptions,
    @Optional() private readonly metrics?: ClientAuthMetrics,
  ) {
    const limiter = () =>
      new TokenBucketLimiter({
        ...(options.maxTrackedKeys !== undefined && { maxKeys: options.maxTrackedKeys }),
        ...(options.now && { now: options.now }),
      });
    this.#tokenPerClient = limiter();
    this.#tokenPerAddress = limiter();
    this.#registrationPerAddress = limiter();
  }

  /** Whether any limit is on. */
  get enabled(): boolean {
    const { token, registration } = this.options;
    return [token?.perClient, token?.perAddress, registration?.perAddress].some(
      (limit) => (limit ?? 0) > 0,
    );
  }

  /**
   * Before authentication: takes one request from the caller address's bucket of `endpoint`,
   * then (token endpoint) refuses a request whose claimed client has an empty bucket — without
   * taking from it. Throws {@link RateLimitExceededError} (with `Retry-After` set on `res`).
   */
  beforeAuthentication(
    endpoint: RateLimitedEndpoint,
    req: HttpRequestLike,
    res: HttpReplyLike,
  ): void {
    const address = addressBucketKey(this.options.addressOf?.(req) ?? req.ip);
    const perAddress =
      endpoint === 'token' ? this.options.token?.perAddress : this.options.registration?.perAddress;
    const limiter = endpoint === 'token' ? this.#tokenPerAddress : this.#registrationPerAddress;
    this.#enforce(limiter.consume(address, perAddress ?? 0), endpoint, 'address', res);
    const perClient = endpoint === 'token' ? (this.options.token?.perClient ?? 0) : 0;
    if (perClient > 0) {
      const claimed = claimedClientId(req);
      if (claimed !== undefined) {
        this.#enforce(this.#tokenPerClient.peek(claimed, perClient), endpoint, 'client', res);
      }
    }
  }

  /** After authentication (token endpoint): takes one request from the client's bucket. */
  afterAuthentication(clientId: string, res: HttpReplyLike): void {
    const perClient = this.options.token?.perClient ?? 0;
    if (perClient <= 0) return;
    this.#enforce(this.#tokenPerClient.consume(clientId, perClient), 'token', 'client', res);
  }

  /** Forgets every bucket (tests, operator action). */
  reset(): void {
    this.#tokenPerClient.clear();
    this.#tokenPerAddress.clear();
    this.#registrationPerAddress.clear();
  }

  #enforce(
    decision: RateLimitDecision,
    endpoint: RateLimitedEndpoint,
    scope: 'client' | 'address',
    res: HttpReplyLike,
  ): void {
    if (decision.allowed) return;
    this.metrics?.rateLimited(endpoint, scope);
    // RFC 9110 §10.2.3 (delay-seconds); the error filter keeps headers already set.
    res.header('Retry-After', String(decision.retryAfterSeconds));
    throw new RateLimitExceededError(decision.retryAfterSeconds);
  }
}
