import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import {
  applyPlan,
  completeTransfers,
  dealerConfig,
  dealerFederation,
  fullCopies,
  NOW,
  rng,
  snap,
} from "../../tests/helpers/dealer.ts";
import { deletionPlan } from "../detox/deletion_plan.ts";
import { runDetox } from "../detox/detox_engine.ts";
import { parseDetoxPolicy } from "../detox/detox_policy.ts";
import { PartitionImage } from "../detox/partition_image.ts";
import { parseEnforcerRules } from "../enforcer_rules.ts";
import { NO_ATTRIBUTES } from "../language/mod.ts";
import { popularity } from "../producers/popularity.ts";
import { dealerCycle, type DealerCycleInputs } from "./dealer_cycle.ts";
import { balancerProposals } from "./plugins/balancer.ts";
import { enforcerProposals } from "./plugins/enforcer.ts";
import { groupReassignerProposals } from "./plugins/group_reassigner.ts";

const GB = 1e9;
const TB = 1e12;

/**
 * Detox for the evacuation scenario: empty the morgue, but never a block's
 * last complete copy (the count includes the replica itself, so < 2 = last).
 */
const MORGUE_POLICY = `
Partition Default
On site.storage_type == DISK
When site.status == MORGUE
When site.occupancy > 0.9
Until site.status != MORGUE and site.occupancy < 0.85
ProtectBlock blockreplica.num_full_disk_copy < 2
Dismiss
`;

function detoxCycle(h: ReturnType<typeof dealerFederation>) {
  const s = snap(h);
  const policy = parseDetoxPolicy(MORGUE_POLICY, { nowMs: NOW * 1000 });
  const result = runDetox(PartitionImage.build(s, policy, NO_ATTRIBUTES), policy, {});
  const plan = deletionPlan(s, result);
  if (plan.commands.length) h.apply(...plan.commands as unknown as Record<string, unknown>[]);
  return result.deletions.map((d) => `${s.datasetById(d.datasetId)!.name}@${s.siteById(d.siteId)!.name}`);
}

/** Files leave the site: replicas handed to the null group disappear. */
function executeDeletions(h: ReturnType<typeof dealerFederation>): void {
  const s = snap(h);
  const cmds: Record<string, unknown>[] = [];
  for (const d of s.datasets()) {
    for (const dr of s.replicasOf(d.id)) {
      for (const br of dr.blockReplicas) {
        if (br.groupId !== 0) continue;
        cmds.push({
          op: "block_replica.delete",
          dataset: d.name,
          block: s.blockById(br.blockId)!.name,
          site: s.siteById(dr.siteId)!.name,
        });
      }
    }
  }
  if (cmds.length) h.apply(...cmds);
}

function cycleInputs(h: ReturnType<typeof dealerFederation>, seed: number): DealerCycleInputs {
  return {
    snapshot: snap(h),
    config: dealerConfig(),
    rng: rng(seed),
    now: NOW,
    copyRequests: [],
    jobs: [],
    enforcer: null,
    detox: null,
    transferOutcomes: new Map(),
  };
}

Deno.test("a morgue site is emptied of unique data before any deletion there, and nothing is lost", () => {
  const h = dealerFederation(
    [
      { name: "T2_DYING", quota: 100 * TB },
      { name: "T2_A", quota: 100 * TB },
      { name: "T2_B", quota: 100 * TB },
    ],
    [
      { name: "/Only/There/AOD", blocks: 3, fileSize: GB, at: ["T2_DYING"] },
      { name: "/Also/Elsewhere/AOD", blocks: 2, fileSize: GB, at: ["T2_DYING", "T2_A"] },
      { name: "/Untouched/A/AOD", blocks: 1, fileSize: GB, at: ["T2_A"] },
    ],
  );
  // Block b0 of a third dataset exists only at T2_DYING; b1 also at T2_B.
  h.apply(
    { op: "dataset.upsert", name: "/Part/Unique/AOD", status: "valid" },
    ...[0, 1].flatMap((b) => [
      { op: "block.upsert", dataset: "/Part/Unique/AOD", block: `b${b}` },
      {
        op: "files.add",
        dataset: "/Part/Unique/AOD",
        block: `b${b}`,
        files: [{ lfn: `/store/pu/${b}`, size: GB }],
      },
    ]),
    { op: "dataset_replica.upsert", dataset: "/Part/Unique/AOD", site: "T2_DYING", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/Part/Unique/AOD", block: "b0", site: "T2_DYING" },
    { op: "block_replica.upsert", dataset: "/Part/Unique/AOD", block: "b1", site: "T2_DYING" },
    { op: "dataset_replica.upsert", dataset: "/Part/Unique/AOD", site: "T2_B", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/Part/Unique/AOD", block: "b1", site: "T2_B" },
    { op: "site.upsert", name: "T2_DYING", status: "morgue" },
  );
  const everyBlockHasACompleteCopy = () => {
    const s = snap(h);
    for (const d of s.datasets()) {
      for (const id of d.blockIds) {
        const block = s.blockById(id)!;
        assert(s.blockReplicasOf(block).some((br) => br.fileIds === null), `${d.name}#${block.name} lost`);
      }
    }
  };
  // Detox first: only what exists elsewhere may go (all of one dataset, block b1 of another).
  assertEquals(detoxCycle(h).sort(), ["/Also/Elsewhere/AOD@T2_DYING", "/Part/Unique/AOD@T2_DYING"]);
  executeDeletions(h);
  // The Dealer evacuates what is unique: the whole dataset, and the one unique block.
  const out = dealerCycle(cycleInputs(h, 3));
  const proposals = out.result.decisions.filter((d) => d.proposal.plugin === "undertaker");
  assertEquals(
    proposals.map((
      d,
    ) => [snap(h).datasetById(d.proposal.datasetId)!.name, d.proposal.blockIds?.length ?? "all"]),
    [["/Only/There/AOD", "all"], ["/Part/Unique/AOD", 1]],
  );
  assert(proposals.every((d) => d.accepted));
  applyPlan(h, out.plan);
  // Copies in flight are not full copies: Detox still keeps the originals.
  assertEquals(detoxCycle(h), []);
  everyBlockHasACompleteCopy();
  completeTransfers(h);
  // Once they are complete, the morgue empties completely.
  assertEquals(detoxCycle(h).sort(), ["/Only/There/AOD@T2_DYING", "/Part/Unique/AOD@T2_DYING"]);
  executeDeletions(h);
  everyBlockHasACompleteCopy();
  const s = snap(h);
  assertEquals(s.replicaCountAt(s.site("T2_DYING")!.id), 0);
  assertEquals(dealerCycle(cycleInputs(h, 4)).result.decisions, [], "nothing left to evacuate");
  assertEquals(fullCopies(h, "/Only/There/AOD").length, 1);
});

Deno.test("enforcer rules: missing copies are proposed, owners changed first, and the rule then holds", () => {
  const h = dealerFederation(
    [
      { name: "T1_US_Disk", quota: 100 * TB },
      { name: "T1_DE_Disk", quota: 100 * TB },
      { name: "T1_IT_Disk", quota: 100 * TB },
      { name: "T2_SRC", quota: 100 * TB },
    ],
    [
      { name: "/Keep/Two/RAW", blocks: 1, fileSize: GB, at: ["T2_SRC"] },
      { name: "/Keep/Flip/RAW", blocks: 1, fileSize: GB, at: ["T2_SRC", "T1_DE_Disk"], group: "DataOps" },
      { name: "/Other/Thing/AOD", blocks: 1, fileSize: GB, at: ["T2_SRC"] },
    ],
  );
  const rules = parseEnforcerRules(
    JSON.stringify({
      partition: "Default",
      default_destination_group: "AnalysisOps",
      rules: {
        raw_on_t1: {
          replicas: ["dataset.name == /*/*/RAW"],
          num_copies: 2,
          destinations: ["site.name == T1_*_Disk"],
          sources: ["site.name == T2_*"],
        },
      },
    }),
    "rules.json",
    NOW * 1000,
  );
  const s = snap(h);
  const partition = s.partition("Default")!;
  const config = { maxDatasetSize: 50 * TB, policy: "rules.json" };
  const proposals = enforcerProposals(s, "enforcer", config, rules, partition, rng(2));
  const byDataset = (name: string) =>
    proposals.filter((p) => p.datasetId === s.dataset(name)!.id).map((p) => s.siteById(p.destination!)!.name);
  assertEquals(byDataset("/Keep/Two/RAW").length, 2);
  assertEquals(byDataset("/Keep/Flip/RAW").length, 2);
  assert(byDataset("/Keep/Flip/RAW").includes("T1_DE_Disk"), "the DataOps copy changes owner");
  assertEquals(byDataset("/Other/Thing/AOD"), []);
  const out = dealerCycle({
    ...cycleInputs(h, 1),
    enforcer: rules,
    config: dealerConfig({
      plugins: {
        enforcer: { module: "EnforcerHandler", priority: 2, config: { enforcer: { policy: "rules.json" } } },
      },
    }),
  });
  applyPlan(h, out.plan);
  completeTransfers(h);
  assertEquals(
    enforcerProposals(snap(h), "enforcer", config, rules, partition, rng(3)),
    [],
    "the rule holds",
  );
});

Deno.test("the balancer moves last copies from the most protected site until the spread is under 5 %", () => {
  const h = dealerFederation(
    [{ name: "T2_HEAVY", quota: 100 * TB }, { name: "T2_LIGHT", quota: 100 * TB }],
    Array.from(
      { length: 6 },
      (_, i) => ({ name: `/Last/C${i}/AOD`, blocks: 1, fileSize: (1 + i) * TB, at: ["T2_HEAVY"] }),
    ),
  );
  const s = snap(h);
  const partition = s.partition("Default")!;
  const config = {
    maxDatasetSize: 50 * TB,
    maxCycleVolume: 100 * TB,
    targetReasons: new Map([["dataset.num_full_disk_copy < 2", 1]]),
  };
  const protectedReplicas = [...s.datasets()].map((d) => ({
    siteId: s.site("T2_HEAVY")!.id,
    datasetId: d.id,
    size: d.size,
    reason: "dataset.num_full_disk_copy < 2",
  }));
  const total = protectedReplicas.reduce((x, r) => x + r.size, 0); // 42 TB: 42 % against 0 %
  const proposals = balancerProposals(s, "balancer", config, partition, {
    sites: [
      { siteId: s.site("T2_HEAVY")!.id, quota: 100 * TB, protectedBytes: total },
      { siteId: s.site("T2_LIGHT")!.id, quota: 100 * TB, protectedBytes: 0 },
    ],
    protectedReplicas,
  });
  // Smallest first (each block is 2 files: 2, 4, 6 … 12 TB); the heavy site's fraction falls as they go.
  const moved = proposals.map((p) => s.datasetById(p.datasetId)!.size / TB);
  assertEquals(moved.slice(0, 3), [2, 4, 6], "smallest last copies first");
  const left = 42 - moved.reduce((a, b) => a + b, 0);
  assert(left < 5 || moved.length === 6, `spread left ${left} %`);
  // A reason that is not a target reason moves nothing.
  assertEquals(
    balancerProposals(s, "balancer", config, partition, {
      sites: [
        { siteId: s.site("T2_HEAVY")!.id, quota: 100 * TB, protectedBytes: total },
        { siteId: s.site("T2_LIGHT")!.id, quota: 100 * TB, protectedBytes: 0 },
      ],
      protectedReplicas: protectedReplicas.map((r) => ({ ...r, reason: "replica.is_locked" })),
    }),
    [],
  );
});

Deno.test("the group reassigner hands legacy groups' replicas to the default group without transfers", () => {
  const h = dealerFederation(
    [{ name: "T2_A", quota: 100 * TB }],
    [{ name: "/Legacy/Owned/AOD", blocks: 2, fileSize: GB, at: ["T2_A"], group: "DataOps" }],
  );
  const s = snap(h);
  const proposals = groupReassignerProposals(s, "reassigner", { fromGroups: ["DataOps"] });
  assertEquals(proposals.map((p) => [p.blockIds!.length, s.siteById(p.destination!)!.name]), [[2, "T2_A"]]);
  const out = dealerCycle({
    ...cycleInputs(h, 1),
    config: dealerConfig({
      plugins: {
        reassigner: { module: "GroupReassigner", priority: 1, config: { from_groups: ["DataOps"] } },
      },
    }),
  });
  assertEquals([out.result.totalBytes, out.plan.operations.length], [0, 0]);
  applyPlan(h, out.plan);
  const after = snap(h);
  const dr = after.replicasOf(after.dataset("/Legacy/Owned/AOD")!.id)[0]!;
  assertEquals(dr.blockReplicas.map((br) => after.groupById(br.groupId)!.name), [
    "AnalysisOps",
    "AnalysisOps",
  ]);
});

Deno.test("a fresh copy makes its dataset look recently used, so Detox does not take it first", () => {
  const h = dealerFederation(
    [{ name: "T2_A", quota: 100 * TB }, { name: "T2_B", quota: 100 * TB }],
    [{ name: "/Fresh/Copy/AOD", blocks: 2, fileSize: GB, at: ["T2_A"] }],
  );
  // Replicas last touched 200 days ago: an idle dataset.
  h.apply(
    ...[0, 1].map((b) => ({
      op: "block_replica.upsert",
      dataset: "/Fresh/Copy/AOD",
      block: `b${b}`,
      site: "T2_A",
      last_update: NOW - 200 * 86400,
    })),
    { op: "dataset.upsert", name: "/Fresh/Copy/AOD", last_update: NOW - 200 * 86400 },
  );
  const id = snap(h).dataset("/Fresh/Copy/AOD")!.id;
  assert(popularity(snap(h), [], NOW).usageRank.get(id)! > 199);
  const out = dealerCycle({
    ...cycleInputs(h, 1),
    jobs: [{ dataset: "/Fresh/Copy/AOD", queued: NOW - 60, jobs: 10 }],
  });
  applyPlan(h, out.plan);
  assertEquals(popularity(snap(h), [], NOW).usageRank.get(id), 0, "the copy's blocks were created now");
});
