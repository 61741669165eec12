import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { startWriter } from "../../tests/helpers/writer.ts";
import { dealerConfig, oneFileFederation } from "../../tests/helpers/dealer.ts";
import { SeededRng, TestClock } from "../runtime/mod.ts";
import { CycleBudget } from "../../policies/cycle_budget.ts";
import { type DealerDecision, decideDealerCycle } from "../../policies/dealer/dealer_decision.ts";
import { DEFAULT_PARTITIONS, parseCommand } from "../../registry/inventory/mod.ts";
import { SqlDealerHistory } from "../../adapters/db/dealer_history.ts";
import { SqlDetoxHistory } from "../../adapters/db/detox_history.ts";
import { SqlDemandStore } from "../../adapters/db/demand_store.ts";
import { SqlRequestStore } from "../../adapters/db/request_store.ts";
import { SqlAppLockStore } from "../../adapters/db/app_lock_store.ts";
import { ReplicaSlot } from "../inventory/replica_host.ts";
import { startReplica, tellingWhenAsked, withWriteBetween } from "../../tests/helpers/replica_decider.ts";
import { replicaDealerDecider } from "./dealer_on_replica.ts";
import { type DealerAgentOptions, runDealerCycle } from "./dealer.ts";

const NOW = Date.UTC(2026, 10, 25);

/** Five sites; /Copy/Me/AOD only at T2_A; /Any/Where/AOD at T2_A and T2_C. */
const federation = () =>
  oneFileFederation(["T2_A", "T2_B", "T2_C", "T2_D", "T2_E"], [
    ["/Copy/Me/AOD", "T2_A"],
    ["/Any/Where/AOD", "T2_A"],
    ["/Any/Where/AOD", "T2_C"],
  ]);

/** A real writer, a real reader replica in a Worker, and the Dealer deciding there. */
async function start(db: Parameters<typeof startWriter>[0]) {
  const clock = new TestClock(NOW);
  const w = await startWriter(db, clock, DEFAULT_PARTITIONS);
  const setup = await w.gateway.submit({ commands: federation(), atomic: true });
  assert(setup.ok && setup.outcomes.every((o) => o.status === "applied"));
  const requests = new SqlRequestStore(db);
  // One request names its site; the other leaves the choice (a draw of the cycle's random source).
  await requests.submitCopy("alice", { items: ["/Copy/Me/AOD"], sites: ["T2_B"], group: null, n: 1 }, NOW);
  await requests.submitCopy("bob", { items: ["/Any/Where/AOD"], sites: [], group: null, n: 3 }, NOW);
  const { slot, replica } = await startReplica(w, DEFAULT_PARTITIONS);
  const { decider, setBetween } = withWriteBetween(replicaDealerDecider(slot, () => w.gateway, null, clock));
  const history = new SqlDealerHistory(db);
  const options: DealerAgentOptions = {
    gateway: w.gateway,
    config: dealerConfig(),
    enforcer: null,
    requests,
    demand: new SqlDemandStore(db),
    history,
    detoxHistory: new SqlDetoxHistory(db),
    appLocks: new SqlAppLockStore(db),
    intervalMs: 0,
    random: (seed) => new SeededRng(seed),
    decider,
  };
  const cycle = () => runDealerCycle(options, "normal", null, () => clock.now());
  return {
    ...w,
    replica,
    options,
    requests,
    history,
    cycle,
    setBetween,
  };
}

/** A decision without its time budget (which depends on how long it took). */
const withoutBudget = (d: DealerDecision) => {
  const { budget: _budget, ...rest } = d;
  return rest;
};

dbTest("a Dealer cycle on the reader replica makes the same decisions as in-process", async ({ db }) => {
  const t = await start(db);
  try {
    const inputs = {
      now: Math.floor(NOW / 1000),
      copyRequests: await t.requests.openCopyRequests(),
      jobs: [],
      detox: null,
      transferOutcomes: new Map(),
    };
    const generation = t.gateway.snapshot().generation;
    await t.replica.caughtUp(generation);
    const drawn = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      const budget = () =>
        new CycleBudget({ budgetMs: 60_000, now: Date.now, yieldNow: () => Promise.resolve() });
      const inProcess = await decideDealerCycle(
        t.gateway.snapshot(),
        t.options.config,
        inputs,
        null,
        new SeededRng(seed),
        budget(),
      );
      const onReplica = await t.replica.decideDealer({
        config: t.options.config,
        inputs,
        enforcer: null,
        seed,
        budgetMs: 60_000,
      });
      assert(inProcess.kind === "decided" && onReplica.kind === "decided");
      assertEquals(withoutBudget(onReplica), withoutBudget(inProcess));
      assertEquals(onReplica.generation, generation);
      // Both requests are placed: two copies, each relying on its sources.
      drawn.add(inProcess.decisions.find((d) => d.dataset === "/Any/Where/AOD")?.site ?? "none");
      assertEquals(inProcess.copies, 2);
      assert(inProcess.preconditions.length > 0);
    }

    assert(drawn.size > 1 && !drawn.has("none"), "the seeds drew different destinations");

    // A whole cycle decided there commits, with the copy operations recorded by name.
    const summary = await t.cycle();
    assertEquals(summary.error, undefined);
    assertEquals([summary.copies, summary.committedGeneration], [2, generation + 1]);
    const ops = await db.queryArrays(
      "SELECT site, dataset FROM replica_operations WHERE dataset = '/Copy/Me/AOD'",
    );
    assertEquals(ops, [["T2_B", "/Copy/Me/AOD"]]);
    const [cycle] = await t.history.cycles({ limit: 1 });
    assertEquals(cycle!.status, "done");
  } finally {
    await t.system.shutdown();
  }
});

dbTest(
  "a source removed between the replica's decision and the commit makes the writer refuse it; the next cycle decides again",
  async ({ db }) => {
    const t = await start(db);
    try {
      // While the decision travels back, T2_A's copy of /Copy/Me/AOD (its only source) is deleted.
      t.setBetween(async () => {
        const reply = await t.gateway.submit({
          commands: [parseCommand({ op: "dataset_replica.delete", dataset: "/Copy/Me/AOD", site: "T2_A" })],
        });
        assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
      });
      const before = t.gateway.snapshot().generation;
      const refused = await t.cycle();
      assertEquals(refused.committedGeneration, null);
      assertMatch(
        refused.error ?? "",
        /refused.*decided on generation \d+, at generation \d+.*\/Copy\/Me\/AOD.*T2_A/,
      );
      const snap = t.gateway.snapshot();
      assertEquals(snap.generation, before + 1, "only the conflicting write was committed");
      assertEquals(snap.replica(snap.dataset("/Copy/Me/AOD")!.id, snap.site("T2_B")!.id), undefined);
      assertEquals(await db.queryArrays("SELECT count(*) FROM replica_operations"), [[0]]);
      // The requests were left as they were (nothing was committed for them).
      assertEquals((await t.requests.openCopyRequests()).map((r) => r.status), ["new", "new"]);
      const [cycle] = await t.history.cycles({ limit: 1 });
      assertEquals(cycle!.status, "failed");

      // The next cycle decides again on the new state: no source left for /Copy/Me/AOD, so no copy of it.
      const again = await t.cycle();
      assertEquals(again.error, undefined);
      assert(again.generation > refused.generation, "decided on a newer generation");
      assertEquals(again.copies, 1);
      const ops = await db.queryArrays("SELECT dataset FROM replica_operations");
      assertEquals(ops, [["/Any/Where/AOD"]]);
      const [next] = await t.history.cycles({ limit: 1 });
      const rows = await t.history.decisions({ cycleId: next!.id, dataset: "/Copy/Me/AOD" });
      assert(rows.length > 0 && rows.every((r) => !r.accepted), "the request without a source is not placed");
    } finally {
      await t.system.shutdown();
    }
  },
);

dbTest(
  "without a decider (readers: false) the cycle is decided in-process and commits the same way",
  async ({ db }) => {
    const t = await start(db);
    try {
      const { decider: _decider, ...inProcess } = t.options;
      const generation = t.gateway.snapshot().generation;
      const summary = await runDealerCycle(inProcess, "normal", null, () => NOW);
      assertEquals(summary.error, undefined);
      assertEquals([summary.generation, summary.copies, summary.committedGeneration], [
        generation,
        2,
        generation + 1,
      ]);
      const ops = await db.queryArrays("SELECT site FROM replica_operations WHERE dataset = '/Copy/Me/AOD'");
      assertEquals(ops, [["T2_B"]]);
      assertEquals((await t.requests.openCopyRequests()).map((r) => r.status), ["activated", "activated"]);
    } finally {
      await t.system.shutdown();
    }
  },
);

dbTest(
  "a replica that is not built within the budget abandons the Dealer cycle with the reason",
  async ({ db }) => {
    const t = await start(db);
    try {
      // A slot no replica is ever built into, as while one is rebuilt for longer than a cycle's budget.
      const never = tellingWhenAsked(replicaDealerDecider(new ReplicaSlot(), () => t.gateway, null, t.clock));
      const before = t.gateway.snapshot().generation;
      const pending = runDealerCycle(
        {
          ...t.options,
          cycleBudgetMs: 60_000,
          decider: never.decider,
        },
        "normal",
        null,
        () => t.clock.now(),
      );
      await never.asked;
      await t.clock.advance(60_000);
      const summary = await pending;
      assertEquals(
        summary.error,
        "Not decided on the reader replica: it was not built and caught up with the writer within 60 s",
      );
      assertEquals([summary.committedGeneration, t.gateway.snapshot().generation], [null, before]);
      const ops = await db.queryArrays("SELECT count(*)::int FROM replica_operations");
      assertEquals(ops, [[0]]);
    } finally {
      await t.system.shutdown();
    }
  },
);
