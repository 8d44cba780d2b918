import { describe, expect, it } from '@jest/globals';
import { discoveryUrls, metadataProblem } from './discovery.js';

describe('discoveryUrls', () => {
  it.each([
    // RFC 8414 §3.1 example: the well-known segment goes between host and path.
    [
      'https://example.com/issuer1',
      'https://example.com/.well-known/oauth-authorization-server/issuer1',
      'https://example.com/issuer1/.well-known/openid-configuration',
    ],
    [
      'https://example.com/issuer1/',
      'https://example.com/.well-known/oauth-authorization-server/issuer1',
      'https://example.com/issuer1/.well-known/openid-configuration',
    ],
    [
      'https://example.com',
      'https://example.com/.well-known/oauth-authorization-server',
      'https://example.com/.well-known/openid-configuration',
    ],
    [
      'http://127.0.0.1:8080/realms/a/b',
      'http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/a/b',
      'http://127.0.0.1:8080/realms/a/b/.well-known/openid-configuration',
    ],
  ])('%s', (issuer, oauth, openid) => {
    expect(discoveryUrls(issuer)).toEqual([oauth, openid]);
  });
});

describe('metadataProblem', () => {
  const issuer = 'https://as.example.com';
  const ok = { issuer, token_endpoint: 'https://as.example.com/token' };
  it.each([
    ['valid metadata', ok, false, undefined],
    ['an issuer with a trailing slash', { ...ok, issuer: `${issuer}/` }, false, /RFC 8414 §3.3/],
    ['another case', { ...ok, issuer: 'https://AS.example.com' }, false, /RFC 8414 §3.3/],
    ['no token endpoint', { issuer }, false, /token_endpoint/],
    ['a relative token endpoint', { ...ok, token_endpoint: '/token' }, false, /absolute/],
    [
      'an http token endpoint',
      { ...ok, token_endpoint: 'http://as.example.com/t' },
      false,
      /https/,
    ],
    [
      'an http token endpoint, allowed',
      { ...ok, token_endpoint: 'http://as.example.com/t' },
      true,
      undefined,
    ],
    [
      'credentials in the URL',
      { ...ok, token_endpoint: 'https://u:p@as.example.com/t' },
      false,
      /credentials/,
    ],
    ['an array', [ok], false, /not a JSON object/],
  ])('%s', (_name, document, allowHttp, problem) => {
    const found = metadataProblem(document, issuer, allowHttp);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});
