import { type Kysely, sql } from "kysely";

/** Runs `;`-separated DDL one statement at a time (prepared statements take one command). */
// deno-lint-ignore no-explicit-any
export async function runStatements(db: Kysely<any>, text: string): Promise<void> {
  for (const statement of text.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s.length > 0)) {
    await sql.raw(statement.replace(/;$/, "")).execute(db);
  }
}
