import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/** The asynchronous injection queue and the users, roles and hashed tokens of the registry. */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE data_injections (
      id bigserial PRIMARY KEY, created_ms bigint NOT NULL, user_name text NOT NULL, kind text NOT NULL,
      payload jsonb NOT NULL, status text NOT NULL, result jsonb, applied_seq bigint, updated_ms bigint NOT NULL
    );
    CREATE INDEX data_injections_queued ON data_injections (id) WHERE status = 'queued';
    CREATE TABLE users (
      id serial PRIMARY KEY, name text NOT NULL UNIQUE, email text, dn text UNIQUE,
      created_ms bigint NOT NULL, revoked_ms bigint
    );
    CREATE TABLE user_roles (
      user_id integer NOT NULL, role text NOT NULL, target text NOT NULL, PRIMARY KEY (user_id, role, target)
    );
    CREATE TABLE user_tokens (
      id serial PRIMARY KEY, user_id integer NOT NULL, token_hash text NOT NULL UNIQUE,
      created_ms bigint NOT NULL, revoked_ms bigint, last_used_ms bigint
    );
  `,
  );
}
