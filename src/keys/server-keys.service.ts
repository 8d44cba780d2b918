import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { SecretCipher, ServerSigningKeyEntity, signingKeyAad as aad } from 'nestjs-client-auth';
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { InjectAppConfig } from '../config/app-config.token.js';

/** A private signing key ready for use. */
export interface ServerSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const DEFAULT_ALG = 'ES256';

/**
 * The server's signing keys (SPEC S4): from `SIGNING_KEYS`, or generated on first start and
 * persisted encrypted in `oauth_server_signing_key` so every instance and restart uses the same.
 */
@Injectable()
export class ServerKeysService implements OnModuleInit {
  private readonly logger = new Logger('ServerKeys');
  private keys: ServerSigningKey[] = [];

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: SecretCipher,
  ) {}

  async onModuleInit(): Promise<void> {
    this.keys = this.config.signingKeys
      ? await Promise.all(this.config.signingKeys.keys.map((jwk) => importPrivate(jwk as JWK)))
      : await this.loadOrGenerate();
  }

  /** The key new tokens are signed with. */
  signingKey(): ServerSigningKey {
    const key = this.keys[0];
    if (!key) throw new Error('server signing keys are not loaded');
    return key;
  }

  /** The public JWKS (RFC 7517 §5) of every published key. */
  publicJwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  private async loadOrGenerate(): Promise<ServerSigningKey[]> {
    const repository = this.dataSource.getRepository(ServerSigningKeyEntity);
    let rows = await repository.find({ order: { createdAt: 'ASC' } });
    if (!rows.some((row) => row.status === 'current')) {
      const generated = await generateKey(DEFAULT_ALG);
      const privateJwk = {
        ...(await exportJWK(generated.privateKey)),
        kid: generated.kid,
        alg: DEFAULT_ALG,
      };
      await repository.insert({
        kid: generated.kid,
        alg: DEFAULT_ALG,
        status: 'current',
        createdAt: new Date(),
        privateJwkCiphertext: this.cipher.encrypt(JSON.stringify(privateJwk), aad(generated.kid)),
        publicJwk: publicPart(privateJwk),
      });
      this.logger.log(`generated server signing key ${generated.kid} (${DEFAULT_ALG})`);
      // Another instance may have generated one at the same moment: everyone uses the oldest.
      rows = await repository.find({ order: { createdAt: 'ASC' } });
    }
    const ordered = [
      ...rows.filter((row) => row.status === 'current'),
      ...rows.filter((row) => row.status !== 'current'),
    ];
    return Promise.all(
      ordered.map((row) =>
        importPrivate(
          JSON.parse(this.cipher.decrypt(row.privateJwkCiphertext, aad(row.kid))) as JWK,
        ),
      ),
    );
  }
}

async function generateKey(alg: string): Promise<{ kid: string; privateKey: CryptoKey }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid: randomBytes(12).toString('base64url'), privateKey };
}

function publicPart(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk, use: 'sig' };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  return copy as JWK;
}

async function importPrivate(jwk: JWK): Promise<ServerSigningKey> {
  if (!jwk.alg || !jwk.kid) throw new Error('server signing keys need "alg" and "kid"');
  const privateKey = (await importJWK(jwk, jwk.alg)) as CryptoKey;
  return { kid: jwk.kid, alg: jwk.alg, privateKey, publicJwk: publicPart(jwk) };
}
