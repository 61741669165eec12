import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { fileopsFederation, NOW } from "../../tests/helpers/fileops.ts";
import { SqlRequestStore } from "../../adapters/db/request_store.ts";
import type { Database } from "../../adapters/db/database.ts";
import type { Dynamo } from "../../service/create_dynamo.ts";

/** A copy request the Dealer has placed: activated, its action queued at `site`. */
async function placedCopyRequest(db: Database, dataset: string, site: string) {
  const requests = new SqlRequestStore(db);
  const { request } = await requests.submitCopy("alice", {
    items: [dataset],
    sites: [site],
    group: null,
    n: 1,
  }, NOW);
  const now = Math.floor(NOW / 1000);
  await requests.saveCopyRequests([{
    before: request,
    after: {
      ...request,
      status: "activated",
      actions: [{ item: dataset, site, status: "queued", attempts: 0, reason: null, updatedAt: now }],
    },
  }]);
  return { id: request.id, read: async () => (await requests.copyRequests({ ids: [request.id] }))[0]! };
}

/**
 * Waits for the actors' message chains and the I/O they start (store reads, commits) to end, until
 * `done` holds; bounded. The injected clock is not advanced: no timer or interval can fire meanwhile.
 */
async function settle(dynamo: Dynamo, done: () => Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    await dynamo.system.runUntilIdle();
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

async function metric(dynamo: Dynamo, name: string) {
  const text = await dynamo.port.metrics();
  const line = text.split("\n").find((l: string) => l.startsWith(`${name} `));
  assert(line, `${name} in /metrics`);
  return Number(line.split(" ")[1]);
}

dbTest(
  "a copy request completes when its last file lands: the dataset actor completes the replica and tells the tracker",
  async ({ db }) => {
    // The tracker has no interval (requestIntervalMs 0) and the clock never moves: only a message can complete it.
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      await f.dataset("/Fast/Complete/AOD", 3, ["T2_A"]);
      await f.scheduleCopy("/Fast/Complete/AOD", "T2_B");
      const request = await placedCopyRequest(db, "/Fast/Complete/AOD", "T2_B");
      assertEquals((await request.read()).status, "activated");
      const summary = await f.pass();
      assertEquals(summary.transfers_done, 3);
      assert(await settle(f.dynamo, async () => (await request.read()).status === "completed"), "completed");
      const done = await request.read();
      assertEquals(done.actions.map((a) => a.status), ["completed"]);
      assertEquals(f.clock.now(), NOW, "no interval passed");
      assertEquals(done.updatedAt, Math.floor(NOW / 1000), "completed at the time its last file landed");
      assertEquals(f.blockReplica("/Fast/Complete/AOD", "T2_B")?.fileIds, null, "complete");
      assertEquals(await metric(f.dynamo, "dynamo_dataset_actor_activations_total"), 1);
      assertEquals(await metric(f.dynamo, "dynamo_dataset_actors_active"), 1);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "a deletion request completes when the replica's last file is deleted, with no tracker interval",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const files = await f.dataset("/Fast/Delete/AOD", 2, ["T2_A", "T2_B"]);
      await f.scheduleDeletion("/Fast/Delete/AOD", "T2_B");
      const requests = new SqlRequestStore(db);
      const { request } = await requests.submitDeletion(
        "alice",
        { items: ["/Fast/Delete/AOD"], sites: ["T2_B"] },
        NOW,
      );
      const now = Math.floor(NOW / 1000);
      await requests.saveDeletionRequests([{
        before: request,
        after: {
          ...request,
          status: "activated",
          actions: [{
            item: "/Fast/Delete/AOD",
            site: "T2_B",
            status: "queued",
            reason: null,
            updatedAt: now,
          }],
        },
      }]);
      const read = async () => (await requests.deletionRequests({ ids: [request.id] }))[0]!;
      assertEquals((await f.pass()).deletions_done, 2);
      for (const file of files) {
        assertEquals(await Deno.stat(`${f.rootOf("T2_B")}${file.lfn}`).catch(() => null), null, "deleted");
      }
      assert(await settle(f.dynamo, async () => (await read()).status === "completed"), "completed");
      assertEquals(f.clock.now(), NOW, "no interval passed");
      assertEquals(f.blockReplica("/Fast/Delete/AOD", "T2_B"), undefined);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "dataset actors passivate after their idle time on the shared wheel and come back on the next message",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }], { datasetIdleMs: 60_000 });
    try {
      const ref = f.dynamo.tree.datasets!;
      for (let i = 0; i < 50; i++) ref.tell({ type: "touch", dataset: `/D${i}/x/RAW` });
      assert(
        await settle(f.dynamo, async () => (await metric(f.dynamo, "dynamo_dataset_actors_active")) === 50),
      );
      f.clock.advance(30_000);
      ref.tell({ type: "touch", dataset: "/D0/x/RAW" }); // keeps one alive
      await settle(f.dynamo, () => Promise.resolve(true));
      f.clock.advance(31_000);
      assert(
        await settle(f.dynamo, async () => (await metric(f.dynamo, "dynamo_dataset_actors_active")) === 1),
      );
      assertEquals(await metric(f.dynamo, "dynamo_dataset_actor_passivations_total"), 49);
      f.clock.advance(61_000);
      assert(
        await settle(f.dynamo, async () => (await metric(f.dynamo, "dynamo_dataset_actors_active")) === 0),
      );
      ref.tell({ type: "touch", dataset: "/D7/x/RAW" });
      assert(
        await settle(f.dynamo, async () => (await metric(f.dynamo, "dynamo_dataset_actors_active")) === 1),
      );
      assertEquals(await metric(f.dynamo, "dynamo_dataset_actor_activations_total"), 51);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "dataset status lists each file's state and last error and the open requests; hostile names get a 400",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const [file] = await f.dataset("/Where/Is/AOD", 1, ["T2_A"]);
      await Deno.writeFile(`${f.rootOf("T2_A")}${file!.lfn}`, new Uint8Array(file!.bytes.length)); // bit rot
      await f.scheduleCopy("/Where/Is/AOD", "T2_B");
      const request = await placedCopyRequest(db, "/Where/Is/AOD", "T2_B");
      const summary = await f.pass();
      assertEquals(summary.transfers_failed, 1);
      const r = await f.call("GET", "/data/dataset/status?dataset=/Where/Is/AOD");
      assertEquals(r.status, 200, JSON.stringify(r.body));
      const data = r.body.data;
      assertEquals(data.dataset, "/Where/Is/AOD");
      assertEquals(data.deletions, []);
      assertEquals(
        data.copies.map((
          c: { site: string; pending: number; failing: number },
        ) => [c.site, c.pending, c.failing]),
        [
          ["T2_B", 1, 1],
        ],
      );
      const [row] = data.copies[0].file_list;
      assertEquals([row.lfn, row.status, row.attempts], [file!.lfn, "retry", 1]);
      assert(String(row.last_error).startsWith("ECHECKSUM"), row.last_error);
      assertEquals(
        data.copy_requests.map((q: { request_id: number; status: string }) => [q.request_id, q.status]),
        [
          [request.id, "activated"],
        ],
      );
      const activations = await metric(f.dynamo, "dynamo_dataset_actor_activations_total");
      for (
        const bad of [
          "/data/dataset/status",
          "/data/dataset/status?dataset=",
          "/data/dataset/status?dataset=/a/b/c%23blk",
          "/data/dataset/status?dataset=/a/../../etc",
          "/data/dataset/status?dataset=/a/b/c%00",
          `/data/dataset/status?dataset=/${"x".repeat(600)}`,
          "/data/dataset/status?dataset=/a/b/c&site=T2_A",
        ]
      ) {
        const b = await f.call("GET", bad);
        assertEquals(b.status, 400, `${bad}: ${JSON.stringify(b.body)}`);
      }
      assertEquals(
        await metric(f.dynamo, "dynamo_dataset_actor_activations_total"),
        activations,
        "no actor woken",
      );
      const unknown = await f.call("GET", "/data/dataset/status?dataset=/No/Such/RAW");
      assertEquals([unknown.status, unknown.body.data.copies, unknown.body.data.copy_requests], [
        200,
        [],
        [],
      ]);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "many dataset commits at once cost one tracker pass: the nudges are coalesced by a mailbox of one",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      await f.dataset("/Many/Complete/AOD", 1, ["T2_A"]);
      await f.scheduleCopy("/Many/Complete/AOD", "T2_B");
      const request = await placedCopyRequest(db, "/Many/Complete/AOD", "T2_B");
      await f.dynamo.system.runUntilIdle();
      const handled: string[] = [];
      const stop = f.dynamo.system.inspection.subscribe((e) => {
        if (e.type === "message" && e.address === "/dynamo/requests_ticks") handled.push(e.address);
      }, { messages: true });
      // What 50 dataset actors committing together do: each tells the tracker's ticker.
      for (let i = 0; i < 50; i++) f.dynamo.tree.nudgeTracker();
      assertEquals((await f.pass()).transfers_done, 1); // its dataset actor nudges once more
      assert(await settle(f.dynamo, async () => (await request.read()).status === "completed"), "completed");
      stop();
      assert(handled.length >= 1 && handled.length <= 3, `${handled.length} passes for 51 nudges`);
      assertEquals(f.clock.now(), NOW, "no interval passed");
    } finally {
      await f.close();
    }
  },
);
