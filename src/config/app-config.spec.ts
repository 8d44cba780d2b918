import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './app-config.js';

const KEY = 'a'.repeat(64);

describe('loadConfig', () => {
  it('defaults to the embedded SQLite database under ./data and port 3000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database).toEqual({ type: 'better-sqlite3', path: './data/client-auth.sqlite' });
    expect(config.audiencePolicy).toBe('compat');
    expect(config.jwksUriAllowHosts).toEqual([]);
    expect(config.accessTokenAudience).toBe('http://localhost:3000');
  });

  it('derives the default issuer from PORT and strips a trailing slash from ISSUER', () => {
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
    expect(loadConfig({ ISSUER: 'https://as.example.com/' }).issuer).toBe('https://as.example.com');
  });

  it('selects PostgreSQL from DATABASE_URL and then requires SECRET_ENCRYPTION_KEY', () => {
    const url = 'postgres://u:p@127.0.0.1:5432/db';
    expect(() => loadConfig({ DATABASE_URL: url })).toThrow(/^SECRET_ENCRYPTION_KEY:/);
    expect(loadConfig({ DATABASE_URL: url, SECRET_ENCRYPTION_KEY: KEY }).database).toEqual({
      type: 'postgres',
      url,
    });
  });

  it('parses JWKS_URI_ALLOW_HOSTS as a lower-cased host list', () => {
    expect(
      loadConfig({ JWKS_URI_ALLOW_HOSTS: ' Localhost ,127.0.0.1,[::1]' }).jwksUriAllowHosts,
    ).toEqual(['localhost', '127.0.0.1', '::1']);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['ISSUER', 'not a url'],
    ['ISSUER', 'ftp://as.example.com'],
    ['ISSUER', 'https://as.example.com/?q=1'],
    ['ISSUER', 'https://as.example.com/#frag'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['REDIS_KEY_PREFIX', 'has spaces'],
    ['REDIS_KEY_PREFIX', 'p'.repeat(65)],
    ['INITIAL_ACCESS_TOKEN', 'short'],
    ['ADMIN_TOKEN', 'has spaces in it, too long'],
    ['JWKS_URI_ALLOW_HOSTS', 'http://x/'],
    ['SIGNING_KEYS', '{not json'],
    ['SIGNING_KEYS', '{"keys":[]}'],
    [
      'SIGNING_KEYS',
      '{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","alg":"ES256","kid":"k"}]}',
    ],
    ['SECRET_ENCRYPTION_KEY', 'too-short'],
    ['AUDIENCE_POLICY', 'lenient'],
    ['LOG_LEVEL', 'loud'],
    ['WORKERS', 'many'],
    ['WORKERS', '0'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    let caught: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message.startsWith(`${variable}: `)).toBe(true);
  });

  it('reads REDIS_URL and REDIS_KEY_PREFIX (default client-auth:)', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({}).redisKeyPrefix).toBe('client-auth:');
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/2', REDIS_KEY_PREFIX: 'as-1:' });
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(config.redisKeyPrefix).toBe('as-1:');
  });

  it('accepts WORKERS=auto and a valid private SIGNING_KEYS set', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c', alg: 'ES256', kid: 'k1' };
    const config = loadConfig({ WORKERS: 'auto', SIGNING_KEYS: JSON.stringify({ keys: [jwk] }) });
    expect(config.workers).toBe('auto');
    expect(config.signingKeys?.keys[0]?.kid).toBe('k1');
  });
});

describe('loadConfig: authorization server settings (SPEC S4)', () => {
  const PUBLIC_EC = {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    kid: 'ci-1',
    alg: 'ES256',
  };

  it('defaults: no trusted issuers, no resources, retired keys published for an hour', () => {
    const config = loadConfig({});
    expect(config.trustedIssuers).toEqual([]);
    expect(config.resourceIndicators).toEqual([]);
    expect(config.serverKeyRetireAfterSeconds).toBe(3600);
  });

  it('parses TRUSTED_ISSUERS entries with jwks_uri or inline jwks and optional subjects', () => {
    const config = loadConfig({
      TRUSTED_ISSUERS: JSON.stringify([
        { issuer: 'https://idp.example.com', jwks_uri: 'https://idp.example.com/jwks' },
        { issuer: 'https://ci.example.com', jwks: { keys: [PUBLIC_EC] }, subjects: ['repo:a'] },
      ]),
    });
    expect(config.trustedIssuers).toEqual([
      { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks' },
      { issuer: 'https://ci.example.com', jwks: { keys: [PUBLIC_EC] }, subjects: ['repo:a'] },
    ]);
    expect(loadConfig({ TRUSTED_ISSUERS: '  ' }).trustedIssuers).toEqual([]);
  });

  it('parses RESOURCE_INDICATORS as a trimmed list of absolute URIs', () => {
    expect(
      loadConfig({ RESOURCE_INDICATORS: ' https://api.example.com , urn:example:billing ' })
        .resourceIndicators,
    ).toEqual(['https://api.example.com', 'urn:example:billing']);
  });

  it('parses SERVER_KEY_RETIRE_AFTER in seconds within [60, 30 days]', () => {
    expect(loadConfig({ SERVER_KEY_RETIRE_AFTER: '60' }).serverKeyRetireAfterSeconds).toBe(60);
    expect(loadConfig({ SERVER_KEY_RETIRE_AFTER: '2592000' }).serverKeyRetireAfterSeconds).toBe(
      2_592_000,
    );
  });

  it.each([
    ['TRUSTED_ISSUERS', '{not json'],
    ['TRUSTED_ISSUERS', '{"issuer":"https://idp.example.com"}'],
    ['TRUSTED_ISSUERS', '[null]'],
    ['TRUSTED_ISSUERS', '["https://idp.example.com"]'],
    ['TRUSTED_ISSUERS', '[{"jwks_uri":"https://idp.example.com/jwks"}]'],
    ['TRUSTED_ISSUERS', '[{"issuer":"","jwks_uri":"https://idp.example.com/jwks"}]'],
    ['TRUSTED_ISSUERS', '[{"issuer":"https://idp.example.com"}]'],
    [
      'TRUSTED_ISSUERS',
      JSON.stringify([
        {
          issuer: 'https://idp.example.com',
          jwks_uri: 'https://idp.example.com/jwks',
          jwks: { keys: [] },
        },
      ]),
    ],
    [
      'TRUSTED_ISSUERS',
      '[{"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/jwks","subjects":"a"}]',
    ],
    [
      'TRUSTED_ISSUERS',
      '[{"issuer":"https://idp.example.com","jwks_uri":"https://idp.example.com/jwks","subjects":[1]}]',
    ],
    ['TRUSTED_ISSUERS', '[{"issuer":"https://idp.example.com","jwks_uri":"not a url"}]'],
    [
      'TRUSTED_ISSUERS',
      '[{"issuer":"https://idp.example.com","jwks_uri":"ftp://idp.example.com/k"}]',
    ],
    [
      'TRUSTED_ISSUERS',
      JSON.stringify([
        { issuer: 'https://ci.example.com', jwks: { keys: [{ ...PUBLIC_EC, d: 'x' }] } },
      ]),
    ],
    [
      'TRUSTED_ISSUERS',
      JSON.stringify([
        { issuer: 'https://ci.example.com', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
      ]),
    ],
    ['RESOURCE_INDICATORS', 'api.example.com'],
    ['RESOURCE_INDICATORS', 'https://api.example.com,/relative'],
    ['RESOURCE_INDICATORS', 'https://api.example.com#section'],
    ['SERVER_KEY_RETIRE_AFTER', '59'],
    ['SERVER_KEY_RETIRE_AFTER', '2592001'],
    ['SERVER_KEY_RETIRE_AFTER', '1h'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    let caught: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message.startsWith(`${variable}: `)).toBe(true);
  });

  it('never echoes a private key member in the refusal', () => {
    const secret = 'very-secret-private-scalar';
    const value = JSON.stringify([
      { issuer: 'https://ci.example.com', jwks: { keys: [{ ...PUBLIC_EC, d: secret }] } },
    ]);
    expect(() => loadConfig({ TRUSTED_ISSUERS: value })).toThrow(ConfigError);
    try {
      loadConfig({ TRUSTED_ISSUERS: value });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });
});
