import { describe, expect, it } from '@jest/globals';
import { OAuthError } from '../errors.js';
import { grantedResources, grantedScope } from './scope.js';

function refusal(run: () => unknown): OAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('grantedScope (RFC 6749 §3.3)', () => {
  it.each([
    ['no request: the registered scope', undefined, 'read write', 'read write'],
    ['no request, nothing registered: no scope', undefined, undefined, undefined],
    ['no request, empty registration: no scope', undefined, '', undefined],
    ['a subset', 'read', 'read write', 'read'],
    ['the full set, reordered', 'write read', 'read write', 'write read'],
    ['duplicates collapse', 'read read', 'read write', 'read'],
    [
      'URI-shaped scope tokens',
      'https://api.example.com/read',
      'https://api.example.com/read',
      'https://api.example.com/read',
    ],
  ])('%s', (_name, requested, registered, expected) => {
    expect(grantedScope(requested, registered)).toBe(expected);
  });

  it.each([
    ['a scope not registered', 'admin', 'read write'],
    ['one of several not registered', 'read admin', 'read write'],
    ['anything when nothing is registered', 'read', undefined],
    ['an empty scope parameter', '', 'read'],
    ['a double space', 'read  write', 'read write'],
    ['a leading space', ' read', 'read'],
    ['a quote (outside scope-token)', 'read"', 'read"'],
    ['a backslash (outside scope-token)', 'a\\b', 'a\\b'],
    ['a non-ASCII character', 'lecture-é', 'lecture-é'],
    ['a tab', 'read\twrite', 'read write'],
  ])('refuses %s with invalid_scope', (_name, requested, registered) => {
    expect(refusal(() => grantedScope(requested, registered)).error).toBe('invalid_scope');
  });

  it('names the refused scope, shortened', () => {
    const error = refusal(() => grantedScope(`read ${'x'.repeat(200)}`, 'read'));
    expect(error.description).toMatch(/^scope not allowed for this client: x+…$/);
    expect(error.description.length).toBeLessThan(120);
  });
});

describe('grantedResources (RFC 8707 §2)', () => {
  const SERVED = ['https://api.example.com', 'https://billing.example.com/v1'];

  it.each([
    ['none requested', [], []],
    ['one served resource', ['https://api.example.com'], ['https://api.example.com']],
    ['several, duplicates collapsed', [...SERVED, SERVED[0]!], SERVED],
  ])('%s', (_name, requested, expected) => {
    expect(grantedResources(requested, SERVED)).toEqual(expected);
  });

  it.each([
    ['a relative URI', ['/api'], SERVED, /absolute URI/],
    ['not a URI', ['api.example.com'], SERVED, /absolute URI/],
    ['a fragment', ['https://api.example.com#x'], SERVED, /fragment/],
    ['an empty fragment', ['https://api.example.com#'], SERVED, /fragment/],
    ['an unknown resource', ['https://evil.example.com'], SERVED, /not served here/],
    [
      'a served one with a trailing slash (exact match)',
      ['https://api.example.com/'],
      SERVED,
      /not served here/,
    ],
    [
      'any resource when none is configured',
      ['https://api.example.com'],
      undefined,
      /not served here/,
    ],
    [
      'one unknown among served ones',
      [SERVED[0]!, 'https://x.example.com'],
      SERVED,
      /not served here/,
    ],
  ])('refuses %s with invalid_target', (_name, requested, allowed, description) => {
    const error = refusal(() => grantedResources(requested, allowed));
    expect(error.error).toBe('invalid_target');
    expect(error.status).toBe(400);
    expect(error.description).toMatch(description);
  });
});
