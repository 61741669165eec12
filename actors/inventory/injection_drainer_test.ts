import { assert, assertEquals, assertStringIncludes } from "../../tests/helpers/assert.ts";
import { sql } from "kysely";
import { dbTest } from "../../tests/helpers/db.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import { injectionToCommands } from "../../registry/inventory/mod.ts";
import { injectionDrainer } from "./injection_drainer.ts";

const PAYLOAD = {
  site: [{ name: "T2_A", storage_type: "disk" }],
  dataset: [{ name: "/A/B/C", blocks: [{ name: "b", files: [{ name: "/f/1", size: 3 }] }] }],
};

dbTest(
  "queued injections are applied in order, exactly once, and their status can be polled",
  async ({ db }) => {
    const { system, gateway, queue, clock } = await startWriter(db);

    const first = await queue.enqueue("inject", PAYLOAD, "alice", clock.now());
    const bad = await queue.enqueue("delete", { dataset: [{ name: "/No/Such/X" }] }, "alice", clock.now());
    const second = await queue.enqueue(
      "inject",
      { datasetreplica: [{ dataset: "/A/B/C", site: "T2_A", group: null }] },
      "bob",
      clock.now(),
    );
    assertEquals((await queue.get(first))!.status, "queued");

    const drainer = system.spawn({
      id: "injections",
      restart: "permanent",
      behavior: () => injectionDrainer({ queue, gateway }),
    });
    await system.runUntilIdle();
    // Wait for the asynchronous submissions to settle.
    for (let i = 0; i < 50 && (await queue.queued(0, 10)).length > 0; i++) await system.runUntilIdle();

    const a = (await queue.get(first))!;
    assertEquals([a.status, a.user, a.kind], ["applied", "alice", "inject"]);
    assertEquals(a.result, {
      applied: { "site.upsert": 1, "dataset.upsert": 1, "block.upsert": 1, "files.add": 1 },
      rejected: [],
      aborted: 0,
    });
    assert(a.appliedSeq !== null && a.appliedSeq > 0);
    const r = (await queue.get(bad))!;
    assertEquals(r.status, "rejected");
    assertEquals((r.result as { rejected: { field: string }[] }).rejected[0]!.field, "name");
    assertEquals((await queue.get(second))!.status, "applied");
    assert(gateway.snapshot().dataset("/A/B/C"));

    // Submitting an already-settled injection again changes nothing.
    const generation = gateway.snapshot().generation;
    const again = await gateway.submit({ commands: injectionToCommands(PAYLOAD), atomic: true }, {
      injectionId: first,
    });
    assert(again.ok && again.alreadySettled === true);
    assertEquals(gateway.snapshot().generation, generation);

    await system.stop(drainer);
    await system.shutdown();
  },
);

dbTest(
  "a queued injection that fails to apply twice is moved aside with its error, and the queue goes on",
  async ({ db }) => {
    const { system, gateway, queue, clock } = await startWriter(db);
    // A failure no validation foresees: the database itself refuses this dataset at commit time.
    await db.kysely.schema.alterTable("datasets")
      .addCheckConstraint("no_poison", sql`name <> '/Poison/X/Y'`).execute();
    const poison = {
      site: [{ name: "T2_P", storage_type: "disk" }],
      dataset: [{ name: "/Poison/X/Y", blocks: [{ name: "b", files: [{ name: "/p/1", size: 1 }] }] }],
    };
    const before = await queue.enqueue("inject", PAYLOAD, "alice", clock.now());
    const bad = await queue.enqueue("inject", poison, "mallory", clock.now());
    const after = await queue.enqueue(
      "inject",
      { dataset: [{ name: "/D/E/F", blocks: [{ name: "b", files: [{ name: "/f/2", size: 4 }] }] }] },
      "bob",
      clock.now(),
    );

    const drainer = system.spawn({
      id: "injections",
      restart: "permanent",
      behavior: () => injectionDrainer({ queue, gateway, pollMs: 1_000 }),
    });
    // Each failed commit restarts the writer (with backoff); polls bring the retries.
    for (let i = 0; i < 200 && (await queue.queued(0, 10)).length > 0; i++) {
      await system.runUntilIdle();
      await clock.advance(1_000);
    }

    const p = (await queue.get(bad))!;
    assertEquals([p.status, p.attempts], ["failed", 2]);
    assertStringIncludes(p.lastError ?? "", "no_poison");
    assertEquals(p.result, { error: p.lastError });
    assertEquals((await queue.list({ status: "failed", limit: 10 })).map((r) => r.id), [bad]);
    // Its neighbours were in the poisoned group commit once; retried alone, they applied.
    assertEquals((await queue.get(before))!.status, "applied");
    assertEquals((await queue.get(after))!.status, "applied");
    assert(gateway.snapshot().dataset("/D/E/F"));
    assert(!gateway.snapshot().dataset("/Poison/X/Y"));

    // A later injection applies: the writer is alive.
    const next = await queue.enqueue(
      "inject",
      { dataset: [{ name: "/G/H/I", blocks: [{ name: "b" }] }] },
      "bob",
      clock.now(),
    );
    for (let i = 0; i < 50 && (await queue.get(next))!.status === "queued"; i++) {
      await system.runUntilIdle();
      await clock.advance(1_000);
    }
    assertEquals((await queue.get(next))!.status, "applied");

    await system.stop(drainer);
    await system.shutdown();
  },
);

dbTest(
  "an injection whose attempts died with the process is moved aside on the next start",
  async ({ db }) => {
    const { system, gateway, queue, clock } = await startWriter(db);
    const id = await queue.enqueue("inject", PAYLOAD, "alice", clock.now());
    // Two attempts were counted and neither reported back (the process was killed during each).
    await queue.beginAttempt(id, clock.now());
    await queue.beginAttempt(id, clock.now());
    const drainer = system.spawn({
      id: "injections",
      restart: "permanent",
      behavior: () => injectionDrainer({ queue, gateway }),
    });
    for (let i = 0; i < 50 && (await queue.get(id))!.status === "queued"; i++) await system.runUntilIdle();
    const r = (await queue.get(id))!;
    assertEquals(r.status, "failed");
    assertStringIncludes(r.lastError ?? "", "stopped while applying");
    assert(!gateway.snapshot().dataset("/A/B/C"), "not applied a third time");
    await system.stop(drainer);
    await system.shutdown();
  },
);
