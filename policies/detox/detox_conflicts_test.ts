/**
 * Detox holds back a deletion that would conflict with a copy in flight (issue 15): the replica is
 * kept with the reason, the cycle picks another candidate, and the writer's re-check accepts the rest.
 */
import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { parsePartitions } from "../partitions.ts";
import { deletionConflicts, firstFailedPrecondition, Snapshot } from "../../registry/inventory/mod.ts";
import { NO_ATTRIBUTES } from "../language/mod.ts";
import { runDetox } from "./detox_engine.ts";
import { conflictsOn } from "./detox_decision.ts";
import { deletionPlan } from "./deletion_plan.ts";
import { parseDetoxPolicy } from "./detox_policy.ts";
import { PartitionImage } from "./partition_image.ts";

const NOW = Date.UTC(2026, 10, 25);
// No Order line: candidates go in evaluation order (dataset name), so /D/a is the first choice.
const POLICY = `Partition Analysis
On site.name == T2_A
When site.occupancy > 0.9
Until site.occupancy < 0.85
Protect dataset.name == /Keep/*
Dismiss
`;

/** T2_A (quota 1000) holds /D/a, /D/b (300 each, one block) and /Keep/e (350): 950, over 0.9. */
function federation(): ReducerHarness {
  const h = new ReducerHarness(
    parsePartitions("Analysis: blockreplica.owner != None and site.storage_type == DISK\n"),
  );
  h.nowMs = NOW;
  h.apply(
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    ...["T2_A", "T2_B"].map((name) => ({ op: "site.upsert", name, storage_type: "disk", status: "ready" })),
    ...["T2_A", "T2_B"].map((site) => ({ op: "quota.set", site, partition: "Analysis", quota: 1000 })),
  );
  for (const [name, size] of [["/D/a/AOD", 300], ["/D/b/AOD", 300], ["/Keep/e/AOD", 350]] as const) {
    addAt(h, name, size, "T2_A");
  }
  return h;
}

function addAt(h: ReducerHarness, dataset: string, size: number, site: string): void {
  h.apply(
    { op: "dataset.upsert", name: dataset, status: "valid" },
    { op: "block.upsert", dataset, block: "b0" },
    { op: "files.add", dataset, block: "b0", files: [{ lfn: `${dataset}/f0`, size }] },
    { op: "dataset_replica.upsert", dataset, site, group: "AnalysisOps", growing: false },
    { op: "block_replica.upsert", dataset, block: "b0", site, group: "AnalysisOps" },
  );
}

function cycle(h: ReducerHarness) {
  const snap = new Snapshot(h.state);
  const policy = parseDetoxPolicy(POLICY, { nowMs: NOW });
  const result = runDetox(PartitionImage.build(snap, policy, NO_ATTRIBUTES), policy, {
    deletionPerIteration: 1,
    holdBack: conflictsOn(snap),
  });
  const name = (id: number) => snap.datasetById(id)!.name;
  return {
    snap,
    result,
    deleted: result.deletions.map((d) => name(d.datasetId)),
    site: result.sites.find((s) => snap.siteById(s.siteId)!.name === "T2_A")!,
  };
}

Deno.test("a replica that is the only source of a copy in flight is kept with the reason; the cycle deletes another", () => {
  const h = federation();
  // Without a copy in flight the first candidate, /D/a, is what goes.
  assertEquals(cycle(h).deleted, ["/D/a/AOD"]);
  // The Dealer commits a copy of /D/a to T2_B: T2_A holds its only source.
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/D/a/AOD", site: "T2_B", group: "AnalysisOps", growing: false },
    {
      op: "block_replica.upsert",
      dataset: "/D/a/AOD",
      block: "b0",
      site: "T2_B",
      group: "AnalysisOps",
      files: [],
    },
  );
  const c = cycle(h);
  assertEquals(c.deleted, ["/D/b/AOD"]);
  assertEquals([c.site.usedBefore, c.site.usedAfter, c.site.deletedBytes], [950, 650, 300]);
  assertEquals(c.site.stillTriggered, false);
  const held = c.result.decisions.filter((d) => d.reason !== undefined);
  assertEquals(held.map((d) => [c.snap.datasetById(d.datasetId)!.name, d.decision, d.size]), [
    ["/D/a/AOD", "keep", 300],
  ]);
  assertMatch(held[0]!.reason!, /"\/D\/a\/AOD#b0" at "T2_A" is the only source of the copy to "T2_B"/);
  assertEquals(c.result.heldBack.length, 1);
  // What the cycle commits passes the writer's re-check on the same state: no refusal of the cycle.
  assertEquals(firstFailedPrecondition(c.snap, deletionConflicts(c.snap, c.result.deletions, "detox")), null);

  // Commit the cycle; the copy completes; new data fills T2_A again: the next cycle deletes /D/a.
  h.apply(...deletionPlan(c.snap, c.result).commands as unknown as Record<string, unknown>[]);
  h.apply({
    op: "block_replica.upsert",
    dataset: "/D/a/AOD",
    block: "b0",
    site: "T2_B",
    files: ["/D/a/AOD/f0"],
  });
  addAt(h, "/D/c/AOD", 300, "T2_A");
  const later = cycle(h);
  assertEquals(later.deleted, ["/D/a/AOD"]);
  assertEquals(later.result.heldBack, []);
});

Deno.test("a run without holdBack deletes as before, and one copy's two sources are not both deleted", () => {
  const h = federation();
  // /D/a also complete at T2_C (a target too), copy in flight to T2_B from A and C.
  h.apply(
    { op: "site.upsert", name: "T2_C", storage_type: "disk", status: "ready" },
    { op: "quota.set", site: "T2_C", partition: "Analysis", quota: 320 },
    { op: "dataset_replica.upsert", dataset: "/D/a/AOD", site: "T2_C", group: "AnalysisOps", growing: false },
    { op: "block_replica.upsert", dataset: "/D/a/AOD", block: "b0", site: "T2_C", group: "AnalysisOps" },
    { op: "dataset_replica.upsert", dataset: "/D/a/AOD", site: "T2_B", group: "AnalysisOps", growing: false },
    {
      op: "block_replica.upsert",
      dataset: "/D/a/AOD",
      block: "b0",
      site: "T2_B",
      group: "AnalysisOps",
      files: [],
    },
  );
  const snap = new Snapshot(h.state);
  const policy = parseDetoxPolicy(POLICY.replace("On site.name == T2_A", "On site.name in [T2_A T2_C]"), {
    nowMs: NOW,
  });
  const plain = runDetox(PartitionImage.build(snap, policy, NO_ATTRIBUTES), policy, {
    deletionPerIteration: 1,
  });
  const guarded = runDetox(PartitionImage.build(snap, policy, NO_ATTRIBUTES), policy, {
    deletionPerIteration: 1,
    holdBack: conflictsOn(snap),
  });
  const where = (r: typeof plain) =>
    r.deletions.map((d) => `${snap.datasetById(d.datasetId)!.name}@${snap.siteById(d.siteId)!.name}`);
  // Unguarded, both sources of the copy go (the writer would refuse that whole cycle).
  assertEquals(where(plain).filter((w) => w.startsWith("/D/a/")).length, 2);
  // Guarded, one of them stays, held back with the reason naming the other as deleted alongside.
  assertEquals(where(guarded).filter((w) => w.startsWith("/D/a/")).length, 1);
  assertEquals(guarded.heldBack.length, 1);
  assertMatch(guarded.heldBack[0]!.reason, /deleted alongside/);
  assertEquals(firstFailedPrecondition(snap, deletionConflicts(snap, guarded.deletions, "detox")), null);
  // Incremental re-evaluation holds back the same replicas as a full one.
  const full = runDetox(PartitionImage.build(snap, policy, NO_ATTRIBUTES), policy, {
    deletionPerIteration: 1,
    holdBack: conflictsOn(snap),
    incremental: false,
  });
  assertEquals([full.deletions, full.heldBack, full.decisions], [
    guarded.deletions,
    guarded.heldBack,
    guarded.decisions,
  ]);
});
