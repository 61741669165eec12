/**
 * A COPY whose PostgreSQL connection is lost while its rows are being sent (a server restart, a failover, an
 * administrator ending the backend) fails that COPY's transaction, and nothing else: before, postgres.js's
 * errors for it reached the process uncaught (ending it), or the COPY waited for good for a "drain" that
 * never came. Deno's test runner fails a test on an uncaught error or an unhandled rejection.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest, postgresTest } from "../../tests/helpers/db.ts";
import type { BulkTransaction, Cell, Database } from "./database.ts";
import { PipelinedWrites } from "./pipelined_writes.ts";
import { withinMinutes } from "../../tests/helpers/hang_guard.ts";

/**
 * Rows without end, built as they are asked for; `started` resolves once row `at` has been (the first
 * chunk of COPY text is about 6,500 of them).
 */
function endless(at: number): { rows: Iterable<Cell[]>; started: Promise<void> } {
  const started = Promise.withResolvers<void>();
  function* rows(): Generator<Cell[]> {
    for (let i = 0;; i++) {
      if (i === at) started.resolve();
      yield [i, `row ${i} `.padEnd(40, "x")];
    }
  }
  return { rows: rows(), started: started.promise };
}

/** Finds the backend running `COPY "<table>"` and terminates it, in round trips on `other`. */
async function terminateCopy(other: Database, table: string): Promise<void> {
  let pid: number | null = null;
  for (let i = 0; i < 10_000 && pid === null; i++) {
    const rows = await other.queryArrays(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE $1`,
      [`COPY "${table}"%`],
    );
    pid = (rows[0]?.[0] as number | undefined) ?? null;
  }
  assert(pid !== null, "the COPY was never seen running");
  await other.queryArrays("SELECT pg_terminate_backend($1)", [pid]);
}

/** The connections of a test's database (tests/helpers/db.ts). */
const POOL_SIZE = 4;

const COPIES: [string, (db: Database, table: string, rows: Iterable<Cell[]>) => Promise<void>][] = [
  ["a pooled COPY", (db, table, rows) => db.copyFrom(table, ["id", "note"], rows)],
  [
    "a COPY in a transaction",
    (db, table, rows) => db.bulkTransaction((tx) => tx.copyFrom(table, ["id", "note"], rows)),
  ],
  [
    "a pipelined COPY (sent, answer awaited in finish)",
    (db, table, rows) =>
      db.bulkTransaction(async (raw: BulkTransaction) => {
        const tx = new PipelinedWrites(raw);
        await tx.query(`INSERT INTO "${table}" VALUES ($1, $2)`, [-1, "before"]);
        await tx.copyFrom(table, ["id", "note"], rows);
        await tx.query(`INSERT INTO "${table}" VALUES ($1, $2)`, [-2, "after"]);
        await tx.finish();
      }),
  ],
];

for (const [name, copy] of COPIES) {
  for (const at of [1, 20_000]) {
    postgresTest(
      `${name} whose connection is lost while its rows are sent (from row ${at}) fails, commits nothing, and the database goes on`,
      async ({ db, reopen }) => {
        const table = `copy_lost_${crypto.randomUUID().replaceAll("-", "")}`;
        await db.exec(`CREATE TABLE "${table}" (id integer PRIMARY KEY, note text NOT NULL)`);
        const other = await reopen!();
        const { rows, started } = endless(at);
        const outcome = copy(db, table, rows).then(() => null, (e: unknown) => e);
        await started;
        await terminateCopy(other, table);
        const error = await withinMinutes("the COPY", outcome);
        assert(error instanceof Error, `the endless COPY ended without an error: ${error}`);
        assertMatch(
          String(error),
          new RegExp(`COPY into "${table}" failed: the connection to PostgreSQL was lost`),
        );
        assertEquals((error as { code?: string }).code, "CONNECTION_LOST");
        assertEquals(await other.queryArrays(`SELECT count(*)::integer FROM "${table}"`), [[0]]);
        // The pool goes on: more transactions at once than it has connections (the lost one among them,
        // reconnected), each with a COPY, and a COPY of the pool's own, all commit.
        await Promise.all(
          Array.from({ length: 2 * POOL_SIZE }, (_, i) =>
            db.bulkTransaction(async (tx) => {
              await tx.query(`INSERT INTO "${table}" VALUES ($1, $2)`, [2 * i, "after the loss"]);
              await tx.copyFrom(table, ["id", "note"], [[2 * i + 1, "copied after the loss"]]);
            })),
        );
        await db.copyFrom(table, ["id", "note"], [[-1, "pooled COPY after the loss"]]);
        assertEquals(await db.queryArrays(`SELECT count(*)::integer FROM "${table}"`), [[4 * POOL_SIZE + 1]]);
      },
    );
  }
}

/** Rows that fail to be built after `at` of them (a bug, or a value that cannot be encoded). */
function* failingAt(at: number): Generator<Cell[]> {
  for (let i = 0; i < at; i++) yield [i, `row ${i}`];
  throw new Error(`row ${at} could not be built`);
}

for (const at of [1, 20_000]) {
  dbTest(
    `a COPY whose rows fail to be built (after ${at}) fails with that error, commits nothing, and its connection goes on`,
    async ({ db }) => {
      await db.exec(`CREATE TABLE copied (id integer PRIMARY KEY, note text NOT NULL)`);
      const inTransaction = db.bulkTransaction(async (raw) => {
        const tx = new PipelinedWrites(raw);
        await tx.query("INSERT INTO copied VALUES ($1, $2)", [-1, "before"]);
        await tx.copyFrom("copied", ["id", "note"], failingAt(at));
        await tx.finish();
      });
      const inTx = await withinMinutes("the COPY", inTransaction.then(() => null, (e: unknown) => e));
      assertEquals(String(inTx), `Error: row ${at} could not be built`);
      const pooled = await withinMinutes(
        "the COPY",
        db.copyFrom("copied", ["id", "note"], failingAt(at)).then(() => null, (e: unknown) => e),
      );
      assertEquals(String(pooled), `Error: row ${at} could not be built`);
      assertEquals(await db.queryArrays("SELECT count(*)::integer FROM copied"), [[0]]);
      // On PostgreSQL the COPY was ended (CopyFail), not left open on a connection the pool hands out again.
      for (let i = 0; i < 8; i++) {
        await db.bulkTransaction(async (tx) => {
          await tx.query("INSERT INTO copied VALUES ($1, $2)", [2 * i, "after"]);
          await tx.copyFrom("copied", ["id", "note"], [[2 * i + 1, "copied after"]]);
        });
      }
      assertEquals(await db.queryArrays("SELECT count(*)::integer FROM copied"), [[16]]);
    },
  );
}
