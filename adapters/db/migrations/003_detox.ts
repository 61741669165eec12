import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Detox: locks (registry), dataset accesses (popularity), cycle history with
 * every decision and the line that made it, and deletion operations for the
 * file-operations layer. History rows keep names, not ids, so they outlive
 * the inventory objects they describe.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE detox_locks (
      id serial PRIMARY KEY, item text NOT NULL, sites jsonb NOT NULL, groups jsonb NOT NULL, user_name text NOT NULL,
      service text, comment text, created_ms bigint NOT NULL, expires_ms bigint NOT NULL, unlocked_ms bigint
    );
    CREATE INDEX detox_locks_active ON detox_locks (expires_ms) WHERE unlocked_ms IS NULL;
    CREATE TABLE dataset_accesses (
      dataset text NOT NULL, site text NOT NULL, day bigint NOT NULL, accesses integer NOT NULL,
      PRIMARY KEY (dataset, site, day)
    );
    CREATE INDEX dataset_accesses_day ON dataset_accesses (day);
    CREATE TABLE detox_policies (hash text PRIMARY KEY, partition text NOT NULL, text text NOT NULL, created_ms bigint NOT NULL);
    CREATE TABLE detox_cycles (
      id serial PRIMARY KEY, partition text NOT NULL, mode text NOT NULL, policy_hash text NOT NULL,
      generation bigint NOT NULL, started_ms bigint NOT NULL, ended_ms bigint, time_shift_days double precision NOT NULL,
      comment text, status text NOT NULL, iterations integer, evaluations integer, deleted_bytes bigint,
      committed_generation bigint, unmatched_lines jsonb
    );
    CREATE INDEX detox_cycles_partition ON detox_cycles (partition, id);
    CREATE TABLE detox_decisions (
      cycle_id integer NOT NULL, site text NOT NULL, dataset text NOT NULL, decision text NOT NULL, line integer NOT NULL,
      size bigint NOT NULL, num_blocks integer NOT NULL, blocks jsonb NOT NULL
    );
    CREATE INDEX detox_decisions_site ON detox_decisions (cycle_id, site);
    CREATE INDEX detox_decisions_dataset ON detox_decisions (cycle_id, dataset);
    CREATE TABLE detox_sites (
      cycle_id integer NOT NULL, site text NOT NULL, status text NOT NULL, quota bigint NOT NULL,
      used_before bigint NOT NULL, used_after bigint NOT NULL, triggered boolean NOT NULL, still_triggered boolean NOT NULL,
      protected_bytes bigint NOT NULL, deleted_bytes bigint NOT NULL, kept_bytes bigint NOT NULL,
      PRIMARY KEY (cycle_id, site)
    );
    CREATE TABLE replica_operations (
      id bigserial PRIMARY KEY, kind text NOT NULL CHECK (kind IN ('copy', 'deletion')), cycle_id integer,
      request_id integer, site text NOT NULL, dataset text NOT NULL, blocks jsonb, size bigint NOT NULL,
      status text NOT NULL, created_ms bigint NOT NULL, updated_ms bigint NOT NULL
    );
    CREATE INDEX replica_operations_status ON replica_operations (status, id);
  `,
  );
}
