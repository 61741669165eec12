import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * What each Detox and Dealer cycle used of its time budget (issue 21): the
 * budget, the time taken, how often it let other work run, and whether it
 * was abandoned at the budget. JSON, null for cycles recorded before.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(
    db,
    `
    ALTER TABLE detox_cycles ADD COLUMN budget jsonb;
    ALTER TABLE dealer_cycles ADD COLUMN budget jsonb;
  `,
  );
}
