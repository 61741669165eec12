import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Every write to users, roles or tokens notifies `dynamo_users` (the payload is the schema) in its
 * own transaction, whoever makes it (another node, the CLI, psql): the token caches of all
 * processes on a PostgreSQL server forget what they hold when it commits (see `user_store.ts`).
 * A token's `last_used_ms`, rewritten once a minute as it is used, is left out: it changes no
 * one's rights.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE FUNCTION notify_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('dynamo_users', TG_TABLE_SCHEMA);
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
      FOR EACH STATEMENT EXECUTE FUNCTION notify_user_change();
    CREATE TRIGGER user_roles_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_roles
      FOR EACH STATEMENT EXECUTE FUNCTION notify_user_change();
    CREATE TRIGGER user_tokens_changed
      AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF id, user_id, token_hash, created_ms, revoked_ms
      ON user_tokens FOR EACH STATEMENT EXECUTE FUNCTION notify_user_change();
  `,
  );
}
