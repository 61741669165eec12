import { assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import {
  catalogFromAnnex,
  DEFAULT_PARTITIONS,
  fileNeeds,
  inventoryDigest,
  parseCommand,
  reduceBatch,
} from "../../registry/inventory/mod.ts";
import type { Database } from "./database.ts";
import { SqlInventoryStore } from "./inventory_store.ts";
import { PipelinedWrites } from "./pipelined_writes.ts";

async function table(db: Database): Promise<void> {
  await db.exec("CREATE TABLE pw (id integer PRIMARY KEY, note text NOT NULL)");
}
const rows = async (db: Database) => await db.queryArrays("SELECT id, note FROM pw ORDER BY id");

dbTest("pipelined writes apply in the order sent, a COPY after them included", async ({ db }) => {
  await table(db);
  await db.bulkTransaction(async (raw) => {
    const tx = new PipelinedWrites(raw);
    await tx.query("INSERT INTO pw VALUES ($1, $2)", [1, "a"]);
    await tx.query("UPDATE pw SET note = $1 WHERE id = $2", ["b", 1]); // sees the insert before it
    await tx.copyFrom("pw", ["id", "note"], [[2, "c"]]);
    await tx.query("DELETE FROM pw WHERE id = $1", [2]); // sees the COPY before it
    await tx.query("INSERT INTO pw VALUES ($1, $2)", [3, "d"]);
    await tx.finish();
  });
  assertEquals(await rows(db), [[1, "b"], [3, "d"]]);
});

dbTest(
  "a COPY that fails on the server is the error reported, before the statements and fence after it",
  async ({ db }) => {
    await table(db);
    await db.exec("INSERT INTO pw VALUES (1, 'kept')");
    let fenceRan = false;
    const error = await assertRejects(() =>
      db.bulkTransaction(async (raw) => {
        const tx = new PipelinedWrites(raw);
        await tx.query("INSERT INTO pw VALUES ($1, $2)", [2, "before"]);
        // 5,000 rows, the last one a duplicate: the server refuses it after the data has all been sent.
        const copied: [number, string][] = [];
        for (let i = 10; i < 5_010; i++) copied.push([i, "copied"]);
        copied.push([1, "duplicate key"]);
        await tx.copyFrom("pw", ["id", "note"], copied);
        await tx.query("INSERT INTO pw VALUES ($1, $2)", [3, "after"]);
        await tx.finish(async (t) => {
          fenceRan = true;
          await t.query("SELECT 1");
        });
      })
    );
    assertEquals(/duplicate key/.test(String(error)), true, String(error));
    // PGlite runs the fence's statement in order; on PostgreSQL it waits for the COPY's answer, which failed.
    if (db.kind === "postgres") assertEquals(fenceRan, false);
    assertEquals(await rows(db), [[1, "kept"]]);
  },
);

dbTest("a failed statement mid-pipeline is reported as itself and leaves nothing", async ({ db }) => {
  await table(db);
  await db.exec("INSERT INTO pw VALUES (1, 'kept')");
  let fenceRan = false;
  const error = await assertRejects(() =>
    db.bulkTransaction(async (raw) => {
      const tx = new PipelinedWrites(raw);
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [2, "before"]);
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [1, "duplicate key"]);
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [3, "after"]);
      await tx.finish(async (t) => {
        fenceRan = true;
        await t.query("SELECT 1");
      });
    })
  );
  // The duplicate's own error, not the "transaction is aborted" of the statements after it.
  assertEquals(/duplicate key|unique/i.test(String(error)), true, String(error));
  assertEquals(fenceRan, true);
  assertEquals(await rows(db), [[1, "kept"]]);
});

dbTest("garbage sent down the pipeline is refused before a COPY and changes nothing", async ({ db }) => {
  await table(db);
  await assertRejects(() =>
    db.bulkTransaction(async (raw) => {
      const tx = new PipelinedWrites(raw);
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [1, "a"]);
      await tx.query("INSERT INTO pw VALUES ($1::integer, $2)", ["not a number", "b"]);
      await tx.copyFrom("pw", ["id", "note"], [[5, "copied"]]);
      await tx.finish();
    })
  );
  assertEquals(await rows(db), []);
});

dbTest("a fence that refuses, run last, rolls back every pipelined write", async ({ db }) => {
  await table(db);
  const error = await assertRejects(() =>
    db.bulkTransaction(async (raw) => {
      const tx = new PipelinedWrites(raw);
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [1, "a"]);
      await tx.finish(async (t) => {
        // The fence reads after the writes: they are already in the transaction.
        const [[n]] = (await t.query("SELECT count(*)::integer FROM pw")) as [[number]];
        throw new Error(`deposed, after ${n} row(s)`);
      });
    })
  );
  assertEquals(String(error).includes("deposed, after 1 row(s)"), true);
  assertEquals(await rows(db), []);
});

dbTest("an inventory commit whose fence refuses leaves neither journal nor rows", async ({ db }) => {
  const refused = new SqlInventoryStore(db, {
    fence: async (tx) => {
      await tx.query("SELECT 1");
      throw new Error("deposed");
    },
  });
  const state = await refused.loadTables(DEFAULT_PARTITIONS);
  const commands = [
    { op: "site.upsert", name: "T2_A", storage_type: "disk" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "dataset.upsert", name: "/A/B/RAW" },
    { op: "block.upsert", dataset: "/A/B/RAW", block: "b0" },
    { op: "files.add", dataset: "/A/B/RAW", block: "b0", files: [{ lfn: "/store/a/0", size: 3 }] },
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
  ].map((c) => parseCommand(c));
  const annex = await refused.prefetchFiles(fileNeeds(state, commands));
  const result = reduceBatch(state, [{ commands }], catalogFromAnnex(annex), 1_800_000_000_000, 1);
  const batch = {
    entry: { seq: 1, atMs: 1_800_000_000_000, version: 1, commands: result.applied, annex },
    base: state,
    state: result.state,
    changes: result.changes,
  };
  await assertRejects(() => refused.commit(batch), Error, "deposed");
  assertEquals(await refused.journalSince(0), []);
  assertEquals(inventoryDigest(await refused.loadTables(DEFAULT_PARTITIONS)), inventoryDigest(state));

  // The same batch through an unfenced store commits: the refusal was the fence's alone.
  const store = new SqlInventoryStore(db);
  await store.commit(batch);
  assertEquals(inventoryDigest(await store.loadTables(DEFAULT_PARTITIONS)), inventoryDigest(result.state));
  assertEquals((await store.journalSince(0)).length, 1);
});

dbTest("a transaction whose failed statement was caught commits nothing and is an error", async ({ db }) => {
  await table(db);
  // PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK, not an error: it must not pass as written.
  await assertRejects(() =>
    db.bulkTransaction(async (tx) => {
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [1, "a"]);
      await tx.query("INSERT INTO pw VALUES ($1, $2)", [1, "duplicate"]).catch(() => []);
    })
  );
  assertEquals(await rows(db), []);
  // The connection is usable afterwards.
  await db.bulkTransaction(async (tx) => {
    await tx.query("INSERT INTO pw VALUES ($1, $2)", [2, "b"]);
  });
  assertEquals(await rows(db), [[2, "b"]]);
});
