/**
 * The Detox agent on a real service (PGlite, or PostgreSQL with DYNAMO_TEST_DATABASE_URL) while a copy
 * reads from the replica its policy would delete first (issue 15): the cycle commits another deletion
 * instead of being refused as a whole, and deletes the held-back replica once the copy has landed.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo, type Dynamo } from "../../service/create_dynamo.ts";
import { addOperator } from "../../tests/helpers/users.ts";
import { TestClock } from "../runtime/mod.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import { caller } from "../../tests/helpers/http.ts";
import { analysisFederation } from "../../tests/helpers/analysis_federation.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";

const NOW = Date.UTC(2026, 10, 25);

// No last-copy line and no Order: T2_A (960 of 1000) gives up one dataset, the first by name.
const POLICY = `Partition Analysis
On site.name == T2_A
When site.occupancy > 0.9
Until site.occupancy < 0.85
Dismiss
`;

async function setUp(db: Dynamo["db"]) {
  const admin = await addOperator(db);
  const dynamo = await createDynamo({
    database: db,
    clock: new TestClock(NOW),
    partitions: parsePartitions("Analysis: blockreplica.owner == AnalysisOps\n"),
    detox: {
      policies: [{ file: "analysis.txt", text: POLICY }],
      intervalMs: 0,
      deletionPerIteration: 1,
      protectedSites: [],
      enforcer: null,
    },
  });
  await dynamo.ready;
  await submit(dynamo, analysisFederation(NOW));
  return { dynamo, admin, call: caller(dynamo.app) };
}

async function submit(dynamo: Dynamo, commands: unknown[]) {
  const reply = await dynamo.port.submit({
    commands: commands.map((c) => parseCommand(c as Record<string, unknown>)),
    atomic: true,
  });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"), JSON.stringify(reply));
}

dbTest(
  "a Detox cycle keeps the only source of a copy in flight with the reason and commits another deletion",
  async ({ db }) => {
    const { dynamo, admin, call } = await setUp(db);
    try {
      // A copy of /A/four (only at T2_A) to T2_B is in flight: an owned, empty block replica at B.
      await submit(dynamo, [
        {
          op: "dataset_replica.upsert",
          dataset: "/A/four/AOD",
          site: "T2_B",
          group: "AnalysisOps",
          growing: false,
        },
        { op: "block_replica.upsert", dataset: "/A/four/AOD", block: "b1", site: "T2_B", files: [] },
      ]);
      const run = await call("POST", "/data/detox/run", { token: admin });
      assertEquals(run.status, 200, run.body.message);
      assertEquals(run.body.data[0].error, undefined);
      assert(run.body.data[0].committed_generation !== null, "the cycle committed");
      const deletions = () =>
        db.queryArrays(
          "SELECT site, dataset FROM replica_operations WHERE kind = 'deletion' ORDER BY id",
        );
      assertEquals(await deletions(), [["T2_A", "/A/three/AOD"]]);
      const rows = await db.queryArrays(
        "SELECT dataset, decision FROM detox_decisions WHERE site = 'T2_A' AND dataset LIKE '/A/%' ORDER BY dataset",
      );
      assertEquals(rows, [["/A/four/AOD", "keep"], ["/A/three/AOD", "delete"]]);
      // The history keeps why: the held-back keep carries the conflict, the line's own rows none.
      const reasons = await db.queryArrays(
        "SELECT dataset, reason FROM detox_decisions WHERE site = 'T2_A' AND dataset LIKE '/A/%' ORDER BY dataset",
      );
      const held =
        `the copy of "/A/four/AOD#b1" at "T2_A" is the only source of the copy to "T2_B" in flight`;
      assertEquals(reasons, [["/A/four/AOD", held], ["/A/three/AOD", null]]);
      const explained = await call("GET", "/data/detox/datasets?dataset=/A/four/AOD", { token: admin });
      assertEquals(explained.status, 200, explained.body.message);
      assertEquals(
        explained.body.data.decisions.map((d: { site: string; decision: string; reason: string }) => [
          d.site,
          d.decision,
          d.reason,
        ]),
        [["T2_A", "keep", held]],
      );
      const detail = await call("GET", "/data/detox/sitedetail?site=T2_A", { token: admin });
      assertEquals(detail.status, 200, detail.body.message);
      const four = detail.body.data.datasets.find((d: { dataset: string }) => d.dataset === "/A/four/AOD");
      assertEquals([four.decision, four.reason], ["keep", held]);

      // The copy lands and new data fills T2_A again: the next cycle deletes /A/four.
      await submit(dynamo, [
        {
          op: "block_replica.upsert",
          dataset: "/A/four/AOD",
          block: "b1",
          site: "T2_B",
          files: ["/A/four/AOD/f1"],
        },
        { op: "dataset.upsert", name: "/A/seven/AOD", status: "valid" },
        { op: "block.upsert", dataset: "/A/seven/AOD", block: "b1" },
        {
          op: "files.add",
          dataset: "/A/seven/AOD",
          block: "b1",
          files: [{ lfn: "/A/seven/AOD/f1", size: 240 }],
        },
        {
          op: "dataset_replica.upsert",
          dataset: "/A/seven/AOD",
          site: "T2_A",
          group: "AnalysisOps",
          growing: false,
        },
        { op: "block_replica.upsert", dataset: "/A/seven/AOD", block: "b1", site: "T2_A" },
      ]);
      const later = await call("POST", "/data/detox/run", { token: admin });
      assertEquals(later.status, 200, later.body.message);
      assertEquals(later.body.data[0].error, undefined);
      assertEquals(await deletions(), [["T2_A", "/A/three/AOD"], ["T2_A", "/A/four/AOD"]]);
    } finally {
      await dynamo.close();
    }
  },
);
