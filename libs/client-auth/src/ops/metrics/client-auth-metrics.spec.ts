import { describe, expect, it } from '@jest/globals';
import { register as globalRegistry, Registry } from 'prom-client';
import type { JwksCacheStats } from '../../core/jwks/jwks-cache.js';
import { ClientAuthMetrics } from './client-auth-metrics.js';

const stats = (over: Partial<JwksCacheStats> = {}): JwksCacheStats => ({
  entries: 0,
  fetches: 0,
  hits: 0,
  misses: 0,
  errors: 0,
  staleServed: 0,
  collapsed: 0,
  evictions: 0,
  ...over,
});

describe('ClientAuthMetrics', () => {
  it('counts outcomes by method and reason code through the observer', async () => {
    const metrics = new ClientAuthMetrics();
    const at = new Date(Date.now() - 20);
    metrics.observer.onSuccess!({ clientId: 'svc-a', method: 'private_key_jwt', at });
    metrics.observer.onSuccess!({ clientId: 'svc-b', method: 'private_key_jwt', at });
    metrics.observer.onFailure!({
      clientId: 'svc-a',
      method: 'private_key_jwt',
      reason: 'jti_replayed',
      detail: 'jti 7f3a9 seen before',
      at,
    });
    metrics.observer.onFailure!({ reason: 'credentials_missing', detail: 'none', at });
    metrics.observer.onFailure!({
      method: 'client_secret_basic',
      reason: 'store_unavailable',
      detail: 'client-store unavailable',
      at,
    });
    const text = await metrics.metrics();
    expect(text).toContain(
      'client_auth_authentications_total{method="private_key_jwt",outcome="success",reason="none"} 2',
    );
    expect(text).toContain(
      'client_auth_authentications_total{method="private_key_jwt",outcome="failure",reason="jti_replayed"} 1',
    );
    expect(text).toContain(
      'client_auth_authentications_total{method="unknown",outcome="failure",reason="credentials_missing"} 1',
    );
    expect(text).toContain(
      'client_auth_authentications_total{method="client_secret_basic",outcome="unavailable",reason="store_unavailable"} 1',
    );
    expect(text).toContain('client_auth_replays_total{method="private_key_jwt"} 1');
    // Durations: measured from the event's start; 20 ms lands above the 10 ms bucket.
    expect(text).toContain(
      'client_auth_authentication_duration_seconds_bucket{le="0.01",method="private_key_jwt",outcome="success"} 0',
    );
    expect(text).toContain(
      'client_auth_authentication_duration_seconds_count{method="private_key_jwt",outcome="success"} 2',
    );
    // Client ids and details never become labels.
    expect(text).not.toContain('svc-a');
    expect(text).not.toContain('7f3a9');
  });

  it('bounds label values taken from outside', async () => {
    const metrics = new ClientAuthMetrics();
    metrics.observer.onSuccess!({
      clientId: 'x',
      method: 'made_up_method' as never,
      at: new Date(),
    });
    metrics.observeHttpRequest({
      method: 'BREW',
      route: `/${'r'.repeat(500)}`,
      statusCode: 418,
      seconds: -1,
    });
    const text = await metrics.metrics();
    expect(text).toContain('method="other",outcome="success"');
    expect(text).toContain('method="OTHER"');
    expect(text).toMatch(new RegExp(`route="/${'r'.repeat(119)}"`));
    expect(text).not.toContain('r'.repeat(121));
  });

  it('reads key set cache counters at scrape time, summed over sources, until unwatched', async () => {
    const metrics = new ClientAuthMetrics();
    let first = stats({ fetches: 2, hits: 5, misses: 2, entries: 1 });
    metrics.watchJwksCache({ stats: () => first });
    const unwatch = metrics.watchJwksCache({ stats: () => stats({ fetches: 1, errors: 1 }) });
    metrics.watchJwksCache({
      stats: () => {
        throw new Error('broken source');
      },
    });
    let text = await metrics.metrics();
    expect(text).toContain('client_auth_jwks_fetches_total 3');
    expect(text).toContain('client_auth_jwks_fetch_failures_total 1');
    expect(text).toContain('client_auth_jwks_cache_hits_total 5');
    expect(text).toContain('client_auth_jwks_cache_entries 1');
    first = stats({ fetches: 4, hits: 9, misses: 4, entries: 2 });
    unwatch();
    text = await metrics.metrics();
    expect(text).toContain('client_auth_jwks_fetches_total 4');
    expect(text).toContain('client_auth_jwks_fetch_failures_total 0');
    expect(text).toContain('client_auth_jwks_cache_hits_total 9');
  });

  it('counts tokens and rate-limit refusals, on its own registry only', async () => {
    const registry = new Registry();
    const metrics = new ClientAuthMetrics({ registry, prefix: 'as_' });
    metrics.tokenIssued();
    metrics.tokenIssued(2);
    metrics.rateLimited('token', 'client');
    const text = await registry.metrics();
    expect(text).toContain('as_tokens_issued_total 3');
    expect(text).toContain('as_rate_limited_total{endpoint="token",scope="client"} 1');
    expect(metrics.contentType).toMatch(/^text\/plain/);
    expect(await globalRegistry.metrics()).not.toContain('as_tokens_issued_total');
    // Two instances do not collide (each has its own registry by default).
    expect(() => new ClientAuthMetrics()).not.toThrow();
    expect(() => new ClientAuthMetrics()).not.toThrow();
  });

  it('adds the process metrics on request', async () => {
    expect(await new ClientAuthMetrics().metrics()).not.toContain('process_cpu_user_seconds_total');
    expect(await new ClientAuthMetrics({ defaultMetrics: true }).metrics()).toContain(
      'process_cpu_user_seconds_total',
    );
  });
});
