import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { ISSUER, NOW, NOW_S, TOKEN_ENDPOINT } from '../../../../../test/fixtures/keys/helpers.js';
import { fixtureKey } from '../../../../../test/fixtures/keys/index.js';
import {
  AssertionProviderError,
  ClientAuthConfigurationError,
} from '../outgoing/outgoing-errors.js';
import type { ClientAssertionContext } from './assertion-provider.interface.js';
import { ClientAssertionSigner } from './client-assertion-signer.js';
import { FederatedTokenAssertionProvider } from './federated-token-assertion-provider.js';
import { ProjectedTokenFileAssertionProvider } from './projected-token-file-assertion-provider.js';

const CONTEXT: ClientAssertionContext = {
  clientId: 'workload',
  issuer: ISSUER,
  tokenEndpoint: TOKEN_ENDPOINT,
  grantType: 'client_credentials',
};

/** A platform token (as a Kubernetes API server would issue), signed by a key of its own. */
async function platformToken(claims: { exp: number; sub?: string }): Promise<string> {
  const secret = new TextEncoder().encode('p'.repeat(32));
  return new SignJWT({ sub: claims.sub ?? 'system:serviceaccount:ns:sa' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://k8s.example')
    .setAudience(ISSUER)
    .setExpirationTime(claims.exp)
    .sign(secret);
}

describe('ClientAssertionSigner', () => {
  const key = { jwk: fixtureKey('ES256').privateJwk };

  it('signs for the context: issuer audience and typ by default', async () => {
    const signer = new ClientAssertionSigner({ key, clock: () => NOW });
    expect(signer.method).toBe('private_key_jwt');
    const assertion = await signer.getAssertion(CONTEXT);
    expect(decodeProtectedHeader(assertion).typ).toBe('client-authentication+jwt');
    expect(decodeJwt(assertion)).toMatchObject({
      iss: 'workload',
      sub: 'workload',
      aud: ISSUER,
      iat: NOW_S,
      exp: NOW_S + 60,
    });
  });

  it('with audience token_endpoint: the token endpoint URL, and no typ', async () => {
    const signer = new ClientAssertionSigner({
      key,
      audience: 'token_endpoint',
      lifetimeSeconds: 30,
    });
    const assertion = await signer.getAssertion(CONTEXT);
    expect(decodeJwt(assertion).aud).toBe(TOKEN_ENDPOINT);
    expect(decodeProtectedHeader(assertion).typ).toBeUndefined();
    const claims = decodeJwt(assertion);
    expect(claims.exp! - claims.iat!).toBe(30);
  });

  it('accepts an audience function and an explicit typ', async () => {
    const signer = new ClientAssertionSigner({
      key,
      audience: (ctx) => [ctx.issuer, ctx.tokenEndpoint],
      typ: 'JWT',
    });
    const assertion = await signer.getAssertion(CONTEXT);
    expect(decodeJwt(assertion).aud).toEqual([ISSUER, TOKEN_ENDPOINT]);
    expect(decodeProtectedHeader(assertion).typ).toBe('JWT');
  });

  it('is client_secret_jwt with a secret key', () => {
    expect(new ClientAssertionSigner({ key: { secret: 's'.repeat(32) } }).method).toBe(
      'client_secret_jwt',
    );
  });

  it.each([
    ['a lifetime above the cap', { key, lifetimeSeconds: 600 }],
    ['an unknown audience mode', { key, audience: 'resource' as never }],
    [
      'typ client-authentication+jwt with the token endpoint audience (rfc7523bis)',
      { key, audience: 'token_endpoint' as const, typ: 'application/client-authentication+jwt' },
    ],
  ])('refuses %s at construction', (_name, options) => {
    expect(() => new ClientAssertionSigner(options)).toThrow(ClientAuthConfigurationError);
  });
});

describe('FederatedTokenAssertionProvider', () => {
  it('forwards the platform token, asking for the issuer as its audience', async () => {
    const token = await platformToken({ exp: NOW_S + 600 });
    const seen: ClientAssertionContext[] = [];
    const provider = new FederatedTokenAssertionProvider({
      getToken: (ctx) => {
        seen.push(ctx);
        return token;
      },
      clock: () => NOW,
    });
    expect(await provider.getAssertion(CONTEXT)).toBe(token);
    expect(seen).toEqual([CONTEXT]);
  });

  it.each([
    ['an expired token', async () => platformToken({ exp: NOW_S - 1 }), /expired/],
    ['something that is not a JWT', async () => 'opaque-token', /compact JWT/],
    ['a JWT whose payload is not JSON', async () => 'a.b.c', /not JSON/],
    [
      'a failing callback',
      async () => {
        throw new Error('metadata server down');
      },
      /callback failed/,
    ],
  ])('refuses %s', async (_name, getToken, message) => {
    const provider = new FederatedTokenAssertionProvider({ getToken, clock: () => NOW });
    const error = await provider.getAssertion(CONTEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssertionProviderError);
    expect((error as Error).message).toMatch(message);
  });

  it('requires a callback', () => {
    expect(() => new FederatedTokenAssertionProvider({} as never)).toThrow(
      ClientAuthConfigurationError,
    );
  });
});

describe('ProjectedTokenFileAssertionProvider', () => {
  let dir: string;
  let path: string;
  let now: Date;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'projected-'));
    path = join(dir, 'token');
    now = NOW;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const provider = (refreshBeforeExpirySeconds?: number) =>
    new ProjectedTokenFileAssertionProvider({ path, refreshBeforeExpirySeconds, clock: () => now });

  it('re-reads the file when the kubelet rotates it', async () => {
    const first = await platformToken({ exp: NOW_S + 3600, sub: 'a' });
    writeFileSync(path, `${first}\n`);
    const tokens = provider();
    expect(await tokens.getAssertion(CONTEXT)).toBe(first);
    const second = await platformToken({ exp: NOW_S + 3600, sub: 'bb' });
    // The kubelet swaps a symlinked directory; a rename has the same effect on the path.
    writeFileSync(`${path}.new`, second);
    renameSync(`${path}.new`, path);
    expect(await tokens.getAssertion(CONTEXT)).toBe(second);
  });

  it('re-reads before the token expires even when the file looks unchanged', async () => {
    const first = await platformToken({ exp: NOW_S + 600, sub: 'x1' });
    const fixedTime = 1_700_000_000; // whole seconds, so the restored mtime is exact
    writeFileSync(path, first);
    utimesSync(path, fixedTime, fixedTime);
    const tokens = provider(60);
    expect(await tokens.getAssertion(CONTEXT)).toBe(first);
    const { ino } = statSync(path);
    // Same length, same mtime, same inode: only the expiry rule can notice the new token.
    const second = await platformToken({ exp: NOW_S + 600, sub: 'x2' });
    expect(second).toHaveLength(first.length);
    writeFileSync(path, second);
    utimesSync(path, fixedTime, fixedTime);
    expect(statSync(path).ino).toBe(ino);

    now = new Date((NOW_S + 500) * 1000); // 100 s before exp: outside the 60 s margin
    expect(await tokens.getAssertion(CONTEXT)).toBe(first);
    now = new Date((NOW_S + 541) * 1000); // 59 s before exp: inside it
    expect(await tokens.getAssertion(CONTEXT)).toBe(second);
  });

  it('never sends an expired token', async () => {
    writeFileSync(path, await platformToken({ exp: NOW_S + 10 }));
    const tokens = provider();
    now = new Date((NOW_S + 10) * 1000);
    await expect(tokens.getAssertion(CONTEXT)).rejects.toThrow(/has expired/);
  });

  it('fails clearly when the file is missing or holds no JWT', async () => {
    await expect(provider().getAssertion(CONTEXT)).rejects.toBeInstanceOf(AssertionProviderError);
    writeFileSync(path, 'not a token');
    await expect(provider().getAssertion(CONTEXT)).rejects.toThrow(/compact JWT/);
  });

  it('validates its options', () => {
    expect(() => new ProjectedTokenFileAssertionProvider({ path: '' })).toThrow(
      ClientAuthConfigurationError,
    );
    expect(
      () => new ProjectedTokenFileAssertionProvider({ path, refreshBeforeExpirySeconds: -1 }),
    ).toThrow(ClientAuthConfigurationError);
  });
});
