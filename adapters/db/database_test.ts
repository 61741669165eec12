import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/helpers/assert.ts";
import type { BulkTransaction } from "./database.ts";
import { PipelinedWrites } from "./pipelined_writes.ts";
import { dbTest, postgresTest } from "../../tests/helpers/db.ts";

// PGlite reads whole tables in keyset pages: streamed reads are PostgreSQL's.
dbTest("PGlite has no streamed reads (the load pages through its tables)", ({ db, kind }) => {
  assertEquals(db.streamArrays === undefined, kind === "pglite");
  return Promise.resolve();
});

postgresTest("streamArrays hands every row over in order, as arrays", async ({ db }) => {
  const seen: unknown[][] = [];
  await db.streamArrays!(
    "SELECT i, 'n' || i, i % 2 = 0, i::bigint * 1000000000 FROM generate_series(1, 3000) AS i ORDER BY i",
    [],
    (row) => seen.push(row),
  );
  assertEquals(seen.length, 3000);
  assertEquals(seen[0], [1, "n1", false, 1_000_000_000]);
  assertEquals(seen[2999], [3000, "n3000", true, 3_000_000_000_000]);
});

postgresTest(
  "streamArrays stops at the first row its callback refuses, and the pool goes on",
  async ({ db }) => {
    let calls = 0;
    const error = await assertRejects(() =>
      db.streamArrays!("SELECT i FROM generate_series(1, 200000) AS i", [], (row) => {
        calls += 1;
        if (row[0] === 10) throw new Error("row 10 refused");
      })
    );
    assertEquals((error as Error).message, "row 10 refused");
    assertEquals(calls, 10); // no row after the refused one reaches the callback
    assertEquals(await db.queryArrays("SELECT 1 + 1"), [[2]]);
  },
);

dbTest("snapshotReads sees one state of the database while another connection commits", async ({ db }) => {
  await db.exec("CREATE TABLE snap_probe (i integer); INSERT INTO snap_probe VALUES (1), (2)");
  const count = async (reader: Pick<typeof db, "queryArrays">) =>
    Number((await reader.queryArrays("SELECT count(*) FROM snap_probe"))[0]![0]);
  const seen = await db.snapshotReads(async (reader) => {
    const before = await count(reader);
    await db.exec("INSERT INTO snap_probe VALUES (3)"); // committed by another connection of the pool
    return [before, await count(reader)];
  });
  if (db.kind === "postgres") {
    assertEquals(seen, [2, 2], "the commit made during the reads is not seen by them");
    // Read only: a write through the reader is refused, and the connection goes back to the pool clean.
    const refused = await assertRejects(() =>
      db.snapshotReads((reader) => reader.queryArrays("INSERT INTO snap_probe VALUES (4)"))
    );
    assertEquals((refused as { code?: string }).code, "25006"); // read_only_sql_transaction
  } else {
    // PGlite is this process's alone; nothing else commits while its tables load (database.ts).
    assertEquals(seen, [2, 3]);
  }
  assertEquals(await count(db), 3);
});

for (const warm of [false, true]) {
  postgresTest(
    `a transaction whose connection is terminated fails, and the pool goes on (${
      warm ? "statements prepared before" : "first use"
    })`,
    async ({ db, reopen }) => {
      // A server restart, a failover or an administrator ends the connection while a transaction waits on it.
      // postgres.js never settles statements still queued on a reserved connection that closed, and a
      // ROLLBACK written to it, or the connection released back into the pool, throws in its write loop.
      await db.exec("CREATE TABLE t (x integer)");
      const insert = (tx: { query(text: string, params?: unknown[]): Promise<unknown[][]> }) => {
        const writes = new PipelinedWrites(tx as BulkTransaction);
        for (let i = 0; i < 150; i++) writes.query("INSERT INTO t VALUES ($1)", [i]);
        return writes.finish();
      };
      if (warm) {
        await db.bulkTransaction(insert);
        await db.exec("DELETE FROM t");
      }
      const other = await reopen!();
      let unlock!: () => void;
      const locked = Promise.withResolvers<void>();
      const holder = other.bulkTransaction(async (tx) => {
        await tx.query("LOCK TABLE t");
        locked.resolve();
        await new Promise<void>((resolve) => (unlock = resolve));
      });
      await locked.promise;
      let outcome: string | null = null;
      const victim = db.bulkTransaction(insert).then(() => "committed", (e) => `failed: ${e}`);
      void victim.then((o) => (outcome = o));
      // Round trips, not time: the victim's backend is found waiting for this test's table t and terminated.
      // Only a session whose lock on t is not granted is the victim (a session merely waiting for some lock
      // while it holds one in this schema could be another).
      let victimPid: number | null = null;
      for (let i = 0; i < 10_000 && victimPid === null; i++) {
        const rows = await other.queryArrays(
          `SELECT l.pid FROM pg_locks l
           WHERE NOT l.granted AND l.relation = (current_schema() || '.t')::regclass`,
        );
        victimPid = (rows[0]?.[0] as number | undefined) ?? null;
      }
      assert(victimPid !== null, "the transaction never waited for the lock");
      await other.queryArrays("SELECT pg_terminate_backend($1)", [victimPid]);
      let gone = false;
      for (let i = 0; i < 10_000 && !gone; i++) {
        gone =
          (await other.queryArrays("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [victimPid])).length ===
            0;
      }
      assert(gone, "the terminated backend never left pg_stat_activity");
      // A backend leaves pg_stat_activity before it has exited and its socket has closed, and the client
      // learns of the loss only from that close. On a loaded machine (CI runs the suite in parallel on two
      // cores) the exiting backend can wait its turn for hundreds of another session's round trips: one
      // run gave up after 200. The loop ends as soon as the outcome is known (within a few on a quiet one).
      for (let i = 0; i < 20_000 && outcome === null; i++) await other.queryArrays("SELECT 1");
      // How the loss reads depends on which side noticed first: the server's termination notice, a reset,
      // postgres.js's own code, or (a statement written after the server closed, seen under load) the
      // socket's "ended by the other party".
      assertMatch(
        outcome ?? "still waiting",
        /^failed: .*(ECONNRESET|terminat|CONNECTION_|ended by the other party)/,
      );
      unlock();
      await holder;
      // The pool reconnects: the same work commits on a new connection.
      await db.bulkTransaction(insert);
      assertEquals(await db.queryArrays("SELECT count(*)::integer FROM t"), [[150]]);
    },
  );
}

postgresTest(
  "snapshot reads whose connection is terminated fail, and the pool goes on",
  async ({ db, reopen }) => {
    // A follower's load (or the writer's reload) when an administrator ends its backend: a ROLLBACK written
    // to the lost connection, or the connection released into the pool as if open, threw in postgres.js's
    // write loop (porsager/postgres#1154) and ended the process.
    const other = await reopen!();
    const started = Promise.withResolvers<void>();
    const reads = db.snapshotReads((reader) =>
      reader.streamArrays!("SELECT generate_series(1, 1000000000), 'snapshot lost'", [], () => {
        started.resolve();
      })
    ).then(() => null, (e: unknown) => e);
    await started.promise;
    const [[terminated]] = await other.queryArrays(
      `SELECT count(pg_terminate_backend(pid))::integer FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'SELECT generate_series(1, 1000000000), ''snapshot lost''%'`,
    ) as [[number]];
    assertEquals(terminated, 1);
    const error = await reads;
    assertMatch(String(error), /ECONNRESET|terminat|CONNECTION_/);
    // Every connection of the pool, the lost one among them, serves snapshot reads again.
    const counts = await Promise.all(
      Array.from({ length: 8 }, () => db.snapshotReads((reader) => reader.queryArrays("SELECT 1 + 1"))),
    );
    assertEquals(counts, Array.from({ length: 8 }, () => [[2]]));
  },
);
