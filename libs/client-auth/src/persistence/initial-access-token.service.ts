import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager, QueryDeepPartialEntity } from 'typeorm';
import {
  digestSecret,
  generateOpaqueToken,
  secretMatchesDigest,
} from '../core/crypto/secret-digest.js';
import { DependencyUnavailableError, OAuthError } from '../core/errors.js';
import { AuditEventEntity } from './entities/audit-event.entity.js';
import { InitialAccessTokenEntity } from './entities/initial-access-token.entity.js';
import { runTransaction } from './serialized-transaction.js';

/** An initial access token as operators see it: never the token or its digest. */
export interface InitialAccessTokenInfo {
  readonly id: string;
  readonly description?: string;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly expiresAt?: Date;
  readonly maxUses?: number;
  readonly uses: number;
  readonly revokedAt?: Date;
  /** `active`, or why it no longer authorizes registrations. */
  readonly status: 'active' | 'expired' | 'used_up' | 'revoked';
}

/** Input of {@link InitialAccessTokenService.issue}. */
export interface IssueInitialAccessTokenInput {
  /** Lifetime in seconds (60 .. 31536000); none: no expiry. */
  readonly expiresInSeconds?: number;
  /** Registrations it may authorize (1 .. 1000000); none: unlimited. */
  readonly maxUses?: number;
  /** Operator's note, at most 255 characters. */
  readonly description?: string;
}

/** The error every refused initial access token gets (RFC 6750 §3.1; RFC 7591 §3). */
export function invalidInitialAccessToken(): OAuthError {
  return new OAuthError(
    'invalid_token',
    'the initial access token is missing, invalid, expired, revoked or used up',
  );
}

/**
 * Counts one use of an initial access token inside the caller's transaction: a single
 * conditional UPDATE, so concurrent registrations can never exceed `max_uses`. Throws
 * `invalid_token` when the token was revoked, expired or used up meanwhile.
 */
export async function consumeInitialAccessToken(
  manager: EntityManager,
  id: string,
  now: Date,
): Promise<void> {
  const result = await manager
    .createQueryBuilder()
    .update(InitialAccessTokenEntity)
    .set({ uses: () => 'uses + 1' })
    .where('id = :id', { id })
    .andWhere('revoked_at IS NULL')
    .andWhere('(expires_at IS NULL OR expires_at > :now)', { now: now.getTime() })
    .andWhere('(max_uses IS NULL OR uses < max_uses)')
    .execute();
  if (result.affected !== 1) throw invalidInitialAccessToken();
}

/**
 * Initial access tokens for RFC 7591 registration (SPEC S3), issued and revoked through the admin
 * API. Tokens are 256-bit random values returned once; only their SHA-256 digest is stored.
 *
 * @example
 * ```ts
 * const { token } = await tokens.issue({ expiresInSeconds: 3600, maxUses: 1 }, 'admin');
 * // hand `token` to the team that registers its service
 * ```
 */
export class InitialAccessTokenService {
  readonly #clock: () => Date;

  constructor(
    private readonly dataSource: DataSource,
    options: { readonly clock?: () => Date } = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Issues a token; the returned `token` is shown once. */
  async issue(
    input: IssueInitialAccessTokenInput = {},
    actor = 'system',
  ): Promise<{ readonly token: string; readonly info: InitialAccessTokenInfo }> {
    const { expiresInSeconds, maxUses, description } = input;
    if (
      expiresInSeconds !== undefined &&
      (!Number.isInteger(expiresInSeconds) ||
        expiresInSeconds < 60 ||
        expiresInSeconds > 31_536_000)
    ) {
      throw new OAuthError(
        'invalid_request',
        'expires_in: must be an integer between 60 and 31536000',
      );
    }
    if (
      maxUses !== undefined &&
      (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > 1_000_000)
    ) {
      throw new OAuthError('invalid_request', 'max_uses: must be an integer between 1 and 1000000');
    }
    if (
      description !== undefined &&
      (typeof description !== 'string' || description.length > 255)
    ) {
      throw new OAuthError('invalid_request', 'description: must be at most 255 characters');
    }
    const now = this.#clock();
    const token = generateOpaqueToken();
    const row = Object.assign(new InitialAccessTokenEntity(), {
      id: randomUUID(),
      tokenDigest: digestSecret(token),
      description: description ?? null,
      createdBy: actor.slice(0, 255),
      createdAt: now,
      expiresAt:
        expiresInSeconds === undefined ? null : new Date(now.getTime() + expiresInSeconds * 1000),
      maxUses: maxUses ?? null,
      uses: 0,
      revokedAt: null,
    } satisfies InitialAccessTokenEntity);
    await this.#write(async (manager) => {
      await manager.insert(InitialAccessTokenEntity, row);
      await auditToken(manager, now, actor, 'initial_access_token.issued', {
        initial_access_token_id: row.id,
        ...(row.expiresAt && { expires_at: row.expiresAt.toISOString() }),
        ...(row.maxUses !== null && { max_uses: row.maxUses }),
      });
    });
    return { token, info: toInfo(row, now) };
  }

  /**
   * Finds the stored token `token` names, if it still authorizes registrations. Read-only: the
   * use is counted by {@link consumeInitialAccessToken} in the registration's transaction.
   */
  async check(token: string): Promise<InitialAccessTokenInfo | undefined> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) return undefined;
    const digest = digestSecret(token);
    let row: InitialAccessTokenEntity | null;
    try {
      row = await this.dataSource
        .getRepository(InitialAccessTokenEntity)
        .findOneBy({ tokenDigest: digest });
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
    // The lookup is by digest (an index seek on a hash); the final comparison is constant-time.
    if (!row || !secretMatchesDigest(token, row.tokenDigest)) return undefined;
    const info = toInfo(row, this.#clock());
    return info.status === 'active' ? info : undefined;
  }

  /** Every token, newest first (without the token values). */
  async list(): Promise<InitialAccessTokenInfo[]> {
    const now = this.#clock();
    try {
      const rows = await this.dataSource
        .getRepository(InitialAccessTokenEntity)
        .find({ order: { createdAt: 'DESC', id: 'ASC' }, take: 1000 });
      return rows.map((row) => toInfo(row, now));
    } catch (cause) {
      throw new DependencyUnavailableError('client-registry', { cause });
    }
  }

  /** Revokes a token; revoking a revoked token changes nothing. Unknown id: `not_found`. */
  async revoke(id: string, actor = 'system'): Promise<InitialAccessTokenInfo> {
    const now = this.#clock();
    let result: InitialAccessTokenEntity | undefined;
    await this.#write(async (manager) => {
      const row = await manager.findOneBy(InitialAccessTokenEntity, { id });
      if (!row) throw new OAuthError('not_found', 'id: no such initial access token');
      result = row;
      if (row.revokedAt !== null) return;
      row.revokedAt = now;
      await manager.update(InitialAccessTokenEntity, { id }, { revokedAt: now });
      await auditToken(manager, now, actor, 'initial_access_token.revoked', {
        initial_access_token_id: id,
      });
    });
    return toInfo(result!, now);
  }

  async #write(work: (manager: EntityManager) => Promise<void>): Promise<void> {
    try {
      await runTransaction(this.dataSource, work);
    } catch (error) {
      if (error instanceof OAuthError) throw error;
      throw new DependencyUnavailableError('client-registry', { cause: error });
    }
  }
}

async function auditToken(
  manager: EntityManager,
  at: Date,
  actor: string,
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  const event = Object.assign(new AuditEventEntity(), {
    id: randomUUID(),
    at,
    actor: actor.slice(0, 255),
    action,
    clientId: null,
    details,
  } satisfies AuditEventEntity);
  await manager.insert(AuditEventEntity, event as QueryDeepPartialEntity<AuditEventEntity>);
}

function toInfo(row: InitialAccessTokenEntity, now: Date): InitialAccessTokenInfo {
  const status =
    row.revokedAt !== null
      ? 'revoked'
      : row.expiresAt !== null && row.expiresAt <= now
        ? 'expired'
        : row.maxUses !== null && row.uses >= row.maxUses
          ? 'used_up'
          : 'active';
  return {
    id: row.id,
    ...(row.description !== null && { description: row.description }),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    ...(row.expiresAt !== null && { expiresAt: row.expiresAt }),
    ...(row.maxUses !== null && { maxUses: row.maxUses }),
    uses: row.uses,
    ...(row.revokedAt !== null && { revokedAt: row.revokedAt }),
    status,
  };
}
