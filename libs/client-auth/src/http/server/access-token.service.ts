import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { compactVerify, decodeProtectedHeader, importJWK, type CryptoKey } from 'jose';
import { signAccessToken, type IssuedAccessToken } from '../../core/tokens/access-token.js';
import { RevocationStore } from '../../core/tokens/revocation-store.interface.js';
import { ServerKeyService } from '../../persistence/server-key.service.js';
import { OAUTH_SERVER_OPTIONS, type OAuthServerOptions } from './oauth-server.options.js';

/** A JWS Compact Serialization: three non-empty base64url parts (RFC 7515 §7.1). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Claims of an access token this server issued and still considers valid. */
export interface ActiveAccessToken {
  readonly jti: string;
  readonly clientId: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly expiresAt: Date;
}

/**
 * Issues RFC 9068 access tokens with the current server key and recognises the server's own
 * tokens (signature with any published key, `typ`, `iss`, `exp`) for introspection and
 * revocation.
 */
@Injectable()
export class AccessTokenService implements OnModuleInit, OnApplicationShutdown {
  readonly #publicKeys = new Map<string, Promise<CryptoKey>>();
  #purgeTimer?: NodeJS.Timeout;

  constructor(
    readonly keys: ServerKeyService,
    @Inject(RevocationStore) private readonly revocations: RevocationStore,
    @Inject(OAUTH_SERVER_OPTIONS) private readonly options: OAuthServerOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.keys.start();
    // Revocations are kept until the token's exp; drop expired rows every ten minutes.
    this.#purgeTimer = setInterval(() => {
      this.revocations.purgeExpired?.().catch(() => undefined);
    }, 600_000);
    this.#purgeTimer.unref();
  }

  onApplicationShutdown(): void {
    this.keys.stop();
    if (this.#purgeTimer) clearInterval(this.#purgeTimer);
  }

  /** Lifetime of issued tokens, in seconds. */
  get ttlSeconds(): number {
    return this.options.accessToken?.ttlSeconds ?? 300;
  }

  /** Signs a token for `clientId` about `subject`. */
  issue(input: {
    clientId: string;
    subject: string;
    scope?: string;
    audience?: readonly string[];
  }): Promise<IssuedAccessToken> {
    return signAccessToken(this.keys.signingKey(), {
      issuer: this.options.issuer,
      clientId: input.clientId,
      subject: input.subject,
      audience:
        input.audience && input.audience.length > 0
          ? input.audience
          : (this.options.accessToken?.audience ?? this.options.issuer),
      ...(input.scope !== undefined && { scope: input.scope }),
      ttlSeconds: this.ttlSeconds,
    });
  }

  /**
   * The token's claims when it is one of ours, unexpired and not revoked; undefined otherwise
   * (malformed, foreign, tampered, expired, revoked — RFC 7662 §2.2 does not distinguish).
   */
  async active(token: string, now = new Date()): Promise<ActiveAccessToken | undefined> {
    const claims = await this.verifyOwn(token);
    if (!claims) return undefined;
    const exp = claims.exp as number;
    if (exp * 1000 <= now.getTime()) return undefined;
    if (typeof claims.nbf === 'number' && claims.nbf * 1000 > now.getTime() + 30_000)
      return undefined;
    if (await this.revocations.isRevoked(claims.jti as string)) return undefined;
    return {
      jti: claims.jti as string,
      clientId: claims.client_id as string,
      claims,
      expiresAt: new Date(exp * 1000),
    };
  }

  /** Signature, `typ`, `iss` and claim shapes of one of our tokens; expiry is not checked here. */
  async verifyOwn(token: string): Promise<Record<string, unknown> | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) return undefined;
    // RFC 7515 §7.1: three base64url parts, nothing else. The base64url decoder skips other
    // characters and ignores pad bits, so without this check `a.b. c` or a re-spelled last
    // character would verify as the token `a.b.c`.
    if (!COMPACT_JWS.test(token)) return undefined;
    const signature = token.slice(token.lastIndexOf('.') + 1);
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) return undefined;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return undefined;
    }
    if (header.typ !== 'at+jwt' || typeof header.kid !== 'string') return undefined;
    const key = this.keys.publishedKeys().find((candidate) => candidate.kid === header.kid);
    if (!key || header.alg !== key.alg) return undefined;
    try {
      const verifier = await this.#publicKey(key.kid, key.publicJwk, key.alg);
      const { payload } = await compactVerify(token, verifier, { algorithms: [key.alg] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      if (
        claims.iss !== this.options.issuer ||
        typeof claims.jti !== 'string' ||
        typeof claims.client_id !== 'string' ||
        typeof claims.exp !== 'number'
      ) {
        return undefined;
      }
      return claims;
    } catch {
      return undefined;
    }
  }

  /** Records a revocation until the token's own expiry. */
  async revoke(active: ActiveAccessToken): Promise<void> {
    await this.revocations.revoke(active.jti, active.expiresAt, active.clientId);
  }

  #publicKey(kid: string, jwk: object, alg: string): Promise<CryptoKey> {
    let key = this.#publicKeys.get(kid);
    if (!key) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      this.#publicKeys.set(kid, key);
      key.catch(() => this.#publicKeys.delete(kid));
    }
    return key;
  }
}
