import { type Database, openDatabase } from "../../adapters/db/database.ts";
import { migrate } from "../../adapters/db/migrate.ts";

/**
 * Runs a test against real databases: always on embedded PGlite, and also on
 * PostgreSQL when DYNAMO_TEST_DATABASE_URL is set (CI sets it). Each test gets
 * a fresh, migrated database: PGlite from a dump of a migrated template
 * (fast), PostgreSQL in a schema of its own that is dropped afterwards.
 */
export const TEST_DATABASE_URL = Deno.env.get("DYNAMO_TEST_DATABASE_URL");

let template: Promise<Blob> | null = null;

function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const db = await openDatabase();
    await migrate(db, Date.now());
    const dump = await db.dump!();
    await db.close();
    return dump;
  })();
  return template;
}

export interface DbTestContext {
  kind: "pglite" | "postgres";
  /** A fresh, migrated database. */
  db: Database;
  /** Opens another connection to the same database (e.g. after a simulated restart). PGlite: not available. */
  reopen?: () => Promise<Database>;
}

/** A fresh migrated database for each listed kind. */
export async function freshDatabase(
  kind: "pglite" | "postgres",
): Promise<{ db: Database; cleanup: () => Promise<void>; reopen?: () => Promise<Database> }> {
  if (kind === "pglite") {
    const db = await openDatabase({ loadDataDir: await migratedTemplate() });
    return { db, cleanup: () => db.close() };
  }
  // Test files run in parallel workers of one process: names must be unique across them.
  const schema = `t_${crypto.randomUUID().replaceAll("-", "")}`;
  const url = TEST_DATABASE_URL!;
  const db = await openDatabase({ url, schema, maxConnections: 4 });
  const opened: Database[] = [db];
  const dropSchema = async () => {
    for (const d of opened) await d.close().catch(() => {});
    const admin = await openDatabase({ url, maxConnections: 1 });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  };
  try {
    await migrate(db, Date.now());
  } catch (e) {
    await dropSchema();
    throw e;
  }
  return {
    db,
    reopen: async () => {
      const again = await openDatabase({ url, schema, maxConnections: 4 });
      opened.push(again);
      return again;
    },
    cleanup: dropSchema,
  };
}

/**
 * SQL: the pids of this test's sessions that wait for a lock (PostgreSQL). Every PostgreSQL test has a
 * schema of its own in one shared database, and under `deno test --parallel` other files' sessions wait
 * for locks too (a writer's chained commit does, every time): a session is this test's when it holds or
 * waits for a lock on a relation of the schema it is run in (`current_schema()`). Found by the database
 * alone, another test's waiting session was counted, cancelled or terminated.
 */
export const LOCK_WAITERS_OF_THIS_SCHEMA = `SELECT DISTINCT a.pid FROM pg_stat_activity a
  JOIN pg_locks l ON l.pid = a.pid
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  JOIN pg_class c ON c.oid = l.relation
  WHERE a.wait_event_type = 'Lock' AND c.relnamespace = current_schema()::regnamespace`;

export function databaseKinds(): ("pglite" | "postgres")[] {
  return TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/** Registers `name` once per database kind. */
export function dbTest(name: string, fn: (ctx: DbTestContext) => Promise<void>): void {
  for (const kind of databaseKinds()) {
    Deno.test({
      name: `${name} [${kind}]`,
      // PGlite and postgres.js keep background resources alive between tests by design.
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        const { db, cleanup, reopen } = await freshDatabase(kind);
        try {
          await fn({ kind, db, ...(reopen ? { reopen } : {}) });
        } finally {
          await cleanup();
        }
      },
    });
  }
}

/**
 * Registers `name` on PostgreSQL only, for what PGlite does not have by design (e.g. streamed reads);
 * without DYNAMO_TEST_DATABASE_URL it is ignored, and its name says so.
 */
export function postgresTest(name: string, fn: (ctx: DbTestContext) => Promise<void>): void {
  const ignore = !TEST_DATABASE_URL;
  Deno.test({
    name: `${name} [postgres]${ignore ? " [ignored: needs DYNAMO_TEST_DATABASE_URL]" : ""}`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const { db, cleanup, reopen } = await freshDatabase("postgres");
      try {
        await fn({ kind: "postgres", db, ...(reopen ? { reopen } : {}) });
      } finally {
        await cleanup();
      }
    },
  });
}
