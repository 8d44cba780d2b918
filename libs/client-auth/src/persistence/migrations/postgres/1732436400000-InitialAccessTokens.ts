import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Initial access tokens for dynamic registration (SPEC S3), PostgreSQL. */
export class PostgresInitialAccessTokens1732436400000 implements MigrationInterface {
  /** Same name on every dialect, so the migrations table reads the same. */
  name = 'InitialAccessTokens1732436400000';

  /** Creates `oauth_initial_access_token`. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "oauth_initial_access_token" (
        "id" character varying(36) NOT NULL,
        "token_digest" character varying(128) NOT NULL,
        "description" character varying(255),
        "created_by" character varying(255) NOT NULL,
        "created_at" bigint NOT NULL,
        "expires_at" bigint,
        "max_uses" integer,
        "uses" integer NOT NULL,
        "revoked_at" bigint,
        CONSTRAINT "PK_oauth_initial_access_token" PRIMARY KEY ("id")
      )`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_oauth_initial_access_token_digest" ON "oauth_initial_access_token" ("token_digest")`,
    );
  }

  /** Drops it. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."UQ_oauth_initial_access_token_digest"`);
    await queryRunner.query(`DROP TABLE "oauth_initial_access_token"`);
  }
}
