import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import type { AppConfig } from '../config/app-config.js';
import { InjectAppConfig } from '../config/app-config.token.js';
import { ServerKeysService } from '../keys/server-keys.service.js';

/** An issued access token. */
export interface IssuedAccessToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly jti: string;
}

/**
 * Issues RFC 9068 JWT access tokens: `typ: at+jwt`, `iss`, `sub` (the client, as there is no
 * resource owner in `client_credentials`), `client_id`, `aud`, `scope`, `exp`, `iat`, `jti`.
 */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly keys: ServerKeysService,
  ) {}

  async issue(input: {
    clientId: string;
    scope?: string;
    audience?: string;
  }): Promise<IssuedAccessToken> {
    const key = this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const jti = randomBytes(16).toString('base64url');
    const ttl = this.config.accessTokenTtlSeconds;
    const token = await new SignJWT({
      client_id: input.clientId,
      ...(input.scope ? { scope: input.scope } : {}),
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.config.issuer)
      .setSubject(input.clientId)
      .setAudience(input.audience ?? this.config.accessTokenAudience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, expiresIn: ttl, jti };
  }
}
