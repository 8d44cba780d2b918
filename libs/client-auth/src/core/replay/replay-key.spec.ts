import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { replayKey } from './replay-key.js';

describe('replayKey (SPEC S5)', () => {
  it('is the base64url SHA-256 of the JSON array [method, clientId, jti]', () => {
    const expected = createHash('sha256')
      .update(JSON.stringify(['private_key_jwt', 'c1', 'j1']))
      .digest('base64url');
    expect(replayKey('private_key_jwt', 'c1', 'j1')).toBe(expected);
    expect(replayKey('private_key_jwt', 'c1', 'j1')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    [
      ['private_key_jwt', 'a', 'b:c'],
      ['private_key_jwt', 'a:b', 'c'],
    ],
    [
      ['private_key_jwt', 'a', 'bc'],
      ['private_key_jwt', 'ab', 'c'],
    ],
    [
      ['private_key_jwt', 'a","b', 'c'],
      ['private_key_jwt', 'a', 'b","c'],
    ],
    [
      ['private_key_jwt', 'c', 'j'],
      ['client_secret_jwt', 'c', 'j'],
    ],
    [
      ['private_key_jwt', 'c', 'j'],
      ['private_key_jwt', 'C', 'j'],
    ],
  ] as [string, string, string][][])('separates %p from %p', (a, b) => {
    expect(replayKey(a[0]!, a[1]!, a[2]!)).not.toBe(replayKey(b[0]!, b[1]!, b[2]!));
  });

  it('does not embed the raw jti', () => {
    expect(replayKey('private_key_jwt', 'client', 'very-distinctive-jti')).not.toContain(
      'distinctive',
    );
  });
});
