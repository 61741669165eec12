import { assert, assertEquals } from "../../tests/helpers/assert.ts";
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
