import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import { analysisFederation } from "../../tests/helpers/analysis_federation.ts";
import { TestClock } from "../runtime/mod.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import { parseCommand, type Snapshot } from "../../registry/inventory/mod.ts";
import { SqlDetoxHistory } from "../../adapters/db/detox_history.ts";
import { SqlLockStore } from "../../adapters/db/lock_store.ts";
import { SqlAccessStore } from "../../adapters/db/access_store.ts";
import { ReplicaSlot } from "../inventory/replica_host.ts";
import { startReplica, tellingWhenAsked, withWriteBetween } from "../../tests/helpers/replica_decider.ts";
import { replicaDetoxDecider } from "./detox_on_replica.ts";
import { ServiceMetrics } from "../observability/service_metrics.ts";
import { type DetoxAgentOptions, runCycle } from "./detox.ts";

const NOW = Date.UTC(2026, 10, 25);
const PARTITIONS = parsePartitions("Analysis: blockreplica.owner == AnalysisOps\n");
const POLICY = `Partition Analysis
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
Protect replica.num_full_other_copy_common_owner == 0
Dismiss
Order decreasing dataset.usage_rank
`;

/** A real writer, a real reader replica in a Worker, and Detox deciding there. */
async function start(db: Parameters<typeof startWriter>[0]) {
  const clock = new TestClock(NOW);
  const w = await startWriter(db, clock, PARTITIONS);
  const setup = await w.gateway.submit({ commands: analysisFederation(NOW), atomic: true });
  assert(setup.ok && setup.outcomes.every((o) => o.status === "applied"));
  const { slot, replica } = await startReplica(w, PARTITIONS);
  const { decider, setBetween } = withWriteBetween(replicaDetoxDecider(slot, () => w.gateway, null, clock));
  const history = new SqlDetoxHistory(db);
  const options: DetoxAgentOptions = {
    gateway: w.gateway,
    history,
    locks: new SqlLockStore(db),
    accesses: new SqlAccessStore(db),
    policies: [{ file: "analysis.txt", text: POLICY }],
    intervalMs: 0,
    deletionPerIteration: 1,
    decider,
  };
  const cycle = (now = () => clock.now(), budgetMs?: number) =>
    runCycle(
      { ...options, ...(budgetMs !== undefined ? { cycleBudgetMs: budgetMs } : {}) },
      options.policies[0]!,
      { mode: "normal" },
      now,
    );
  return { ...w, replica, slot, cycle, history, setBetween };
}

const owner = (snap: Snapshot, dataset: string, site: string) => {
  const d = snap.dataset(dataset)!;
  const dr = snap.replica(d.id, snap.site(site)!.id);
  return dr ? snap.groupById(dr.blockReplicas[0]!.groupId)!.name : "absent";
};

dbTest("a Detox cycle decided on the reader replica commits with the copies it relies on", async ({ db }) => {
  const t = await start(db);
  try {
    const summary = await t.cycle();
    assertEquals(summary.error, undefined);
    assert(summary.committedGeneration !== null);
    // The replica decided on the generation the writer had published when the cycle started.
    assertEquals(summary.generation, summary.committedGeneration - 1);
    const snap = t.gateway.snapshot();
    // One copy of each shared dataset goes; the other copy (what the decision relied on) stays.
    const owners = ["/S/one/AOD", "/S/two/AOD"].map((d) => [owner(snap, d, "T2_A"), owner(snap, d, "T2_B")]);
    assertEquals(owners.flat().filter((o) => o === null).length, 2);
    for (const pair of owners) assert(pair.includes("AnalysisOps"), "a last copy was deleted");
    await t.replica.caughtUp(snap.generation);
    assertEquals(t.slot.lag(snap.generation), 0);
    const metrics = new ServiceMetrics(t.system, t.publication, () => t.slot).render();
    assertMatch(metrics, /^dynamo_replica_ready 1$/m);
    assertMatch(metrics, /^dynamo_replica_lag_generations 0$/m);
  } finally {
    await t.system.shutdown();
  }
});

dbTest(
  "a write landing between the replica's decision and the commit makes the writer refuse it; the next cycle decides again",
  async ({ db }) => {
    const t = await start(db);
    try {
      // While the cycle's decision travels back, someone else deletes T2_B's copy of both shared datasets.
      t.setBetween(async () => {
        const reply = await t.gateway.submit({
          commands: ["/S/one/AOD", "/S/two/AOD"].map((dataset) =>
            parseCommand({ op: "block_replica.upsert", dataset, block: "b1", site: "T2_B", group: null })
          ),
        });
        assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
      });
      const before = t.gateway.snapshot().generation;
      const refused = await t.cycle();
      assertEquals(refused.committedGeneration, null);
      assertMatch(refused.error ?? "", /refused.*decided on generation \d+, at generation \d+.*T2_B/);
      // Nothing unsafe was applied: T2_A still owns both shared datasets (now their last copies).
      const snap = t.gateway.snapshot();
      assertEquals(snap.generation, before + 1, "only the conflicting write was committed");
      assertEquals(owner(snap, "/S/one/AOD", "T2_A"), "AnalysisOps");
      assertEquals(owner(snap, "/S/two/AOD", "T2_A"), "AnalysisOps");
      assertEquals(await db.queryArrays("SELECT count(*) FROM replica_operations"), [[0]]);
      // The refusal and its reason are in the cycle's history.
      const [cycle] = await t.history.cycles({ partition: "Analysis", limit: 1 });
      assertEquals(cycle!.status, "failed");
      assertMatch(cycle!.budget?.error ?? "", /refused/);

      // The next cycle decides again on the new state: T2_B's copies are being deleted (out of the
      // partition), so T2_A is alone with them and protects them; T2_A is still full but deletes nothing unsafe.
      const again = await t.cycle();
      assertEquals(again.error, undefined);
      assert(again.generation > refused.generation, "decided on a newer generation");
      const after = t.gateway.snapshot();
      assertEquals(owner(after, "/S/one/AOD", "T2_A"), "AnalysisOps");
      assertEquals(owner(after, "/S/two/AOD", "T2_A"), "AnalysisOps");
    } finally {
      await t.system.shutdown();
    }
  },
);

dbTest(
  "a replica's decision that comes back after the budget (on the service's clock) is abandoned",
  async ({ db }) => {
    const t = await start(db);
    try {
      // Each look at this clock costs a second; the budget is half a second.
      let looks = 0;
      const before = t.gateway.snapshot().generation;
      const summary = await t.cycle(() => NOW + 1000 * looks++, 500);
      assertMatch(
        summary.error ?? "",
        /^time budget of 0\.5 s exceeded \(\d+ s, during the decision on the reader replica\)$/,
      );
      assertEquals(summary.committedGeneration, null);
      assertEquals(t.gateway.snapshot().generation, before, "nothing committed");
      const [cycle] = await t.history.cycles({ partition: "Analysis", limit: 1 });
      assertEquals([cycle!.status, cycle!.budget?.exceeded], ["failed", true]);
    } finally {
      await t.system.shutdown();
    }
  },
);

dbTest(
  "a replica that is not built within the budget abandons the cycle with the reason, on the service's clock",
  async ({ db }) => {
    const t = await start(db);
    try {
      // A slot no replica is ever built into, as while one is rebuilt for longer than a cycle's budget.
      const never = tellingWhenAsked(replicaDetoxDecider(new ReplicaSlot(), () => t.gateway, null, t.clock));
      const before = t.gateway.snapshot().generation;
      const pending = runCycle(
        {
          gateway: t.gateway,
          history: t.history,
          locks: new SqlLockStore(db),
          accesses: new SqlAccessStore(db),
          policies: [{ file: "analysis.txt", text: POLICY }],
          intervalMs: 0,
          cycleBudgetMs: 60_000,
          decider: never.decider,
        },
        { file: "analysis.txt", text: POLICY },
        { mode: "normal" },
        () => t.clock.now(),
      );
      await never.asked;
      await t.clock.advance(59_999);
      let done = false;
      void pending.then(() => (done = true));
      await Promise.resolve();
      assert(!done, "still waiting within the budget");
      await t.clock.advance(1);
      const summary = await pending;
      assertEquals(
        summary.error,
        "Not decided on the reader replica: it was not built and caught up with the writer within 60 s",
      );
      assertEquals([summary.committedGeneration, t.gateway.snapshot().generation], [null, before]);
      const [cycle] = await t.history.cycles({ partition: "Analysis", limit: 1 });
      assertEquals([cycle!.status, cycle!.budget?.exceeded, cycle!.budget?.elapsedMs], [
        "failed",
        true,
        60_000,
      ]);
    } finally {
      await t.system.shutdown();
    }
  },
);
