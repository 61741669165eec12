import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { fileopsFederation, NOW } from "../../tests/helpers/fileops.ts";
import { SqlRequestStore } from "../../adapters/db/request_store.ts";
import { ask } from "../runtime/mod.ts";
import { deletionConflicts, NULL_GROUP_ID, parseCommand } from "../../registry/inventory/mod.ts";
import type { TrackerMsg, TrackerPassSummary } from "../agents/request_tracker.ts";
import type { Dynamo } from "../../service/create_dynamo.ts";

/** Runs the actors' message chains and the I/O they start until `done` holds; the clock never moves. */
async function settle(dynamo: Dynamo, done: () => boolean) {
  for (let i = 0; i < 400; i++) {
    await dynamo.system.runUntilIdle();
    if (done()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

const DS = "/Only/Source/AOD";

dbTest(
  "a deletion of the only source of a copy in flight waits (user) or is refused (Detox) with the reason; allowed once the copy completes",
  async ({ db }) => {
    const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
    try {
      const files = await f.dataset(DS, 2, ["T2_A"]);
      await f.scheduleCopy(DS, "T2_B");
      const tracker = () =>
        ask<TrackerMsg, TrackerPassSummary>(
          f.dynamo.system,
          f.dynamo.tree.tracker!,
          (replyTo) => ({ type: "pass", replyTo }),
          { timeoutMs: 60_000 },
        );
      // A user asks to delete the only source: the request waits, the reason recorded on it.
      const requests = new SqlRequestStore(db);
      const { request } = await requests.submitDeletion("alice", { items: [DS], sites: ["T2_A"] }, NOW);
      const read = async () => (await requests.deletionRequests({ ids: [request.id] }))[0]!;
      const first = await tracker();
      assertEquals(first.error, undefined);
      assertEquals(first.committedGeneration, null, "nothing deleted");
      const waiting = await read();
      assertEquals(waiting.status, "new");
      assertMatch(
        waiting.reason ?? "",
        /^waiting: .*"\/Only\/Source\/AOD#b1" at "T2_A" is the only source .*"T2_B"/,
      );
      assert(f.blockReplica(DS, "T2_A")!.groupId !== NULL_GROUP_ID, "the source is still owned");

      // A Detox cycle decided on a snapshot from before the copy: the writer refuses it with the reason.
      const detoxDeletion = () => {
        const snap = f.dynamo.tree.gateway.snapshot();
        const blockIds = [snap.block(snap.dataset(DS)!.id, "b1")!.id];
        return f.dynamo.tree.gateway.submit({
          commands: [
            { op: "dataset_replica.upsert", dataset: DS, site: "T2_A", group: null, growing: false },
            { op: "block_replica.upsert", dataset: DS, block: "b1", site: "T2_A", group: null },
          ].map((c) => parseCommand(c)),
          atomic: true,
        }, {
          operations: [],
          guard: {
            decidedAt: snap.generation,
            preconditions: deletionConflicts(snap, [{ siteId: snap.site("T2_A")!.id, blockIds }], "detox"),
          },
        });
      };
      const refused = await detoxDeletion();
      assert(refused.ok);
      assertMatch(
        refused.refused ?? "",
        /conflict \(refuse\): .* only source of the copy to "T2_B" in flight/,
      );
      assert(f.blockReplica(DS, "T2_A")!.groupId !== NULL_GROUP_ID, "still owned after the refusal");

      // The copy reads from T2_A and completes.
      assertEquals((await f.pass()).transfers_done, files.length);
      assert(await settle(f.dynamo, () => f.blockReplica(DS, "T2_B")?.fileIds === null), "copy complete");

      // The copy's completion makes the tracker pass (the dataset actor tells it): the waiting request is
      // admitted then; one more pass changes nothing.
      const second = await tracker();
      assertEquals(second.error, undefined);
      const admitted = await read();
      assertEquals(admitted.status, "activated");
      assertEquals(admitted.actions.map((a) => [a.site, a.status]), [["T2_A", "queued"]]);
      assertEquals(f.blockReplica(DS, "T2_A")!.groupId, NULL_GROUP_ID, "being deleted");
      assertEquals(f.clock.now(), NOW, "no interval passed");
    } finally {
      await f.close();
    }
  },
);

dbTest("a Detox deletion with no copy in flight passes the writer's conflict check", async ({ db }) => {
  const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
  try {
    await f.dataset(DS, 1, ["T2_A", "T2_B"]);
    const snap = f.dynamo.tree.gateway.snapshot();
    const blockIds = [snap.block(snap.dataset(DS)!.id, "b1")!.id];
    const reply = await f.dynamo.tree.gateway.submit({
      commands: [{ op: "block_replica.upsert", dataset: DS, block: "b1", site: "T2_A", group: null }].map((
        c,
      ) => parseCommand(c)),
      atomic: true,
    }, {
      operations: [],
      guard: {
        decidedAt: snap.generation,
        preconditions: deletionConflicts(snap, [{ siteId: snap.site("T2_A")!.id, blockIds }], "detox"),
      },
    });
    assert(reply.ok);
    assertEquals(reply.refused, undefined);
    assertEquals(f.blockReplica(DS, "T2_A")!.groupId, NULL_GROUP_ID);
  } finally {
    await f.close();
  }
});
