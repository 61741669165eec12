import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { TestClock } from "../runtime/mod.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";
import { caller } from "../../tests/helpers/http.ts";

const NOW = Date.UTC(2026, 10, 25);
const POLICY = `Partition Default
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
Protect dataset.name =~ /(a+)+b
Dismiss
Order increasing replica.size
`;

/** Every look at this clock costs a second: a cycle "takes" as long as it looks, deterministically. */
class SlowClock extends TestClock {
  #looks = 0;
  override now(): number {
    return super.now() + 1000 * ++this.#looks;
  }
}

async function setUp(
  db: Parameters<Parameters<typeof dbTest>[1]>[0]["db"],
  clock: TestClock,
  budgetMs?: number,
) {
  const users = new SqlUserStore(db);
  const { token } = await users.addUser({
    name: "ops",
    authorizations: ["admin:inventory", "admin:application"].map(parseAuthorization),
  }, 0);
  const dynamo = await createDynamo({
    database: db,
    clock,
    detox: {
      policies: [{ file: "default.txt", text: POLICY }],
      intervalMs: 0,
      deletionPerIteration: 1,
      protectedSites: [],
      enforcer: null,
    },
    ...(budgetMs !== undefined ? { cycleBudgetMs: budgetMs } : {}),
    // The cycle on the main isolate, paced by the injected clock: a Worker's cycle runs on real time.
    readers: false,
  });
  await dynamo.ready;
  const commands = [
    { op: "group.upsert", name: "Ops", olevel: "Dataset" },
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "quota.set", site: "T2_A", partition: "Default", quota: 1000 },
    { op: "dataset.upsert", name: "/" + "a".repeat(40), status: "valid" },
    { op: "block.upsert", dataset: "/" + "a".repeat(40), block: "b1" },
    {
      op: "files.add",
      dataset: "/" + "a".repeat(40),
      block: "b1",
      files: [{ lfn: "/store/a/1", size: 990 }],
    },
    { op: "dataset_replica.upsert", dataset: "/" + "a".repeat(40), site: "T2_A", group: "Ops" },
    { op: "block_replica.upsert", dataset: "/" + "a".repeat(40), block: "b1", site: "T2_A" },
  ];
  const reply = await dynamo.port.submit({ commands: commands.map((c) => parseCommand(c)), atomic: true });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"), JSON.stringify(reply));
  return { dynamo, token, call: caller(dynamo.app) };
}

dbTest("a Detox cycle reports its time budget in the history", async ({ db }) => {
  const { dynamo, token, call } = await setUp(db, new TestClock(NOW));
  try {
    const run = await call("POST", "/data/detox/run?mode=dry-run", { token });
    assertEquals(run.status, 200, run.body.message);
    const cycles = await call("GET", "/data/detox/cycles");
    const budget = cycles.body.data[0].budget;
    assertEquals(budget.budget_seconds, 1800);
    assertEquals(budget.exceeded, false);
    assert(budget.yields >= 0 && budget.elapsed_seconds >= 0, JSON.stringify(budget));
  } finally {
    await dynamo.close();
  }
});

dbTest(
  "a Detox cycle past its time budget is abandoned, recorded as failed with the reason",
  async ({ db }) => {
    const { dynamo, token, call } = await setUp(db, new SlowClock(NOW), 1500);
    try {
      const run = await call("POST", "/data/detox/run?mode=dry-run", { token });
      assertEquals(run.status, 200, run.body.message);
      assertMatch(run.body.data[0].error, /^time budget of 1\.5 s exceeded \(\d+ s, during [a-z ]+\)$/);
      const cycles = await call("GET", "/data/detox/cycles");
      const cycle = cycles.body.data[0];
      assertEquals(cycle.status, "failed");
      assertEquals(cycle.budget.exceeded, true);
      assertEquals(cycle.budget.budget_seconds, 1.5);
      assertMatch(cycle.budget.error, /time budget of 1\.5 s exceeded/);
      // Nothing was decided or committed by the abandoned cycle.
      assertEquals(cycle.evaluations, 0);
      assertEquals(await db.queryArrays("SELECT count(*) FROM detox_decisions"), [[0]]);
      // /health is answered afterwards: the agent lives on.
      assertEquals((await call("GET", "/health")).status, 200);
    } finally {
      await dynamo.close();
    }
  },
);
