import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import {
  COMMAND_VERSION,
  type InventoryCommand,
  inventoryDigest,
  type JournalEntry,
  parseCommand,
} from "../../registry/inventory/mod.ts";
import { ReaderReplica } from "./reader_replica.ts";
import type { InventoryGateway } from "./inventory_gateway.ts";

const c = (raw: Record<string, unknown>): InventoryCommand => parseCommand(raw);

/** Two sites, a group, 8 datasets of 3 blocks with files, each replicated at one site: ~100 rows. */
async function populate(gateway: InventoryGateway): Promise<void> {
  const commands = [
    c({ op: "site.upsert", name: "T2_A", storage_type: "disk" }),
    c({ op: "site.upsert", name: "T2_B", storage_type: "disk" }),
    c({ op: "group.upsert", name: "G" }),
    c({ op: "quota.set", site: "T2_A", partition: "Default", quota: 10_000 }),
  ];
  for (let d = 0; d < 8; d++) {
    const ds = `/D/${d}/AOD`;
    commands.push(c({ op: "dataset.upsert", name: ds }));
    for (let b = 0; b < 3; b++) {
      commands.push(c({ op: "block.upsert", dataset: ds, block: `b${b}` }));
      commands.push(c({
        op: "files.add",
        dataset: ds,
        block: `b${b}`,
        files: [{ lfn: `${ds}/b${b}/f0`, size: 10 + d }, { lfn: `${ds}/b${b}/f1`, size: 3 }],
      }));
    }
    const site = d % 2 ? "T2_A" : "T2_B";
    commands.push(c({ op: "dataset_replica.upsert", dataset: ds, site, group: "G" }));
    for (let b = 0; b < 3; b++) {
      commands.push(c({ op: "block_replica.upsert", dataset: ds, block: `b${b}`, site, group: "G" }));
    }
  }
  const reply = await gateway.submit({ commands });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
}

/** A gate the build waits at before slice `at`, until the test opens it. */
function gateAt(at: number) {
  const reached = Promise.withResolvers<void>();
  const open = Promise.withResolvers<void>();
  return {
    reached: reached.promise,
    open: () => open.resolve(),
    beforeSlice: async (slice: number) => {
      if (slice !== at) return;
      reached.resolve();
      await open.promise;
    },
  };
}

/** Writes that add, change and delete rows the build has or has not streamed yet. */
function writesDuringBuild(i: number): InventoryCommand[] {
  return [
    c({ op: "dataset.upsert", name: `/New/${i}/AOD` }),
    c({
      op: "files.add",
      dataset: "/D/0/AOD",
      block: "b0",
      files: [{ lfn: `/D/0/AOD/b0/new${i}`, size: 100 + i, site: "T2_B" }],
    }),
    c({ op: "block.delete", dataset: `/D/${7 - i % 4}/AOD`, block: `b${i % 3}` }),
    c({ op: "site.upsert", name: "T2_A", storage_type: "disk", status: i % 2 ? "ready" : "waitroom" }),
  ];
}

dbTest(
  "writes committed during a replica build are acknowledged before it ends; the replica reaches the writer's state",
  async ({ db }) => {
    const { system, gateway, publication } = await startWriter(db);
    await populate(gateway);
    const snapshotAt = publication.snapshot().generation;
    const replica = await ReaderReplica.start();
    try {
      const gate = gateAt(3);
      let finished = false;
      const built = replica.buildFrom(publication, { rowsPerMessage: 7, beforeSlice: gate.beforeSlice })
        .then((ok) => {
          finished = true;
          return ok;
        });
      await gate.reached; // three slices of rows sent, the rest held back
      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await gateway.submit({ commands: writesDuringBuild(i) }));
      // Acknowledged (and published) while the build is still held at its gate.
      assert(
        replies.every((r) => r.ok && r.outcomes.every((o) => o.status === "applied")),
        JSON.stringify(replies),
      );
      assertEquals(finished, false);
      assertEquals(publication.snapshot().generation, snapshotAt + 4);
      assertEquals(replica.applied, 0);
      gate.open();
      assertEquals(await built, true);
      const writer = publication.snapshot();
      await replica.caughtUp(writer.generation);
      assertEquals(replica.error, null);
      assertEquals(await replica.query({ kind: "generation" }), writer.generation);
      assertEquals(await replica.query({ kind: "digest" }), inventoryDigest(writer.state));
      // And it follows live afterwards.
      await gateway.submit({ commands: writesDuringBuild(9) });
      await replica.caughtUp(publication.snapshot().generation);
      assertEquals(await replica.query({ kind: "digest" }), inventoryDigest(publication.snapshot().state));
    } finally {
      replica.close();
      await system.shutdown();
    }
  },
);

dbTest(
  "a write between the snapshot and the end of the build is neither lost nor applied twice",
  async ({ db }) => {
    const { system, gateway, publication } = await startWriter(db);
    await populate(gateway);
    const entries: JournalEntry[] = [];
    publication.subscribe((entry) => entries.push(entry));
    const replica = await ReaderReplica.start();
    try {
      // Held before the first slice: the snapshot is taken, no row has been sent.
      const gate = gateAt(0);
      const built = replica.buildFrom(publication, { rowsPerMessage: 50, beforeSlice: gate.beforeSlice });
      await gate.reached;
      const snapshotAt = publication.snapshot().generation;
      // Not idempotent: applied twice, the block would hold the file twice (or the entry would not apply).
      const reply = await gateway.submit({
        commands: [
          c({
            op: "files.add",
            dataset: "/D/1/AOD",
            block: "b1",
            files: [{ lfn: "/D/1/AOD/b1/late", size: 7, site: "T2_A" }],
          }),
        ],
      });
      assert(reply.ok && reply.generation === snapshotAt + 1, JSON.stringify(reply));
      gate.open();
      assertEquals(await built, true);
      const writer = publication.snapshot();
      await replica.caughtUp(writer.generation);
      const mirrored = await replica.query<{ size: number; numFiles: number }>({
        kind: "dataset",
        name: "/D/1/AOD",
      });
      assertEquals([mirrored.size, mirrored.numFiles], [writer.dataset("/D/1/AOD")!.size, 7]);
      assertEquals(await replica.query({ kind: "digest" }), inventoryDigest(writer.state));
      // The same entry delivered again (at or below the replica's generation) is dropped.
      replica.feed(entries);
      await replica.caughtUp(writer.generation);
      assertEquals(replica.error, null);
      assertEquals(await replica.query({ kind: "digest" }), inventoryDigest(writer.state));
    } finally {
      replica.close();
      await system.shutdown();
    }
  },
);

dbTest("a journal entry that does not follow the built replica fails it (divergence)", async ({ db }) => {
  const { system, gateway, publication } = await startWriter(db);
  await populate(gateway);
  const failures: string[] = [];
  const replica = await ReaderReplica.start({ onFailure: (e) => failures.push(e.message) });
  try {
    assertEquals(await replica.buildFrom(publication), true);
    const at = publication.snapshot().generation;
    await replica.caughtUp(at);
    // An entry whose predecessor never arrived (a reload published without one, a lost message).
    replica.feed([{
      seq: at + 2,
      atMs: 0,
      version: COMMAND_VERSION,
      commands: [c({ op: "dataset.upsert", name: "/Gap/X/Y" })],
      annex: { files: [], blockFiles: [] },
    }]);
    await assertRejects(() => replica.caughtUp(at + 2), Error, "does not follow generation");
    assertEquals(failures.length, 1);
    assertMatch(failures[0]!, /does not follow generation/);
  } finally {
    replica.close();
    await system.shutdown();
  }
});

dbTest("a replica closed during its build stops streaming and reports it was not built", async ({ db }) => {
  const { system, gateway, publication } = await startWriter(db);
  await populate(gateway);
  const replica = await ReaderReplica.start();
  try {
    const gate = gateAt(1);
    const built = replica.buildFrom(publication, { rowsPerMessage: 5, beforeSlice: gate.beforeSlice });
    await gate.reached;
    replica.close();
    gate.open();
    assertEquals(await built, false);
  } finally {
    replica.close();
    await system.shutdown();
  }
});
