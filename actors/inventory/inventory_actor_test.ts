import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { SqlInventoryStore } from "../../adapters/db/inventory_store.ts";
import { type InventoryCommand, inventoryDigest, parseCommand } from "../../registry/inventory/mod.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import { sql } from "kysely";
import type { Database } from "../../adapters/db/database.ts";
import { yieldToEventLoop } from "../runtime/clock.ts";
import { takeNow, WRITE_FAILED } from "./inventory_actor.ts";
import { ReaderReplica } from "./reader_replica.ts";

const c = (raw: Record<string, unknown>): InventoryCommand => parseCommand(raw);

const SETUP = [
  c({ op: "site.upsert", name: "T2_A", storage_type: "disk" }),
  c({ op: "group.upsert", name: "G" }),
  c({ op: "dataset.upsert", name: "/A/B/C" }),
  c({ op: "block.upsert", dataset: "/A/B/C", block: "b0" }),
  c({ op: "files.add", dataset: "/A/B/C", block: "b0", files: [{ lfn: "/a/0", size: 5 }] }),
];

dbTest("an acknowledged submission is published and durable", async ({ db }) => {
  const { system, gateway } = await startWriter(db);
  const reply = await gateway.submit({ commands: SETUP });
  assert(reply.ok);
  assertEquals(reply.outcomes.map((o) => o.status), SETUP.map(() => "applied"));
  assertEquals(gateway.snapshot().generation, reply.generation);
  assertEquals(gateway.snapshot().dataset("/A/B/C")!.size, 5);
  await system.shutdown();
  // A brand-new writer over the same database finds everything that was acknowledged.
  const again = await startWriter(db);
  assertEquals(inventoryDigest(again.gateway.snapshot().state), inventoryDigest(gateway.snapshot().state));
  await again.system.shutdown();
});

dbTest("concurrent submissions are group-committed in few transactions", async ({ db }) => {
  const { system, gateway } = await startWriter(db);
  await gateway.submit({ commands: SETUP.slice(0, 3) });
  const replies = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) => gateway.submit({ commands: [c({ op: "dataset.upsert", name: `/D/${i}/X` })] }),
    ),
  );
  assert(replies.every((r) => r.ok && r.outcomes[0]!.status === "applied"));
  const journalRows = (await db.queryArrays("SELECT count(*) FROM inventory_journal"))[0]![0] as number;
  assert(journalRows <= 3, `expected group commit, got ${journalRows} transactions`);
  assertEquals(gateway.snapshot().counts.datasets, 101);
  await system.shutdown();
});

/**
 * Holds the inventory_meta row in a transaction of its own until released: every commit of the
 * writer updates it, so a commit started meanwhile stays in flight (PGlite: the open transaction
 * queues everything else behind it).
 */
async function holdCommits(db: Database): Promise<{ release: () => Promise<void> }> {
  const held = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const done = db.kysely.transaction().execute(async (tx) => {
    await sql`SELECT id FROM inventory_meta WHERE id = 1 FOR UPDATE`.execute(tx);
    held.resolve();
    await release.promise;
  });
  done.catch(held.reject);
  await held.promise;
  return {
    release: async () => {
      release.resolve();
      await done;
    },
  };
}

dbTest("submissions arriving during a commit all go into the next transaction", async ({ db }) => {
  const { system, gateway } = await startWriter(db);
  await gateway.submit({ commands: SETUP.slice(0, 3) });
  const g = gateway.snapshot().generation;
  const ds = (i: number) => ({ commands: [c({ op: "dataset.upsert", name: `/E/${i}/X` })] });
  const hold = await holdCommits(db);
  const replies = [gateway.submit(ds(0))];
  // Each later one arrives in a turn of its own, once the first one's commit has started.
  for (let i = 1; i <= 4; i++) {
    await yieldToEventLoop();
    replies.push(gateway.submit(ds(i)));
  }
  await hold.release();
  const generations = (await Promise.all(replies)).map((r) => r.ok ? r.generation : r.error);
  assertEquals(generations, [g + 1, g + 2, g + 2, g + 2, g + 2]);
  assertEquals(gateway.snapshot().counts.datasets, 6);
  await system.shutdown();
});

Deno.test("takeNow: at once when nothing is being committed or a tenth of a batch waits; else after the commit", () => {
  const sub = (n: number) => ({ submission: { commands: Array.from({ length: n }, () => SETUP[0]!) } });
  const idle = { writing: false, unpublished: 0, answered: 0, arrived: 0 };
  const writing = { writing: true, unpublished: 1, answered: 0, arrived: 0 };
  assertEquals(takeNow(idle, [sub(1)], 10), true);
  assertEquals(takeNow(writing, [], 100), false);
  assertEquals(takeNow(writing, [sub(4), sub(5)], 100), false);
  // A tenth or more: reduced while the commit in flight is written, not after it.
  assertEquals(takeNow(writing, [sub(4), sub(6)], 100), true);
  assertEquals(takeNow(writing, [sub(40), sub(60)], 100), true);
  assertEquals(takeNow(writing, [sub(101)], 100), true);
});

Deno.test("takeNow: a small batch waits for the callers the last publication answered, or the last commit", () => {
  const sub = (n: number) => ({ submission: { commands: Array.from({ length: n }, () => SETUP[0]!) } });
  const small = [sub(3), sub(3)]; // 6 of 100: under a tenth
  const large = [sub(6), sub(5)]; // 11 of 100: a tenth or more
  // The last commit's statements are answered; the one before it is not yet published.
  const twoUnpublished = { writing: false, unpublished: 2, answered: 3, arrived: 5 };
  assertEquals(takeNow(twoUnpublished, small, 100), false);
  assertEquals(takeNow(twoUnpublished, large, 100), true);
  // Only the last one is unpublished: until as many have arrived as were answered.
  assertEquals(takeNow({ writing: false, unpublished: 1, answered: 3, arrived: 2 }, small, 100), false);
  assertEquals(takeNow({ writing: false, unpublished: 1, answered: 3, arrived: 3 }, small, 100), true);
  assertEquals(takeNow({ writing: false, unpublished: 1, answered: 3, arrived: 2 }, large, 100), true);
  // Everything published: at once, whatever arrived.
  assertEquals(takeNow({ writing: false, unpublished: 0, answered: 8, arrived: 0 }, small, 100), true);
  // While statements are being written, even arrivals do not take a small batch.
  assertEquals(takeNow({ writing: true, unpublished: 1, answered: 1, arrived: 9 }, small, 100), false);
});

dbTest("a rejected command is answered with its reason and writes nothing", async ({ db }) => {
  const { system, gateway } = await startWriter(db);
  const reply = await gateway.submit({ commands: [c({ op: "dataset.delete", name: "/No/Such/DS" })] });
  assert(reply.ok);
  const outcome = reply.outcomes[0]!;
  assert(outcome.status === "rejected");
  assertEquals(outcome.error.field, "name");
  assertEquals(reply.generation, 0);
  assertEquals((await db.queryArrays("SELECT count(*) FROM inventory_journal"))[0]![0], 0);
  await system.shutdown();
});

dbTest(
  "a failed write publishes nothing, answers the error, and the writer recovers by reloading",
  async ({ db }) => {
    const { system, gateway, publication } = await startWriter(db);
    await gateway.submit({ commands: SETUP });
    const before = gateway.snapshot();
    // Something else already holds the next journal sequence: the commit fails for real (primary key).
    await db.exec(
      `INSERT INTO inventory_journal (seq, at_ms, version, commands, annex)
     VALUES (${
        before.generation + 1
      }, 0, 1, '[{"op":"dataset.upsert","name":"/From/Elsewhere/X"}]', '{"files":[],"blockFiles":[]}')`,
    );
    const failed = await gateway.submit({ commands: [c({ op: "dataset.upsert", name: "/Lost/Write/X" })] });
    assert(!failed.ok);
    // The caller gets no database text; the cause is kept for the log and the injection queue.
    assertEquals(failed.error, WRITE_FAILED);
    assert(failed.cause !== undefined && failed.cause.length > 0);
    assertEquals(publication.snapshot().dataset("/Lost/Write/X"), undefined);
    await system.runUntilIdle();
    // The restarted writer reloaded the tables and replayed the journal tail it found.
    assertEquals(system.incarnationOf("/inventory"), 2);
    assert(gateway.snapshot().dataset("/From/Elsewhere/X"));
    const retry = await gateway.submit({ commands: [c({ op: "dataset.upsert", name: "/Lost/Write/X" })] });
    assert(retry.ok);
    assertEquals(retry.generation, before.generation + 2);
    await system.shutdown();
  },
);

dbTest("a snapshot held across 1,000 write batches never changes", async ({ db }) => {
  const { system, gateway } = await startWriter(db);
  await gateway.submit({ commands: SETUP });
  await gateway.submit({
    commands: [c({ op: "dataset_replica.upsert", dataset: "/A/B/C", site: "T2_A", group: "G" })],
  });
  const held = gateway.snapshot();
  const digest = inventoryDigest(held.state);
  for (let i = 0; i < 1000; i++) {
    const commands = [
      c({ op: "dataset.upsert", name: `/Bulk/${i}/X`, status: "valid" }),
      c({ op: "block.upsert", dataset: "/A/B/C", block: `x${i}` }),
      c({ op: "dataset.upsert", name: "/A/B/C", last_update: 1000 + i }),
    ];
    if (i % 7 === 0) {
      commands.push(c({ op: "site.upsert", name: "T2_A", status: i % 2 ? "ready" : "waitroom" }));
    }
    const reply = await gateway.submit({ commands });
    assert(reply.ok);
  }
  assertEquals(gateway.snapshot().generation, held.generation + 1000);
  assertEquals(inventoryDigest(held.state), digest);
  assertEquals(held.dataset("/A/B/C")!.blockIds.length, 1);
  assertEquals(gateway.snapshot().dataset("/A/B/C")!.blockIds.length, 1001);
  await system.shutdown();
});

dbTest("a Worker reader replica fed by the committed journal reaches the writer's state", async ({ db }) => {
  const { system, gateway, publication } = await startWriter(db);
  await gateway.submit({ commands: SETUP });
  const store = new SqlInventoryStore(db);
  const replica = await ReaderReplica.start();
  try {
    // Half the history exists before the replica follows, half arrives live.
    await replica.follow(publication, (seq) => store.journalSince(seq, 7));
    await gateway.submit({
      commands: [
        c({ op: "dataset_replica.upsert", dataset: "/A/B/C", site: "T2_A", group: "G" }),
        c({ op: "block_replica.upsert", dataset: "/A/B/C", block: "b0", site: "T2_A", files: [] }),
      ],
    });
    for (let i = 0; i < 30; i++) {
      await gateway.submit({
        commands: [
          c({ op: "block.upsert", dataset: "/A/B/C", block: `n${i}` }),
          c({
            op: "files.add",
            dataset: "/A/B/C",
            block: "b0",
            files: [{ lfn: `/a/x${i}`, size: i + 1, site: "T2_A" }],
          }),
        ],
      });
    }
    await gateway.submit({
      commands: [
        c({ op: "block_replica.upsert", dataset: "/A/B/C", block: "b0", site: "T2_A", files: ["/a/0"] }),
      ],
    });
    const writer = gateway.snapshot();
    await replica.caughtUp(writer.generation);
    assertEquals(replica.error, null);
    assertEquals(await replica.query({ kind: "generation" }), writer.generation);
    assertEquals(await replica.query({ kind: "digest" }), inventoryDigest(writer.state));
  } finally {
    replica.close();
    await system.shutdown();
  }
});
