import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { withinMinutes } from "../../tests/helpers/hang_guard.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";
import { WRITE_FAILED } from "./inventory_actor.ts";

const dataset = (name: string) => ({ commands: [parseCommand({ op: "dataset.upsert", name })] });

/**
 * A commit that is durable but cannot be published (a fault of ours after COMMIT) must not leave the
 * writer waiting for a publication that never comes: the group commit holds small batches until the
 * last commit is published. Its callers are told the write's outcome is unknown (as for any failed
 * commit), the writer reloads what is durable, and the next submission is answered.
 */
dbTest(
  "a commit that cannot be published makes the writer reload, and the next batch is answered",
  async ({ db }) => {
    const { system, gateway, publication } = await startWriter(db);
    await gateway.submit(dataset("/Setup/A/X"));
    const publish = publication.publishCommitted.bind(publication);
    let faults = 1;
    publication.publishCommitted = (entry, state) => {
      if (faults-- > 0) throw new Error("injected fault after COMMIT");
      publish(entry, state);
    };
    const lost = await withinMinutes(
      "the unpublished commit's answer",
      gateway.submit(dataset("/Durable/B/X")),
    );
    assertEquals(lost.ok, false);
    assert(!lost.ok && lost.error === WRITE_FAILED, JSON.stringify(lost));
    const next = await withinMinutes("the next submission", gateway.submit(dataset("/After/C/X")));
    assert(next.ok, JSON.stringify(next));
    // The reload found the commit that was durable: both datasets are there.
    const snap = gateway.snapshot();
    assert(snap.dataset("/Durable/B/X") !== undefined, "the durable commit was not reloaded");
    assert(snap.dataset("/After/C/X") !== undefined);
    await system.shutdown();
  },
);
