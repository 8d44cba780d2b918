import { describe, expect, it } from '@jest/globals';
import type { HttpReplyLike, HttpRequestLike } from '../../nest/http-platform.js';
import { ClientAuthMetrics } from '../metrics/client-auth-metrics.js';
import {
  addressBucketKey,
  claimedClientId,
  ClientAuthRateLimiter,
} from './client-auth-rate-limiter.js';
import { RateLimitExceededError } from './rate-limit-exceeded.error.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const fakeJwt = (payload: unknown) => `${b64url({ alg: 'ES256' })}.${b64url(payload)}.sig`;

function req(init: { body?: unknown; authorization?: string; ip?: string }): HttpRequestLike {
  return {
    body: init.body,
    headers: init.authorization ? { authorization: init.authorization } : {},
    ip: init.ip ?? '192.0.2.1',
  } as unknown as HttpRequestLike;
}

/** A reply recording its headers (the `header()` call Express and Fastify replies share). */
function res(): HttpReplyLike & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  return {
    headers,
    header(name: string, value: string) {
      headers[name.toLowerCase()] = value;
      return this;
    },
  } as unknown as HttpReplyLike & { headers: Record<string, string> };
}

describe('addressBucketKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::ffff:1.2.3.4:5', '::ffff:1.2.3.4:5'],
    [undefined, 'unknown'],
    ['', 'unknown'],
  ])('%p → %p', (address, key) => {
    expect(addressBucketKey(address)).toBe(key);
  });

  it('puts two addresses of one /64 in one bucket', () => {
    expect(addressBucketKey('2001:db8:a:b::1')).toBe(addressBucketKey('2001:db8:a:b:ffff::2'));
    expect(addressBucketKey('2001:db8:a:b::1')).not.toBe(addressBucketKey('2001:db8:a:c::1'));
  });
});

describe('claimedClientId (unverified)', () => {
  const basic = (user: string) => `Basic ${Buffer.from(`${user}:secret`).toString('base64')}`;
  it.each<[string, Parameters<typeof req>[0], string | undefined]>([
    ['body client_id', { body: { client_id: 'svc-a' } }, 'svc-a'],
    ['Basic user, form-decoded', { authorization: basic('svc%20b+c') }, 'svc b c'],
    ['assertion sub', { body: { client_assertion: fakeJwt({ sub: 'svc-c' }) } }, 'svc-c'],
    ['client_id wins', { body: { client_id: 'x', client_assertion: fakeJwt({ sub: 'y' }) } }, 'x'],
    ['no credentials', { body: {} }, undefined],
    ['array client_id', { body: { client_id: ['a', 'b'] } }, undefined],
    ['oversized id', { body: { client_id: 'x'.repeat(257) } }, undefined],
    ['garbage assertion', { body: { client_assertion: 'a.%%%.b' } }, undefined],
    ['malformed Basic escape', { authorization: basic('%E0%A4%A') }, undefined],
    ['no body at all', {}, undefined],
  ])('%s', (_name, init, expected) => {
    expect(claimedClientId(req(init))).toBe(expected);
  });
});

describe('ClientAuthRateLimiter', () => {
  it('takes from the address bucket before authentication and counts refusals', async () => {
    const metrics = new ClientAuthMetrics();
    const limiter = new ClientAuthRateLimiter({ token: { perAddress: 2 } }, metrics);
    const r = res();
    limiter.beforeAuthentication('token', req({}), r);
    limiter.beforeAuthentication('token', req({}), r);
    let refused: unknown;
    try {
      limiter.beforeAuthentication('token', req({}), r);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RateLimitExceededError);
    expect(refused).toMatchObject({ status: 429, error: 'temporarily_unavailable' });
    expect(r.headers['retry-after']).toBe('30');
    // Another address, and the registration endpoint, are separate buckets.
    expect(() => limiter.beforeAuthentication('token', req({ ip: '192.0.2.2' }), r)).not.toThrow();
    expect(() => limiter.beforeAuthentication('registration', req({}), r)).not.toThrow();
    expect(await metrics.metrics()).toContain(
      'client_auth_rate_limited_total{endpoint="token",scope="address"} 1',
    );
  });

  it('spends a client budget only after authentication; before it, only peeks', () => {
    const limiter = new ClientAuthRateLimiter({ token: { perClient: 1 } });
    const named = req({ body: { client_id: 'svc-a' } });
    for (let i = 0; i < 5; i++) {
      expect(() => limiter.beforeAuthentication('token', named, res())).not.toThrow();
    }
    limiter.afterAuthentication('svc-a', res());
    expect(() => limiter.beforeAuthentication('token', named, res())).toThrow(
      RateLimitExceededError,
    );
    expect(() => limiter.afterAuthentication('svc-a', res())).toThrow(RateLimitExceededError);
    expect(() => limiter.afterAuthentication('svc-b', res())).not.toThrow();
    limiter.reset();
    expect(() => limiter.afterAuthentication('svc-a', res())).not.toThrow();
  });

  it('is off when every limit is 0 or absent', () => {
    expect(new ClientAuthRateLimiter({}).enabled).toBe(false);
    expect(new ClientAuthRateLimiter({ token: { perClient: 0 } }).enabled).toBe(false);
    expect(new ClientAuthRateLimiter({ registration: { perAddress: 1 } }).enabled).toBe(true);
  });
});
