import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import {
  catalogFromAnnex,
  DEFAULT_PARTITIONS,
  type InventoryState,
  parseCommand,
  reduceBatch,
} from "../../registry/inventory/mod.ts";
import type { Database } from "./database.ts";
import { FencedError, SqlClusterStore } from "./cluster_store.ts";
import { SqlInventoryStore } from "./inventory_store.ts";

/** Commits one dataset upsert through `store` on top of `state`. */
async function commitDataset(
  store: SqlInventoryStore,
  state: InventoryState,
  name: string,
  idempotencyKeys: string[] = [],
): Promise<InventoryState> {
  const commands = [parseCommand({ op: "dataset.upsert", name })];
  const annex = { files: [], blockFiles: [] };
  const result = reduceBatch(
    state,
    [{ commands }],
    catalogFromAnnex(annex),
    1_800_000_000_000,
    state.generation + 1,
  );
  await store.commit({
    entry: {
      seq: result.state.generation,
      atMs: 1_800_000_000_000,
      version: 1,
      commands: result.applied,
      annex,
    },
    base: state,
    state: result.state,
    changes: result.changes,
    idempotencyKeys,
  });
  return result.state;
}

async function journalLength(db: Database): Promise<number> {
  return Number((await db.queryArrays("SELECT count(*) FROM inventory_journal"))[0]![0]);
}

dbTest(
  "a deposed leader's commit is rolled back by the fence; the new leader's goes through",
  async ({ db }) => {
    const cluster = new SqlClusterStore(db);
    const first = await cluster.takeLease("node-a", 1000);
    const oldLeader = new SqlInventoryStore(db, { fence: SqlClusterStore.fence(() => first) });
    let state = await oldLeader.loadTables(DEFAULT_PARTITIONS);
    state = await commitDataset(oldLeader, state, "/Before/Takeover/RAW");
    assertEquals(await journalLength(db), 1);

    const second = await cluster.takeLease("node-b", 2000);
    assertEquals(second, first + 1);
    const error = await assertRejects(() => commitDataset(oldLeader, state, "/Deposed/Write/RAW"));
    assert(error instanceof FencedError, String(error));
    assertEquals(await journalLength(db), 1, "nothing of the deposed leader's batch was written");
    const datasets = await db.queryArrays("SELECT name FROM datasets ORDER BY name");
    assertEquals(datasets.map((r) => r[0]), ["/Before/Takeover/RAW"]);

    const newLeader = new SqlInventoryStore(db, { fence: SqlClusterStore.fence(() => second) });
    const reloaded = await newLeader.loadTables(DEFAULT_PARTITIONS);
    await commitDataset(newLeader, reloaded, "/After/Takeover/RAW");
    assertEquals(await journalLength(db), 2);
    const lease = await cluster.lease();
    assertEquals({ holder: lease.holder, generation: lease.generation, changes: lease.changes }, {
      holder: "node-b",
      generation: second,
      changes: 2,
    });
  },
);

dbTest(
  "idempotency keys are recorded in the commit that applies them, and a claim records who ran it",
  async ({ db }) => {
    const cluster = new SqlClusterStore(db);
    const store = new SqlInventoryStore(db);
    let state = await store.loadTables(DEFAULT_PARTITIONS);
    assertEquals(await cluster.recall("k1"), null);
    await cluster.claimKey("k1", "node-a", 1000);
    assertEquals(await cluster.recall("k1"), { node: "node-a", answer: null, committedAt: null });
    state = await commitDataset(store, state, "/Keyed/Write/RAW", ["k1"]);
    assertEquals((await cluster.recall("k1"))?.committedAt, state.generation);
    await cluster.remember("k1", {
      status: 200,
      contentType: "application/json",
      body: "{}",
      generation: null,
    });
    assertEquals((await cluster.recall("k1"))?.answer, {
      status: 200,
      contentType: "application/json",
      body: "{}",
      generation: state.generation,
    });
    // A key that was never claimed (a write straight to the writer) is recorded all the same.
    state = await commitDataset(store, state, "/Keyed/Other/RAW", ["k2"]);
    assertEquals((await cluster.recall("k2"))?.committedAt, state.generation);
    // Keys are forgotten a day later.
    assertEquals(await cluster.purgeKeys(1_800_000_000_001), 2);
    assertEquals(await cluster.recall("k1"), null);
  },
);

dbTest(
  "node rows: registered, beating, listed in start order, forgotten when long silent",
  async ({ db }) => {
    const cluster = new SqlClusterStore(db);
    const base = { host: "h", pid: 1, version: "0.1.0", url: "http://h:1", role: "starting" as const };
    await cluster.register({ ...base, id: "b", startedMs: 2000, heartbeatMs: 2000 });
    await cluster.register({ ...base, id: "a", startedMs: 1000, heartbeatMs: 1000 });
    await cluster.heartbeat("a", { role: "leader", journalSeq: 7, leaseChanges: 1, url: "http://h:2" }, 5000);
    const nodes = await cluster.nodes();
    assertEquals(nodes.map((n) => [n.id, n.role, n.journalSeq, n.heartbeatMs, n.url]), [
      ["a", "leader", 7, 5000, "http://h:2"],
      ["b", "starting", 0, 2000, "http://h:1"],
    ]);
    await assertRejects(() => cluster.register({ ...base, id: "a", startedMs: 1, heartbeatMs: 1 }));
    assertEquals(await cluster.forgetNodes(3000), 1);
    assertEquals((await cluster.nodes()).map((n) => n.id), ["a"]);
  },
);
