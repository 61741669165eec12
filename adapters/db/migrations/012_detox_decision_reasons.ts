import type { Kysely } from "kysely";
import { runStatements } from "./run_statements.ts";

/**
 * Why a Detox decision row is what it is when its policy line does not say (issue 15): a replica
 * held back because deleting it would conflict with an operation in flight on its dataset is a
 * `keep` on the line that chose it, with the conflict here. Null for every other row and for the
 * cycles recorded before.
 */
// deno-lint-ignore no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await runStatements(db, `ALTER TABLE detox_decisions ADD COLUMN reason text;`);
}
