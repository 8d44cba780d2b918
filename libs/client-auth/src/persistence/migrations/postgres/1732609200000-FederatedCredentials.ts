import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Federated credentials (SPEC S9), PostgreSQL. */
export class PostgresFederatedCredentials1732609200000 implements MigrationInterface {
  /** Same name on every dialect, so the migrations table reads the same. */
  name = 'FederatedCredentials1732609200000';

  /** Creates `oauth_federated_credential`. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "oauth_federated_credential" (
        "id" character varying(36) NOT NULL,
        "client_id" character varying(255) NOT NULL,
        "name" character varying(255),
        "issuer" character varying(512) NOT NULL,
        "jwks_uri" character varying(2048),
        "jwks" text,
        "subject" character varying(512) NOT NULL,
        "audience" character varying(512) NOT NULL,
        "required_claims" text NOT NULL,
        "max_lifetime" integer,
        "replay_policy" character varying(32) NOT NULL,
        "status" character varying(16) NOT NULL,
        "not_before" bigint NOT NULL,
        "expires_at" bigint,
        "last_used_at" bigint,
        "created_at" bigint NOT NULL,
        CONSTRAINT "PK_oauth_federated_credential" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_oauth_federated_credential_replay" CHECK ("replay_policy" IN ('single_use', 'reuse_within_lifetime')),
        CONSTRAINT "CHK_oauth_federated_credential_status" CHECK ("status" IN ('active', 'revoked')),
        CONSTRAINT "FK_oauth_federated_credential_client" FOREIGN KEY ("client_id") REFERENCES "oauth_client" ("client_id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_federated_credential_client_id" ON "oauth_federated_credential" ("client_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_federated_credential_issuer" ON "oauth_federated_credential" ("issuer")`,
    );
  }

  /** Drops it. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_oauth_federated_credential_issuer"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_oauth_federated_credential_client_id"`);
    await queryRunner.query(`DROP TABLE "oauth_federated_credential"`);
  }
}
