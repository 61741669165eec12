/**
 * `POST /data/inventory/injectsync` from concurrent clients: requests are committed together
 * (group commit), each is answered with its own outcome, a bad document in the group is refused
 * alone, and what was acknowledged is in the database when it is opened again.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { type Database, openDatabase } from "../../adapters/db/database.ts";
import { migrate } from "../../adapters/db/migrate.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import { caller, type CallResult } from "../../tests/helpers/http.ts";

const SITES = ["T2_A", "T2_B", "T2_C", "T2_D", "T2_E", "T2_F"];

/** Two datasets of two blocks each, at no site yet. */
const CATALOG = {
  site: SITES.map((name) => ({ name, storage_type: "disk", status: "ready" })),
  group: [{ name: "AnalysisOps", olevel: "Dataset" }],
  dataset: ["/P/A-v1/AOD", "/P/B-v1/AOD"].map((name) => ({
    name,
    status: "valid",
    blocks: [{ name: "b1", files: [] }, { name: "b2", files: [] }],
  })),
};

/** Both datasets with all their blocks at `site`: 2 dataset replicas, 4 block replicas. */
function replicasAt(site: string) {
  return {
    datasetreplica: ["/P/A-v1/AOD", "/P/B-v1/AOD"].map((dataset) => ({
      dataset,
      site,
      group: "AnalysisOps",
      blockreplicas: [{ block: "b1" }, { block: "b2" }],
    })),
  };
}

async function start(db: Database) {
  const { token } = await new SqlUserStore(db).addUser({
    name: "injector",
    authorizations: [parseAuthorization("admin:inventory")],
  }, 0);
  const dynamo = await createDynamo({ database: db, clock: new TestClock() });
  await dynamo.ready;
  const call = caller(dynamo.app);
  const inject = (body: unknown) => call("POST", "/data/inventory/injectsync", { body, token });
  assertEquals((await inject(CATALOG)).status, 200);
  return { dynamo, inject };
}

async function replicaSites(db: Database): Promise<string[]> {
  const rows = await db.queryArrays(
    "SELECT DISTINCT s.name FROM dataset_replicas r JOIN sites s ON s.id = r.site_id ORDER BY s.name",
  );
  return rows.map((r) => r[0] as string);
}

dbTest(
  "concurrent injectsync requests: committed together, each answered with its own outcome; bad ones refused alone",
  async ({ db }) => {
    const { dynamo, inject } = await start(db);
    try {
      const journalBefore = (await db.queryArrays("SELECT count(*) FROM inventory_journal"))[0]![0] as number;
      const good = SITES.slice(0, 4);
      const answers: CallResult[] = await Promise.all([
        inject(replicasAt(good[0]!)),
        inject(replicasAt(good[1]!)),
        // Well formed, refused by the writer in the group: a block the dataset does not have.
        inject({
          datasetreplica: [{
            dataset: "/P/A-v1/AOD",
            site: "T2_E",
            group: "AnalysisOps",
            blockreplicas: [{ block: "b1" }, { block: "no_such_block" }],
          }],
        }),
        inject(replicasAt(good[2]!)),
        // Refused before it reaches the writer: a control character in a site name.
        inject({ datasetreplica: [{ dataset: "/P/A-v1/AOD", site: "T2_F\u0000", group: "AnalysisOps" }] }),
        inject(replicasAt(good[3]!)),
      ]);
      const [a, b, unknownBlock, c, hostile, d] = answers as [
        CallResult,
        CallResult,
        CallResult,
        CallResult,
        CallResult,
        CallResult,
      ];

      for (const r of [a, b, c, d]) {
        assertEquals(r.status, 200, JSON.stringify(r.body));
        assertEquals(r.body.data.applied, { "dataset_replica.upsert": 2, "block_replica.upsert": 4 });
        assertEquals(r.body.data.rejected, []);
      }
      assertEquals(unknownBlock.status, 400);
      assert(/no_such_block/.test(JSON.stringify(unknownBlock.body)), JSON.stringify(unknownBlock.body));
      assertEquals(unknownBlock.body.data.applied, {}, "nothing of an atomic document is applied");
      assertEquals(hostile.status, 400);
      assert(/site|control/i.test(hostile.body.message), hostile.body.message);

      // Every good document is there, nothing of the refused ones.
      assertEquals(await replicaSites(db), good);
      // Group commit: the four good documents did not take four transactions.
      const generations = new Set([a, b, c, d].map((r) => r.body.data.generation as number));
      const journalAfter = (await db.queryArrays("SELECT count(*) FROM inventory_journal"))[0]![0] as number;
      assertEquals(journalAfter - journalBefore, generations.size);
      assert(generations.size < 4, `expected a shared transaction, got generations ${[...generations]}`);
    } finally {
      await dynamo.close();
    }
  },
);

dbTest("acknowledged injectsync documents are in the database when it is opened again", async (ctx) => {
  // PGlite: a data directory of its own, closed and opened again; PostgreSQL: a new connection.
  const dir = ctx.kind === "pglite" ? await Deno.makeTempDir({ prefix: "dynamo_inject_" }) : null;
  try {
    const db = dir ? await openDatabase({ dataDir: dir }) : ctx.db;
    if (dir) await migrate(db, 0);
    const { dynamo, inject } = await start(db);
    const answers = await Promise.all(SITES.map((site) => inject(replicasAt(site))));
    assertEquals(answers.map((r) => r.status), SITES.map(() => 200));
    await dynamo.close();

    const again = dir ? await openDatabase({ dataDir: dir }) : await ctx.reopen!();
    try {
      assertEquals(await replicaSites(again), SITES);
      assertEquals(
        (await again.queryArrays("SELECT count(*) FROM block_replicas"))[0]![0],
        SITES.length * 4,
      );
    } finally {
      await again.close();
    }
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true });
  }
});
