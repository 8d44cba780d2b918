import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../config/app-config.js';

describe('operations settings (RATE_LIMIT_*, METRICS_TOKEN, SHUTDOWN_DELAY_MS)', () => {
  it('defaults: every rate limit off, /metrics open, no shutdown delay', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({ tokenPerClient: 0, tokenPerIp: 0, registerPerIp: 0 });
    expect(config.metricsToken).toBeUndefined();
    expect(config.shutdownDelayMs).toBe(0);
    expect(config.requestTimeoutMs).toBe(30_000);
  });

  it('reads the limits in requests per minute, the token and the delay', () => {
    const config = loadConfig({
      RATE_LIMIT_TOKEN_PER_CLIENT: '600',
      RATE_LIMIT_TOKEN_PER_IP: ' 1200 ',
      RATE_LIMIT_REGISTER_PER_IP: '20',
      METRICS_TOKEN: 'scrape-token-0123456789',
      SHUTDOWN_DELAY_MS: '5000',
      REQUEST_TIMEOUT_MS: '2500',
    });
    expect(config.rateLimits).toEqual({
      tokenPerClient: 600,
      tokenPerIp: 1200,
      registerPerIp: 20,
    });
    expect(config.metricsToken).toBe('scrape-token-0123456789');
    expect(config.shutdownDelayMs).toBe(5000);
    expect(config.requestTimeoutMs).toBe(2500);
  });

  it.each([
    ['RATE_LIMIT_TOKEN_PER_CLIENT', '-1'],
    ['RATE_LIMIT_TOKEN_PER_CLIENT', 'ten'],
    ['RATE_LIMIT_TOKEN_PER_IP', '1.5'],
    ['RATE_LIMIT_REGISTER_PER_IP', '2000000'],
    ['METRICS_TOKEN', 'short'],
    ['METRICS_TOKEN', 'has spaces in it, sixteen+'],
    ['SHUTDOWN_DELAY_MS', '600001'],
    ['REQUEST_TIMEOUT_MS', '99'],
    ['REQUEST_TIMEOUT_MS', 'forever'],
  ])('refuses %s=%p naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    // A refused token is never echoed.
    if (name === 'METRICS_TOKEN') expect((error as Error).message).not.toContain(value);
  });
});
