import { describe, expect, it } from '@jest/globals';
import {
  arrayOf,
  atPath,
  boundedString,
  httpsUrl,
  integerInRange,
  isBooleanValue,
  laterThan,
  quoteToken,
  redirectUri,
  signingAlgorithm,
} from './field-rules.js';

describe('atPath', () => {
  it.each([
    ['[2]', 'must be a string', '[2]: must be a string'],
    ['[1]', '.keys[0]: bad', '[1].keys[0]: bad'],
    ['.keys', '[3]: bad', '.keys[3]: bad'],
    ['[0]', 'keys: not a path continuation', '[0]: keys: not a path continuation'],
  ])('%s + %s', (segment, problem, expected) => {
    expect(atPath(segment, problem)).toBe(expected);
  });
});

describe('quoteToken', () => {
  it.each<[unknown, string | undefined]>([
    ['authorization_code', '"authorization_code"'],
    ['urn:x:y', '"urn:x:y"'],
    ['a'.repeat(64), `"${'a'.repeat(64)}"`],
    ['a'.repeat(65), undefined],
    ['two words', undefined],
    ['quo"te', undefined],
    ['back\\slash', undefined],
    ['', undefined],
    ['é', undefined],
    [42, undefined],
  ])('%p → %p', (value, expected) => {
    expect(quoteToken(value)).toBe(expected);
  });
});

describe('generic rules', () => {
  const none = {};

  it.each<[string, unknown, string | undefined]>([
    ['within bounds', 'abc', undefined],
    ['too short', 'a', 'must be 2 to 4 characters long'],
    ['too long', 'abcde', 'must be 2 to 4 characters long'],
    ['empty', '', 'must be 2 to 4 characters long'],
    ['not matching', 'ab1', 'only letters'],
    ['a DEL character', 'a\u007fb', 'must not contain control characters'],
    ['a line separator', 'a\u2028b', 'must not contain control characters'],
  ])('boundedString: %s', (_case, value, expected) => {
    const check = boundedString({
      min: 2,
      max: 4,
      pattern: /^[a-z\u007f\u2028]+$/,
      patternProblem: 'only letters',
    });
    expect(check(value, none)).toBe(expected);
  });

  it.each<[unknown, string | undefined]>([
    [1, undefined],
    [3, undefined],
    [0, 'must be an integer between 1 and 3'],
    [4, 'must be an integer between 1 and 3'],
    [Number.NaN, 'must be an integer between 1 and 3'],
    [Number.POSITIVE_INFINITY, 'must be an integer between 1 and 3'],
    ['2', 'must be an integer between 1 and 3'],
  ])('integerInRange(1, 3): %p', (value, expected) => {
    expect(integerInRange(1, 3)(value, none)).toBe(expected);
  });

  it('isBooleanValue', () => {
    expect(isBooleanValue(false, none)).toBeUndefined();
    expect(isBooleanValue('false', none)).toBe('must be a boolean');
  });

  it.each<[unknown, string | undefined]>([
    [['a', 'b'], undefined],
    [['a'], 'must hold at least 2'],
    [['a', 'b', 'c', 'd'], 'must hold at most 3 entries'],
    [['a', 'a'], '[1]: repeats an earlier entry'],
    [['a', 1], '[1]: must be a string'],
    [{ 0: 'a', length: 1 }, 'must be an array'],
  ])('arrayOf: %p', (value, expected) => {
    const check = arrayOf((item) => (typeof item === 'string' ? undefined : 'must be a string'), {
      min: 2,
      max: 3,
      distinct: true,
    });
    expect(check(value, none)).toBe(expected);
  });

  it('laterThan compares only when the other field is a date', () => {
    const check = laterThan('start');
    const start = new Date('2030-01-01T00:00:00Z');
    expect(check(new Date('2030-01-02T00:00:00Z'), { start })).toBeUndefined();
    expect(check(start, { start })).toBe('must be later than start');
    expect(check(new Date('2020-01-01T00:00:00Z'), {})).toBeUndefined();
    expect(check(new Date('2020-01-01T00:00:00Z'), { start: 'not a date' })).toBeUndefined();
  });
});

describe('URI rules', () => {
  it.each<[string, string | undefined]>([
    ['https://client.example.com/', undefined],
    ['HTTPS://client.example.com/', undefined],
    ['https://client.example.com/#section', undefined],
    ['https:client.example.com', undefined],
    ['https://', 'must be an absolute https URL'],
    ['mailto:a@example.com', 'must be an absolute https URL'],
  ])('httpsUrl %s', (value, expected) => {
    expect(httpsUrl(value, {})).toBe(expected);
  });

  it.each<[string, string | undefined]>([
    ['HTTP://127.0.0.1/cb', undefined],
    ['http://127.1/cb', undefined],
    ['http://[::1]/cb', undefined],
    [
      'http://[::ffff:127.0.0.1]/cb',
      'may use http only with a loopback host (RFC 8252 §7.3); use https',
    ],
    [
      'http://localhost.example.com/cb',
      'may use http only with a loopback host (RFC 8252 §7.3); use https',
    ],
    [
      'http://127.0.0.1.nip.io/cb',
      'may use http only with a loopback host (RFC 8252 §7.3); use https',
    ],
    ['Com.Example.App:/cb', undefined],
    [
      'file:///etc/passwd',
      'must use https, http with a loopback host, or a private-use scheme in reverse domain name form such as com.example.app (RFC 8252 §7)',
    ],
    [
      'data:text/html,hi',
      'must use https, http with a loopback host, or a private-use scheme in reverse domain name form such as com.example.app (RFC 8252 §7)',
    ],
    ['1com.example:/cb', 'must be an absolute URI (RFC 3986 §4.3)'],
  ])('redirectUri %s', (value, expected) => {
    expect(redirectUri(value, {})).toBe(expected);
  });
});

describe('signingAlgorithm', () => {
  it.each(['RS256', 'PS384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS512'])(
    'accepts %s',
    (alg) => {
      expect(signingAlgorithm(alg, {})).toBeUndefined();
    },
  );

  it.each(['none', 'None', 'ES256K', 'RSA-OAEP', 'Ed448', 'HS1', ''])('refuses %p', (alg) => {
    expect(signingAlgorithm(alg, {})).toMatch(/^("none" is not accepted|must be one of)/);
  });
});
