import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Revoked access tokens (RFC 7009, SPEC S4), SQLite. */
export class SqliteRevokedTokens1732522800000 implements MigrationInterface {
  /** Same name on every dialect, so the migrations table reads the same. */
  name = 'RevokedTokens1732522800000';

  /** Creates `oauth_revoked_token`. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "oauth_revoked_token" (
        "jti" varchar(255) PRIMARY KEY NOT NULL,
        "client_id" varchar(255) NOT NULL,
        "revoked_at" bigint NOT NULL,
        "expires_at" bigint NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_revoked_token_expires_at" ON "oauth_revoked_token" ("expires_at")`,
    );
  }

  /** Drops it. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_oauth_revoked_token_expires_at"`);
    await queryRunner.query(`DROP TABLE "oauth_revoked_token"`);
  }
}
