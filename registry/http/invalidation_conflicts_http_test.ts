/**
 * Invalidations and deletions in flight on the same dataset (issue 15): an invalidation of a dataset
 * (its files, blocks or itself) while a Detox deletion of it is in flight is refused with the reason,
 * whether applied at once (`deletesync`: 409) or queued (`delete`: the injection is rejected with the
 * reason); another dataset's invalidation goes through, and once the deletion is done so does this one.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import { caller } from "../../tests/helpers/http.ts";
import { parseCommand } from "../inventory/mod.ts";

const DS = "/Gone/X/AOD";
const OTHER = "/Other/X/AOD";

/** DS and OTHER, each with one block of two files, complete at T2_A and T2_B. */
function federation(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    ...["T2_A", "T2_B"].map((name) => ({ op: "site.upsert", name, storage_type: "disk", status: "ready" })),
  ];
  for (const dataset of [DS, OTHER]) {
    out.push(
      { op: "dataset.upsert", name: dataset, status: "valid" },
      { op: "block.upsert", dataset, block: "b0" },
      {
        op: "files.add",
        dataset,
        block: "b0",
        files: [{ lfn: `${dataset}/f0`, size: 10 }, { lfn: `${dataset}/f1`, size: 10 }],
      },
    );
    for (const site of ["T2_A", "T2_B"]) {
      out.push(
        { op: "dataset_replica.upsert", dataset, site, group: "AnalysisOps", growing: false },
        { op: "block_replica.upsert", dataset, block: "b0", site },
      );
    }
  }
  return out;
}

/** An invalidation document removing one file of a dataset. */
const invalidation = (dataset: string, file: string) => ({
  dataset: [{ name: dataset, blocks: [{ name: "b0", files: [{ name: `${dataset}/${file}` }] }] }],
});

dbTest(
  "an invalidation of a dataset while a Detox deletion of it is in flight is refused with the reason",
  async ({ db }) => {
    const users = new SqlUserStore(db);
    const { token } = await users.addUser({
      name: "admin",
      authorizations: [parseAuthorization("admin:inventory")],
    }, 0);
    const dynamo = await createDynamo({ database: db, clock: new TestClock() });
    await dynamo.ready;
    const call = caller(dynamo.app);
    const submit = async (raw: Record<string, unknown>[]) => {
      const reply = await dynamo.port.submit({ commands: raw.map((c) => parseCommand(c)), atomic: true });
      assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"), JSON.stringify(reply));
    };
    const files = (dataset: string) => dynamo.port.snapshot().dataset(dataset)!.numFiles;
    try {
      await submit(federation());
      // Detox commits the deletion of DS at T2_A: its block replica passes to the null group.
      await submit([
        { op: "dataset_replica.upsert", dataset: DS, site: "T2_A", group: null, growing: false },
        { op: "block_replica.upsert", dataset: DS, block: "b0", site: "T2_A", group: null },
      ]);
      const reason = /conflict \(wait\): a Detox deletion of "\/Gone\/X\/AOD#b0" is in flight/;

      const now = await call("POST", "/data/inventory/deletesync", { body: invalidation(DS, "f0"), token });
      assertEquals(now.status, 409, JSON.stringify(now.body));
      assertMatch(now.body.message, reason);
      assertEquals(files(DS), 2, "nothing invalidated");

      const queued = await call("POST", "/data/inventory/delete", { body: invalidation(DS, "f1"), token });
      assertEquals(queued.status, 200, queued.body.message);
      const id = queued.body.data.injection_id;
      let view = { status: "queued", result: null as { error?: string } | null };
      for (let i = 0; i < 100 && view.status === "queued"; i++) {
        await dynamo.system.runUntilIdle();
        view = (await call("GET", `/data/inventory/injection?id=${id}`)).body.data;
      }
      assertEquals(view.status, "rejected", JSON.stringify(view));
      assertMatch(view.result?.error ?? "", reason);
      assertEquals(files(DS), 2, "nothing invalidated");

      // Another dataset's invalidation is not held.
      const other = await call("POST", "/data/inventory/deletesync", {
        body: invalidation(OTHER, "f0"),
        token,
      });
      assertEquals(other.status, 200, other.body.message);
      assertEquals(files(OTHER), 1);

      // The deletion completes (the replica is gone): the invalidation applies.
      await submit([{ op: "dataset_replica.delete", dataset: DS, site: "T2_A" }]);
      const later = await call("POST", "/data/inventory/deletesync", { body: invalidation(DS, "f0"), token });
      assertEquals(later.status, 200, later.body.message);
      assertEquals(files(DS), 1);
    } finally {
      await dynamo.close();
    }
  },
);
