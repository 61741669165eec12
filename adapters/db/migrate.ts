import { type Kysely, sql } from "kysely";
import type { Database } from "./database.ts";
import * as m001 from "./migrations/001_inventory.ts";
import * as m002 from "./migrations/002_registry_and_users.ts";
import * as m003 from "./migrations/003_detox.ts";
import * as m004 from "./migrations/004_dealer.ts";
import * as m005 from "./migrations/005_fileops.ts";
import * as m006 from "./migrations/006_scheduler.ts";
import * as m007 from "./migrations/007_cycle_budgets.ts";
import * as m008 from "./migrations/008_injection_attempts.ts";
import * as m009 from "./migrations/009_consistency.ts";
import * as m010 from "./migrations/010_consistency_digests.ts";
import * as m011 from "./migrations/011_cluster.ts";
import * as m012 from "./migrations/012_detox_decision_reasons.ts";
import * as m013 from "./migrations/013_user_change_notify.ts";
import * as m014 from "./migrations/014_journal_packed.ts";

// deno-lint-ignore no-explicit-any
type Migration = { up(db: Kysely<any>): Promise<void> };

/** Migrations live in code, in order; their names are the schema versions. */
export const MIGRATIONS: Record<string, Migration> = {
  "001_inventory": m001,
  "002_registry_and_users": m002,
  "003_detox": m003,
  "004_dealer": m004,
  "005_fileops": m005,
  "006_scheduler": m006,
  "007_cycle_budgets": m007,
  "008_injection_attempts": m008,
  "009_consistency": m009,
  "010_consistency_digests": m010,
  "011_cluster": m011,
  "012_detox_decision_reasons": m012,
  "013_user_change_notify": m013,
  "014_journal_packed": m014,
};

export const SCHEMA_VERSION = Object.keys(MIGRATIONS).length;

/** The database was written by a newer Dynamo than this one. */
export class SchemaVersionError extends Error {
  constructor(readonly unknown: string[]) {
    super(
      `The database schema is newer than this Dynamo: unknown migrations ${
        unknown.map((u) => `"${u}"`).join(", ")
      }. ` +
        "Upgrade Dynamo or point it at another database",
    );
    this.name = "SchemaVersionError";
  }
}

/**
 * Brings the schema up to date in one transaction, or refuses a schema newer
 * than the code. An advisory lock serialises processes starting together. (Our
 * own runner rather than Kysely's Migrator: that one introspects every schema
 * of the database and fails when another schema is dropped meanwhile.)
 */
export async function migrate(db: Database, nowMs: number): Promise<{ applied: string[] }> {
  return await db.transaction(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.dynamo_migrations'))`.execute(tx);
    await sql`CREATE TABLE IF NOT EXISTS dynamo_migrations (name text PRIMARY KEY, applied_ms bigint NOT NULL)`
      .execute(tx);
    const rows = await sql<{ name: string }>`SELECT name FROM dynamo_migrations ORDER BY name`.execute(tx);
    const done = new Set(rows.rows.map((r) => r.name));
    const unknown = [...done].filter((name) => !(name in MIGRATIONS));
    if (unknown.length > 0) throw new SchemaVersionError(unknown);
    const applied: string[] = [];
    for (const [name, migration] of Object.entries(MIGRATIONS)) {
      if (done.has(name)) continue;
      await migration.up(tx);
      await sql`INSERT INTO dynamo_migrations (name, applied_ms) VALUES (${name}, ${nowMs})`.execute(tx);
      applied.push(name);
    }
    return { applied };
  });
}
