import { describe, it, expect } from '@jest/globals';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import { importHmacKey, importVerificationKey } from './key-import.js';

describe('importVerificationKey', () => {
  it('imports a JWK once per (JWK object, alg) and again for an equal copy', async () => {
    const jwk = fixtureKey('ES256').publicJwk;
    const first = await importVerificationKey(jwk, 'ES256');
    expect(await importVerificationKey(jwk, 'ES256')).toBe(first);
    expect(await importVerificationKey({ ...jwk }, 'ES256')).not.toBe(first);
    expect(first.type).toBe('public');
    expect(first.extractable).toBe(false);
  });

  it('keeps one key per algorithm for one JWK (EdDSA and Ed25519)', async () => {
    const jwk = fixtureKey('EdDSA').publicJwk;
    const eddsa = await importVerificationKey(jwk, 'EdDSA');
    const ed25519 = await importVerificationKey(jwk, 'Ed25519');
    expect(ed25519).not.toBe(eddsa);
    expect(await importVerificationKey(jwk, 'Ed25519')).toBe(ed25519);
  });

  it('always yields a public key, even from a JWK holding private members', async () => {
    const { privateJwk } = fixtureKey('ES384');
    const key = await importVerificationKey(privateJwk, 'ES384');
    expect(key.type).toBe('public');
    expect(key.usages).toEqual(['verify']);
  });

  it('refuses symmetric JWKs and does not remember a failed import', async () => {
    await expect(importVerificationKey({ kty: 'oct', k: 'c2VjcmV0' }, 'HS256')).rejects.toThrow(
      TypeError,
    );
    const broken = { ...fixtureKey('ES256').publicJwk, x: 'AAAA' };
    const failed = importVerificationKey(broken, 'ES256');
    await expect(failed).rejects.toThrow();
    expect(importVerificationKey(broken, 'ES256')).not.toBe(failed);
    await expect(importVerificationKey(broken, 'ES256')).rejects.toThrow();
  });
});

describe('importHmacKey', () => {
  it('imports a secret once per (credential object, alg)', async () => {
    const credential = { id: 'c1' };
    const first = await importHmacKey(credential, 'x'.repeat(32), 'HS256');
    expect(await importHmacKey(credential, 'x'.repeat(32), 'HS256')).toBe(first);
    expect(await importHmacKey(credential, 'x'.repeat(32), 'HS384')).not.toBe(first);
    expect(await importHmacKey({ id: 'c1' }, 'x'.repeat(32), 'HS256')).not.toBe(first);
    expect(first.algorithm).toMatchObject({ name: 'HMAC', hash: { name: 'SHA-256' } });
    expect(first.usages).toEqual(['verify']);
  });

  it.each(['RS256', 'none', 'HS1'])('refuses %s', async (alg) => {
    await expect(importHmacKey({}, 'x'.repeat(64), alg)).rejects.toThrow(TypeError);
  });
});
