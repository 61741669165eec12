import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dealerConfig, dealerFederation, NOW, rng, snap } from "../../tests/helpers/dealer.ts";
import { CycleBudget, CycleBudgetExceeded } from "../cycle_budget.ts";
import { dealerCycle, type DealerCycleInputs, dealerCyclePaced } from "./dealer_cycle.ts";

const GB = 1e9;
const TB = 1e12;

function inputs(): DealerCycleInputs {
  const sites = Array.from({ length: 10 }, (_, i) => ({ name: `T2_S${i}`, quota: (50 + i * 10) * TB }));
  const datasets = Array.from({ length: 30 }, (_, i) => ({
    name: `/D${i}/P/AOD`,
    blocks: 1 + (i % 4),
    fileSize: (1 + i) * 10 * GB,
    at: [`T2_S${i % 10}`],
  }));
  const h = dealerFederation(sites, datasets);
  return {
    snapshot: snap(h),
    config: dealerConfig(),
    rng: rng(7),
    now: NOW,
    copyRequests: [],
    jobs: datasets.map((d, i) => ({ dataset: d.name, queued: NOW - i * 3600, jobs: 1 + i })),
    enforcer: null,
    detox: null,
    transferOutcomes: new Map(),
  };
}

/** Every look advances a millisecond: no real time in the test. */
function ticking() {
  let t = 0;
  return () => (t += 1);
}

Deno.test("a paced Dealer cycle yields between its steps and decides exactly as the straight cycle", async () => {
  const straight = dealerCycle(inputs());
  let yields = 0;
  const budget = new CycleBudget({
    budgetMs: 1e9,
    now: ticking(),
    sliceMs: 0,
    yieldNow: () => {
      yields += 1;
      return Promise.resolve();
    },
  });
  const paced = await dealerCyclePaced(inputs(), budget);
  assertEquals(JSON.stringify(paced), JSON.stringify(straight));
  assert(straight.result.decisions.length > 0, "the cycle should decide something");
  // One checkpoint per plugin, then the engine and the copy plan.
  assertEquals(yields, dealerConfig().plugins.length + 2);
});

Deno.test("a Dealer cycle past its time budget stops with CycleBudgetExceeded", async () => {
  const budget = new CycleBudget({ budgetMs: 1, now: ticking(), yieldNow: () => Promise.resolve() });
  const e = await assertRejects(() => dealerCyclePaced(inputs(), budget), CycleBudgetExceeded);
  assert(e.stage.startsWith("plugin ") || e.stage === "engine", e.stage);
});
