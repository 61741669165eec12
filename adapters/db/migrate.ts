import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import type { Database } from "./database.ts";
import * as m001 from "./migrations/001_inventory.ts";
import * as m002 from "./migrations/002_registry_and_users.ts";

/** Migrations live in code, in order; their names are the schema versions. */
export const MIGRATIONS: Record<string, Migration> = {
  "001_inventory": m001,
  "002_registry_and_users": m002,
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

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/** Brings the schema up to date; refuses a schema newer than the code. */
export async function migrate(db: Database): Promise<{ applied: string[] }> {
  // Pin the schema: the Migrator otherwise looks for its tables in every schema of the database.
  const migrator = new Migrator({ db: db.kysely, provider, migrationTableSchema: db.schema });
  const unknown = await executedMigrationNames(db);
  const extra = unknown.filter((name) => !(name in MIGRATIONS));
  if (extra.length > 0) throw new SchemaVersionError(extra);
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return { applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName) };
}

async function executedMigrationNames(db: Database): Promise<string[]> {
  try {
    const rows = await db.queryArrays(`SELECT name FROM "${db.schema}".kysely_migration ORDER BY name`);
    return rows.map((r) => String(r[0]));
  } catch {
    return []; // no migration table yet: a fresh database
  }
}
