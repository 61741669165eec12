import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Parallel servers on one PostgreSQL (docs/cluster.md):
 * - `cluster_nodes`: one row per `start` process (id from nanoid), with the
 *   address it serves on, its heartbeat and how far it has followed the journal.
 * - `cluster_lease`: the single writer lease. Who holds it is decided by a
 *   PostgreSQL advisory lock on a dedicated session; this row keeps the
 *   fencing generation, bumped by every new holder and checked by every
 *   inventory commit, so a deposed leader cannot write.
 * - `cluster_idempotency`: answers to writes by their `Idempotency-Key`,
 *   remembered for a day, so that a retried write is applied once.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE cluster_nodes (
      id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, version text NOT NULL,
      url text, role text NOT NULL CHECK (role IN ('starting', 'follower', 'leader', 'stopped')),
      started_ms bigint NOT NULL, heartbeat_ms bigint NOT NULL, journal_seq bigint NOT NULL DEFAULT 0,
      lease_changes integer NOT NULL DEFAULT 0
    );
    CREATE TABLE cluster_lease (
      id integer PRIMARY KEY CHECK (id = 1), generation bigint NOT NULL, holder text,
      acquired_ms bigint, changes bigint NOT NULL DEFAULT 0
    );
    INSERT INTO cluster_lease (id, generation, holder, acquired_ms) VALUES (1, 0, NULL, NULL);
    CREATE TABLE cluster_idempotency (
      key text PRIMARY KEY, node text NOT NULL, status integer, content_type text, body text,
      generation bigint, created_ms bigint NOT NULL
    );
    CREATE INDEX cluster_idempotency_created ON cluster_idempotency (created_ms);
  `,
  );
}
