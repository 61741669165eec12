import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Dealer: copy and deletion requests (the request row keeps its items, sites
 * and actions as JSON: a request is read and written whole), application
 * locks, job demand, and the cycle history with every proposal's fate.
 * Requests in terminal states stay as history.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    CREATE TABLE copy_requests (
      id serial PRIMARY KEY, user_name text NOT NULL, group_name text, n integer NOT NULL, items jsonb NOT NULL,
      sites jsonb NOT NULL, status text NOT NULL, reason text, actions jsonb NOT NULL, created_ms bigint NOT NULL,
      updated_ms bigint NOT NULL, last_request_ms bigint NOT NULL, request_count integer NOT NULL
    );
    CREATE INDEX copy_requests_open ON copy_requests (id) WHERE status IN ('new', 'activated');
    CREATE TABLE deletion_requests (
      id serial PRIMARY KEY, user_name text NOT NULL, items jsonb NOT NULL, sites jsonb NOT NULL,
      status text NOT NULL, reason text, actions jsonb NOT NULL, created_ms bigint NOT NULL,
      updated_ms bigint NOT NULL, last_request_ms bigint NOT NULL, request_count integer NOT NULL
    );
    CREATE INDEX deletion_requests_open ON deletion_requests (id) WHERE status IN ('new', 'activated');
    CREATE TABLE app_locks (
      app text PRIMARY KEY, user_name text NOT NULL, service text, note text, since_ms bigint NOT NULL
    );
    CREATE TABLE job_demand (
      dataset text NOT NULL, queued bigint NOT NULL, jobs integer NOT NULL, PRIMARY KEY (dataset, queued)
    );
    CREATE INDEX job_demand_queued ON job_demand (queued);
    CREATE TABLE dealer_cycles (
      id serial PRIMARY KEY, partition text NOT NULL, mode text NOT NULL, status text NOT NULL,
      generation bigint NOT NULL, committed_generation bigint, started_ms bigint NOT NULL, ended_ms bigint,
      targets integer, accepted integer, rejected integer, bytes bigint, rejections jsonb, comment text, error text
    );
    CREATE TABLE dealer_decisions (
      cycle_id integer NOT NULL, seq integer NOT NULL, plugin text NOT NULL, dataset text NOT NULL, blocks jsonb,
      site text, accepted boolean NOT NULL, reason text NOT NULL, why text NOT NULL, bytes bigint NOT NULL,
      request_id integer, PRIMARY KEY (cycle_id, seq)
    );
    CREATE INDEX dealer_decisions_dataset ON dealer_decisions (dataset, cycle_id);
  `,
  );
}
