import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Poison injections: how many times a queued injection was handed to the
 * writer, and why its last attempt failed. An injection that fails to apply
 * twice is moved aside (status `failed`) so that the queue goes on.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE data_injections ADD COLUMN attempts integer NOT NULL DEFAULT 0;
    ALTER TABLE data_injections ADD COLUMN last_error text;
  `,
  );
}
