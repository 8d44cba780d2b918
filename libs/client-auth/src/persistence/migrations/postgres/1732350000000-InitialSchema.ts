import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Initial registry schema for PostgreSQL, SPEC S3/S5. Hand-written; the migration test checks it
 * matches the entities. Timestamps are epoch milliseconds (`bigint`), see
 * `entities/timestamp.column.ts`.
 */
export class PostgresInitialSchema1732350000000 implements MigrationInterface {
  /** Same name on every dialect, so the migrations table reads the same. */
  name = 'InitialSchema1732350000000';

  /** Creates the tables, indexes and constraints. */
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "oauth_client" (
        "client_id" character varying(255) NOT NULL,
        "enabled" boolean NOT NULL,
        "token_endpoint_auth_method" character varying(32) NOT NULL,
        "token_endpoint_auth_signing_alg" character varying(32),
        "jwks_uri" character varying(2048),
        "audience_policy" character varying(16),
        "require_string_audience" boolean NOT NULL,
        "max_assertion_lifetime" integer,
        "scope" text,
        "grant_types" text NOT NULL,
        "metadata" text NOT NULL,
        "registration_access_token_digest" character varying(128),
        "last_audience_form" character varying(32),
        "last_assertion_typ" character varying(255),
        "last_authenticated_at" bigint,
        "created_at" bigint NOT NULL,
        "updated_at" bigint NOT NULL,
        "version" integer NOT NULL,
        CONSTRAINT "PK_oauth_client" PRIMARY KEY ("client_id"),
        CONSTRAINT "CHK_oauth_client_audience_policy" CHECK ("audience_policy" IN ('compat', 'strict')),
        CONSTRAINT "CHK_oauth_client_method" CHECK ("token_endpoint_auth_method" IN ('client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'))
      )`,
    );
    await queryRunner.query(
      `CREATE TABLE "oauth_client_credential" (
        "id" character varying(36) NOT NULL,
        "client_id" character varying(255) NOT NULL,
        "kind" character varying(16) NOT NULL,
        "kid" character varying(255),
        "alg" character varying(32),
        "jwk" text,
        "secret_digest" character varying(128),
        "secret_ciphertext" text,
        "not_before" bigint NOT NULL,
        "expires_at" bigint,
        "status" character varying(16) NOT NULL,
        "last_used_at" bigint,
        "created_at" bigint NOT NULL,
        CONSTRAINT "PK_oauth_client_credential" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_oauth_client_credential_status" CHECK ("status" IN ('active', 'revoked')),
        CONSTRAINT "CHK_oauth_client_credential_kind" CHECK ("kind" IN ('public_key', 'secret_digest', 'secret')),
        CONSTRAINT "FK_oauth_client_credential_client" FOREIGN KEY ("client_id") REFERENCES "oauth_client" ("client_id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_client_credential_client_id" ON "oauth_client_credential" ("client_id")`,
    );
    // NULL kids are distinct in a unique index, so keys without a kid may coexist (SPEC S3).
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_oauth_client_credential_client_kid" ON "oauth_client_credential" ("client_id", "kid")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oauth_used_assertion" (
        "key" character varying(64) NOT NULL,
        "expires_at" bigint NOT NULL,
        CONSTRAINT "PK_oauth_used_assertion" PRIMARY KEY ("key")
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_used_assertion_expires_at" ON "oauth_used_assertion" ("expires_at")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oauth_audit_event" (
        "id" character varying(36) NOT NULL,
        "at" bigint NOT NULL,
        "actor" character varying(255) NOT NULL,
        "action" character varying(64) NOT NULL,
        "client_id" character varying(255),
        "details" text NOT NULL,
        CONSTRAINT "PK_oauth_audit_event" PRIMARY KEY ("id")
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_audit_event_at" ON "oauth_audit_event" ("at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_audit_event_client_id" ON "oauth_audit_event" ("client_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oauth_auth_failure" (
        "id" character varying(36) NOT NULL,
        "at" bigint NOT NULL,
        "client_id" character varying(255),
        "reason" character varying(64) NOT NULL,
        "method" character varying(32),
        "request_id" character varying(128),
        "detail" text NOT NULL,
        CONSTRAINT "PK_oauth_auth_failure" PRIMARY KEY ("id")
      )`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_auth_failure_at" ON "oauth_auth_failure" ("at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_oauth_auth_failure_client_id" ON "oauth_auth_failure" ("client_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "oauth_server_signing_key" (
        "kid" character varying(255) NOT NULL,
        "alg" character varying(32) NOT NULL,
        "status" character varying(16) NOT NULL,
        "private_jwk_ciphertext" text NOT NULL,
        "public_jwk" text NOT NULL,
        "created_at" bigint NOT NULL,
        "not_after" bigint,
        CONSTRAINT "PK_oauth_server_signing_key" PRIMARY KEY ("kid"),
        CONSTRAINT "CHK_oauth_server_signing_key_status" CHECK ("status" IN ('current', 'next', 'retiring'))
      )`,
    );
  }

  /** Drops everything `up` created (indexes and constraints go with their tables). */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "oauth_server_signing_key"`);
    await queryRunner.query(`DROP TABLE "oauth_auth_failure"`);
    await queryRunner.query(`DROP TABLE "oauth_audit_event"`);
    await queryRunner.query(`DROP TABLE "oauth_used_assertion"`);
    await queryRunner.query(`DROP TABLE "oauth_client_credential"`);
    await queryRunner.query(`DROP TABLE "oauth_client"`);
  }
}
