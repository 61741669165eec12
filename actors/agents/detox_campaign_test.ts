/**
 * A campaign file (no Partition line) configured beside a partition's policy:
 * it runs on request with --policy and --partition, or on schedule when the
 * configuration gives its partition. Wrong names are clear 400s that change nothing.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { createDynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { TestClock } from "../runtime/mod.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";
import { caller } from "../../tests/helpers/http.ts";

const NOW = Date.UTC(2026, 10, 25);

const POLICY = `Partition Analysis
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
Dismiss
`;

/** In the style of the 2016 campaigns: greedy at one site, explicit protections, no Partition line. */
const CAMPAIGN = `On site.name == T2_A
When always
Until never
Protect dataset.name == /Keep/*
Dismiss
`;

dbTest(
  "a campaign file runs with --policy and --partition; its partition may also come from the configuration",
  async ({ db }) => {
    const users = new SqlUserStore(db);
    const { token: admin } = await users.addUser({
      name: "ops",
      authorizations: ["admin:inventory", "admin:application"].map(parseAuthorization),
    }, 0);
    const dynamo = await createDynamo({
      database: db,
      clock: new TestClock(NOW),
      partitions: parsePartitions("Analysis: blockreplica.owner == AnalysisOps\n"),
      detox: {
        policies: [
          { file: "policies/analysis.txt", text: POLICY },
          { file: "campaigns/campaign.txt", text: CAMPAIGN },
          { file: "campaigns/configured.txt", text: CAMPAIGN.replace("T2_A", "T2_B"), partition: "Analysis" },
        ],
        intervalMs: 0,
        deletionPerIteration: 1,
        protectedSites: [],
        enforcer: null,
      },
    });
    try {
      await dynamo.ready;
      // Both sites at 30 %: nothing is triggered by the watermarks.
      const commands: Record<string, unknown>[] = [
        { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
        ...["T2_A", "T2_B"].flatMap((site) => [
          { op: "site.upsert", name: site, storage_type: "disk", status: "ready" },
          { op: "quota.set", site, partition: "Analysis", quota: 1000 },
        ]),
      ];
      for (const name of ["/Keep/k/AOD", "/Old/o/AOD", "/Old/p/AOD"]) {
        commands.push(
          { op: "dataset.upsert", name, status: "valid" },
          { op: "block.upsert", dataset: name, block: "b1" },
          { op: "files.add", dataset: name, block: "b1", files: [{ lfn: `${name}/f`, size: 100 }] },
        );
        for (const site of ["T2_A", "T2_B"]) {
          commands.push(
            { op: "dataset_replica.upsert", dataset: name, site, group: "AnalysisOps", growing: false },
            { op: "block_replica.upsert", dataset: name, block: "b1", site },
          );
        }
      }
      const reply = await dynamo.port.submit({
        commands: commands.map((c) => parseCommand(c)),
        atomic: true,
      });
      assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
      const call = caller(dynamo.app);
      const cycles = async () => (await call("GET", "/data/detox/cycles")).body.data.length as number;

      // Without --policy: the partition's own policy and the campaign configured with its partition.
      const all = await call("POST", "/data/detox/run?mode=dry-run", { token: admin });
      assertEquals(all.status, 200, all.body.message);
      assertEquals(
        all.body.data.map((c: { partition: string; deleted_replicas: number }) => c.deleted_replicas),
        [
          0,
          2,
        ],
      );
      assertEquals(await cycles(), 2);

      // Garbage and hostile names: a clear 400, no cycle recorded, nothing deleted.
      const bad: [string, RegExp][] = [
        [
          "policy=campaign.txt",
          /missing Partition line: give the partition in the Detox configuration or with --partition/,
        ],
        ["policy=campaign.txt&partition=", /not a partition name: ""/],
        ["policy=campaign.txt&partition=Nope", /Unknown partition "Nope"/],
        ["policy=campaign.txt&partition=..%2F..%2Fetc", /not a partition name: "..\/..\/etc"/],
        ["policy=campaign.txt&partition=%3Cscript%3E", /not a partition name: "<script>"/],
        [`policy=campaign.txt&partition=${"A".repeat(300)}`, /not a partition name/],
        [
          "policy=nope.txt&partition=Analysis",
          /No configured Detox policy named "nope.txt" \(configured: analysis.txt, campaign.txt, configured.txt\)/,
        ],
        ["policy=..%2Fanalysis.txt", /No configured Detox policy named "..\/analysis.txt"/],
        ["policy=analysis.txt&partition=Other", /Partition line names "Analysis" but "Other" was given/],
        ["partition=", /No Detox policy for partition ""/],
        ["policy=configured.txt&partition=Other", /configured.txt runs on partition "Analysis", not "Other"/],
      ];
      for (const [query, message] of bad) {
        const r = await call("POST", `/data/detox/run?${query}`, { token: admin });
        assertEquals(r.status, 400, query);
        assertMatch(r.body.message, message, query);
      }
      assertEquals(await cycles(), 2, "no cycle was recorded for a refused request");
      assertEquals(await db.queryArrays("SELECT count(*) FROM replica_operations"), [[0]]);

      // The campaign, given its partition on the command line, deletes everything unprotected at T2_A.
      const run = await call("POST", "/data/detox/run?policy=campaign.txt&partition=Analysis", {
        token: admin,
      });
      assertEquals(run.status, 200, run.body.message);
      assertEquals(run.body.data.length, 1);
      assertEquals([run.body.data[0].partition, run.body.data[0].mode, run.body.data[0].deleted_replicas], [
        "Analysis",
        "normal",
        2,
      ]);
      assertEquals(
        await db.queryArrays(
          "SELECT site, dataset FROM replica_operations WHERE kind = 'deletion' ORDER BY dataset",
        ),
        [["T2_A", "/Old/o/AOD"], ["T2_A", "/Old/p/AOD"]],
      );
      const policy = await call("GET", `/data/detox/policy?cycle=${run.body.data[0].cycle}`);
      assertEquals([policy.body.data.partition, policy.body.data.text], ["Analysis", CAMPAIGN]);
    } finally {
      await dynamo.close();
    }
  },
);
