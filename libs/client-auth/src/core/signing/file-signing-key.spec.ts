import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { ISSUER } from '../../../../../test/fixtures/keys/helpers.js';
import { fixtureKey, type FixtureAlg } from '../../../../../test/fixtures/keys/index.js';
import { SigningKeyError } from '../outgoing/outgoing-errors.js';
import { FileSigningKeySource, parseKeyFile } from './file-signing-key.js';
import { signClientAssertion } from './sign-client-assertion.js';

const pemOf = (fixture: FixtureAlg, index: 0 | 1 = 0): string =>
  createPrivateKey({ key: fixtureKey(fixture, index).privateJwk as JsonWebKey, format: 'jwk' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

async function signedBy(assertion: string, publicJwk: JWK): Promise<boolean> {
  const { alg } = decodeProtectedHeader(assertion);
  try {
    await compactVerify(assertion, await importJWK({ ...publicJwk, alg }, alg));
    return true;
  } catch {
    return false;
  }
}

describe('FileSigningKeySource', () => {
  let dir: string;
  let path: string;
  const sources: FileSigningKeySource[] = [];
  const open = (...args: ConstructorParameters<typeof FileSigningKeySource>) => {
    const source = new FileSigningKeySource(...args);
    sources.push(source);
    return source;
  };
  const sign = (source: FileSigningKeySource) =>
    signClientAssertion({ clientId: 'svc', audience: ISSUER, key: source });
  /** Replaces the file atomically, as secret managers and Kubernetes do. */
  const replace = (content: string) => {
    const next = `${path}.next`;
    writeFileSync(next, content);
    renameSync(next, path);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'key-file-'));
    path = join(dir, 'client.key');
  });
  afterEach(() => {
    for (const source of sources.splice(0)) source.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('picks up a rotated PEM file without a restart', async () => {
    writeFileSync(path, pemOf('ES256', 0));
    let reloaded!: () => void;
    const onReload = new Promise<void>((resolve) => (reloaded = resolve));
    const source = open(path, { kid: 'k', checkIntervalMs: 20, onReload: () => reloaded() });
    expect(await signedBy(await sign(source), fixtureKey('ES256', 0).publicJwk)).toBe(true);

    replace(pemOf('ES256', 1));
    await onReload;
    const after = await sign(source);
    expect(await signedBy(after, fixtureKey('ES256', 1).publicJwk)).toBe(true);
    expect(await signedBy(after, fixtureKey('ES256', 0).publicJwk)).toBe(false);
  });

  it('follows a JWK file to a new kid and even a new key type', async () => {
    writeFileSync(path, JSON.stringify(fixtureKey('ES256').privateJwk));
    const source = open(path, { checkIntervalMs: 0 });
    expect(decodeProtectedHeader(await sign(source))).toMatchObject({
      alg: 'ES256',
      kid: fixtureKey('ES256').kid,
    });
    replace(JSON.stringify(fixtureKey('EdDSA').privateJwk));
    expect(await source.check()).toBe(true);
    const after = await sign(source);
    expect(decodeProtectedHeader(after)).toMatchObject({
      alg: 'EdDSA',
      kid: fixtureKey('EdDSA').kid,
    });
    expect(await signedBy(after, fixtureKey('EdDSA').publicJwk)).toBe(true);
    expect(await source.check()).toBe(false); // unchanged since
  });

  it('signs without touching the disk: the file may vanish between checks', async () => {
    writeFileSync(path, pemOf('RS256'));
    const source = open(path, { checkIntervalMs: 0 });
    unlinkSync(path);
    expect(await signedBy(await sign(source), fixtureKey('RS256').publicJwk)).toBe(true);
  });

  it('keeps the previous key when the new file is broken, and reports it once', async () => {
    writeFileSync(path, pemOf('ES256'));
    const errors: SigningKeyError[] = [];
    const source = open(path, { checkIntervalMs: 0, onError: (error) => errors.push(error) });
    replace('-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n');
    expect(await source.check()).toBe(false);
    expect(await source.check()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('key_invalid');
    expect(await signedBy(await sign(source), fixtureKey('ES256').publicJwk)).toBe(true);
    // Fixed again: picked up.
    replace(pemOf('ES256', 1));
    expect(await source.check()).toBe(true);
    expect(await signedBy(await sign(source), fixtureKey('ES256', 1).publicJwk)).toBe(true);
  });

  it('keeps the key while the file is briefly missing', async () => {
    writeFileSync(path, pemOf('ES256'));
    const errors: SigningKeyError[] = [];
    const source = open(path, { checkIntervalMs: 0, onError: (error) => errors.push(error) });
    unlinkSync(path);
    expect(await source.check()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(await signedBy(await sign(source), fixtureKey('ES256').publicJwk)).toBe(true);
  });

  it('shares one check between concurrent callers', async () => {
    writeFileSync(path, pemOf('ES256'));
    let reloads = 0;
    const source = open(path, { checkIntervalMs: 0, onReload: () => reloads++ });
    replace(pemOf('ES256', 1));
    const results = await Promise.all([source.check(), source.check(), source.check()]);
    expect(results).toEqual([true, true, true]);
    expect(reloads).toBe(1);
  });

  it('fails at construction when the file is missing or unusable', () => {
    expect(() => open(join(dir, 'absent.pem'))).toThrow(SigningKeyError);
    writeFileSync(path, JSON.stringify(fixtureKey('ES256').publicJwk));
    expect(() => open(path)).toThrow(/no private part/);
    writeFileSync(path, pemOf('ES256'));
    expect(() => open(path, { checkIntervalMs: -1 })).toThrow(SigningKeyError);
  });

  it('reload() re-reads on demand', async () => {
    writeFileSync(path, pemOf('ES256'));
    const source = open(path, { checkIntervalMs: 0 });
    writeFileSync(path, pemOf('ES256', 1));
    await source.reload();
    expect(await signedBy(await sign(source), fixtureKey('ES256', 1).publicJwk)).toBe(true);
  });
});

describe('parseKeyFile', () => {
  it('chooses a JWK Set member by kid, or its only private key', () => {
    const a = fixtureKey('ES256', 0);
    const b = fixtureKey('ES256', 1);
    const jwks = JSON.stringify({ keys: [a.privateJwk, b.privateJwk, a.publicJwk] });
    expect(parseKeyFile(jwks, { kid: b.kid }).kid).toBe(b.kid);
    expect(() => parseKeyFile(jwks)).toThrow(/exactly one private key/);
    expect(parseKeyFile(JSON.stringify({ keys: [a.privateJwk, b.publicJwk] })).kid).toBe(a.kid);
    expect(() => parseKeyFile(jwks, { kid: 'nope' })).toThrow(/kid "nope"/);
  });

  it('refuses JSON that is not a key', () => {
    expect(() => parseKeyFile('{ not json')).toThrow(/neither a PEM nor JSON/);
  });
});
