import type { DataSource } from 'typeorm';
import { DependencyUnavailableError } from '../core/errors.js';
import type { RevocationStore } from '../core/tokens/revocation-store.interface.js';
import { isUniqueViolation } from './database-errors.js';
import { RevokedTokenEntity } from './entities/revoked-token.entity.js';
import { serializeWrite } from './serialized-transaction.js';

/**
 * {@link RevocationStore} on the registry's database (SPEC S4): one row per revoked `jti`, so a
 * revocation holds across restarts and for every instance sharing the database. Checks are a
 * primary-key lookup.
 */
export class TypeOrmRevocationStore implements RevocationStore {
  constructor(private readonly dataSource: DataSource) {}

  async revoke(jti: string, expiresAt: Date, clientId: string): Promise<void> {
    try {
      await serializeWrite(this.dataSource, () =>
        this.dataSource
          .createQueryBuilder()
          .insert()
          .into(RevokedTokenEntity)
          .values({ jti, clientId, revokedAt: new Date(), expiresAt })
          .updateEntity(false)
          .execute(),
      );
    } catch (error) {
      if (isUniqueViolation(error)) return; // Already revoked: idempotent (RFC 7009 §2.2).
      throw new DependencyUnavailableError('revocation-store', { cause: error });
    }
  }

  async isRevoked(jti: string): Promise<boolean> {
    try {
      return await this.dataSource.getRepository(RevokedTokenEntity).existsBy({ jti });
    } catch (error) {
      throw new DependencyUnavailableError('revocation-store', { cause: error });
    }
  }

  async purgeExpired(now = new Date()): Promise<number> {
    try {
      const result = await serializeWrite(this.dataSource, () =>
        this.dataSource
          .createQueryBuilder()
          .delete()
          .from(RevokedTokenEntity)
          .where('expires_at < :now', { now: now.getTime() })
          .execute(),
      );
      return result.affected ?? 0;
    } catch (error) {
      throw new DependencyUnavailableError('revocation-store', { cause: error });
    }
  }
}
