import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * File operations (spec §5): per-file subscriptions with their task state
 * (while `inbatch`: queued → staging → active under a lease, so a worker that
 * dies gives its task back), the failures per (subscription, source) that
 * source selection reads, and the history of every finished transfer and
 * deletion.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE file_subscriptions (
      id bigserial PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('copy', 'deletion')),
      site text NOT NULL, lfn text NOT NULL, dataset text NOT NULL, block text NOT NULL,
      size bigint NOT NULL, adler32 text, operation_id bigint,
      status text NOT NULL CHECK (status IN ('new', 'inbatch', 'done', 'retry', 'held', 'cancelled')),
      hold_reason text CHECK (hold_reason IN ('no_source', 'all_failed', 'site_unavailable')),
      source text, task_state text CHECK (task_state IN ('queued', 'staging', 'active')),
      lease_until_ms bigint, worker text, attempts integer NOT NULL DEFAULT 0,
      next_attempt_ms bigint NOT NULL DEFAULT 0, created_ms bigint NOT NULL, updated_ms bigint NOT NULL,
      UNIQUE (lfn, site, kind)
    );
    CREATE INDEX file_subscriptions_status ON file_subscriptions (status, kind, site);
    CREATE INDEX file_subscriptions_operation ON file_subscriptions (operation_id);
    CREATE TABLE file_failures (
      subscription_id bigint NOT NULL, source text, code text NOT NULL, exit_code integer NOT NULL,
      recoverable boolean NOT NULL, message text NOT NULL, at_ms bigint NOT NULL, seq bigserial
    );
    CREATE INDEX file_failures_subscription ON file_failures (subscription_id);
    CREATE TABLE file_transfers (
      id bigserial PRIMARY KEY, lfn text NOT NULL, source text NOT NULL, destination text NOT NULL,
      size bigint NOT NULL, exit_code integer NOT NULL, code text, message text,
      started_ms bigint NOT NULL, finished_ms bigint NOT NULL
    );
    CREATE INDEX file_transfers_finished ON file_transfers (finished_ms);
    CREATE TABLE file_deletions (
      id bigserial PRIMARY KEY, lfn text NOT NULL, site text NOT NULL, size bigint NOT NULL,
      exit_code integer NOT NULL, code text, message text, started_ms bigint NOT NULL, finished_ms bigint NOT NULL
    );
    CREATE INDEX file_deletions_finished ON file_deletions (finished_ms);
  `,
  );
}
