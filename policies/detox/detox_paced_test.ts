import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { randomFederation } from "../../tests/helpers/federation.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { CycleBudget, CycleBudgetExceeded } from "../cycle_budget.ts";
import { runDetox, runDetoxPaced } from "./detox_engine.ts";
import { parseDetoxPolicy } from "./detox_policy.ts";
import { PartitionImage } from "./partition_image.ts";

const NOW = Date.UTC(2026, 10, 25);
const POLICY = `Partition Physics
On site.name in [T2_* T1_*]
When site.occupancy > 0.9
Until site.occupancy < 0.85
Ignore site.storage_type == MSS
Protect replica.incomplete
Protect dataset.name =~ /[^/]+/[^/]+/RAW and dataset.on_tape != FULL
Protect replica.num_full_other_copy_common_owner == 0
Dismiss
Order decreasing dataset.usage_rank increasing replica.size
`;

function setup(seed: number) {
  const { h, attrs } = randomFederation({ seed, quota: 6000, datasets: 600 });
  const snap = new Snapshot(h.state);
  const policy = parseDetoxPolicy(POLICY, { nowMs: NOW });
  return { image: () => PartitionImage.build(snap, policy, attrs), policy };
}

/** A clock that advances one millisecond at every look: deterministic, no real time. */
function ticking() {
  let t = 0;
  return () => (t += 1);
}

Deno.test("a paced Detox run yields to other work and decides exactly as the straight run", async () => {
  for (const seed of [1, 2, 3]) {
    const { image, policy } = setup(seed);
    const straight = runDetox(image(), policy);
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
    const paced = await runDetoxPaced(image(), policy, {}, budget);
    assertEquals(JSON.stringify(paced), JSON.stringify(straight), `seed ${seed}`);
    assert(straight.evaluations >= 512, `seed ${seed}: only ${straight.evaluations} evaluations`);
    assert(yields >= Math.floor(straight.evaluations / 256), `seed ${seed}: ${yields} yields`);
    assertEquals(budget.report().yields, yields);
    assertEquals(budget.report().exceeded, false);
  }
});

Deno.test("a Detox run past its time budget stops with CycleBudgetExceeded", async () => {
  const { image, policy } = setup(1);
  const budget = new CycleBudget({ budgetMs: 3, now: ticking(), yieldNow: () => Promise.resolve() });
  const e = await assertRejects(() => runDetoxPaced(image(), policy, {}, budget), CycleBudgetExceeded);
  assertEquals(e.stage, "evaluation");
  assertEquals(budget.report().exceeded, true);
});
