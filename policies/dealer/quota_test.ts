/**
 * Never over quota by our own hand: whatever the Dealer accepts (a transfer,
 * or a change of owner that brings a replica into the partition) keeps the
 * site's projected occupancy of the partition at or under the target.
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dealerConfig, dealerFederation, NOW, rng, snap } from "../../tests/helpers/dealer.ts";
import { TEST_PARTITIONS } from "../../tests/helpers/federation.ts";
import { parsePartitions } from "../partitions.ts";
import type { CopyRequest } from "../../registry/requests/copy_request.ts";
import { dealerCycle } from "./dealer_cycle.ts";

const GB = 1e9;

function federation() {
  return dealerFederation(
    [{ name: "T2_A", quota: 10 * GB }, { name: "T2_B", quota: 100 * GB }],
    [
      { name: "/Mine/Already/AOD", blocks: 1, fileSize: 4 * GB, at: ["T2_A"] }, // 8 GB of 10 in AnalysisOps
      { name: "/Ops/Owned/AOD", blocks: 1, fileSize: 2 * GB, at: ["T2_A", "T2_B"], group: "DataOps" }, // 4 GB
    ],
    { definitions: parsePartitions(TEST_PARTITIONS), quotaOn: "AnalysisOps" },
  );
}

const request: CopyRequest = {
  id: 1,
  user: "alice",
  group: null,
  n: 1,
  items: ["/Ops/Owned/AOD"],
  sites: ["T2_A"],
  status: "new",
  reason: null,
  createdAt: NOW,
  updatedAt: NOW,
  lastRequestAt: NOW,
  requestCount: 1,
  actions: [],
};

Deno.test("a change of owner that would take a site over its quota is not made; the request waits", () => {
  const h = federation();
  const config = dealerConfig({
    partition_name: "AnalysisOps",
    target_site_occupancy: 1,
    plugins: {
      requests: {
        module: "CopyRequestsHandler",
        priority: 1,
        config: { overwritten_groups: ["DataOps"] },
      },
    },
  });
  const out = dealerCycle({
    snapshot: snap(h),
    config,
    rng: rng(1),
    now: NOW,
    copyRequests: [request],
    jobs: [],
    enforcer: null,
    detox: null,
    transferOutcomes: new Map(),
  });
  // Taking over the 4 GB DataOps replica at T2_A would make AnalysisOps there 12 GB of 10.
  const accepted = out.result.decisions.filter((d) => d.accepted);
  assertEquals(accepted, [], "the flip is refused");
  assertEquals(out.plan.commands, []);
  const r = out.copyRequests[0]!;
  assert(r.status === "activated" || r.status === "new");
  const s = snap(h);
  const used = s.sitePartition(s.site("T2_A")!.id, s.partition("AnalysisOps")!)!;
  assertEquals(used.projected, 8 * GB);
});
