import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { admitOperation, type DatasetOperation, operationsInFlight } from "./dataset_conflicts.ts";
import { deletionConflicts, firstFailedPrecondition, invalidationConflicts } from "./preconditions.ts";
import { parseCommand } from "./commands.ts";
import { Snapshot } from "./snapshot.ts";

const D = "/D/X/AOD";
const copyToB: DatasetOperation = { kind: "copy", block: "b1", site: "T2_B", sources: ["T2_A"] };

Deno.test("a deletion of the only source of a copy in flight: Detox is refused, a user waits, both with the reason", () => {
  const detox = admitOperation(D, [copyToB], { kind: "deletion", block: "b1", site: "T2_A", by: "detox" });
  assertEquals(detox.verdict, "refuse");
  assertMatch(
    detox.verdict === "allow" ? "" : detox.reason,
    /"\/D\/X\/AOD#b1" at "T2_A" is the only source .*"T2_B"/,
  );
  const user = admitOperation(D, [copyToB], { kind: "deletion", block: "b1", site: "T2_A", by: "user" });
  assertEquals(user.verdict, "wait");
  // With a second source the copy does not depend on A; another block does not conflict at all.
  const two: DatasetOperation = { ...copyToB, sources: ["T2_A", "T2_C"] };
  assertEquals(
    admitOperation(D, [two], { kind: "deletion", block: "b1", site: "T2_A", by: "detox" }).verdict,
    "allow",
  );
  assertEquals(
    admitOperation(D, [copyToB], { kind: "deletion", block: "b2", site: "T2_A", by: "detox" }).verdict,
    "allow",
  );
});

Deno.test("a user deletion and a copy to the same site wait for each other; Detox deletions and invalidations never overlap", () => {
  assertEquals(
    admitOperation(D, [copyToB], { kind: "deletion", block: "b1", site: "T2_B", by: "user" }).verdict,
    "wait",
  );
  const deleting: DatasetOperation = { kind: "deletion", block: "b1", site: "T2_B", by: "user" };
  const copy = admitOperation(D, [deleting], copyToB);
  assertEquals(copy.verdict, "wait");
  assertMatch(copy.verdict === "allow" ? "" : copy.reason, /being deleted/);
  assertEquals(admitOperation(D, [deleting], { ...copyToB, site: "T2_C" }).verdict, "allow");
  const detoxDeleting: DatasetOperation = { ...deleting, by: "detox" };
  assertEquals(admitOperation(D, [detoxDeleting], { kind: "invalidation" }).verdict, "wait");
  assertEquals(admitOperation(D, [deleting], { kind: "invalidation" }).verdict, "allow");
  assertEquals(admitOperation(D, [{ kind: "invalidation" }], detoxDeleting).verdict, "wait");
  assertEquals(admitOperation(D, [], detoxDeleting).verdict, "allow");
});

/** /D/X/AOD#b1 complete at T2_A only; T2_B and T2_C ready for a copy. */
function federation(): ReducerHarness {
  const h = new ReducerHarness();
  h.apply(
    { op: "group.upsert", name: "G" },
    ...["T2_A", "T2_B", "T2_C"].map((name) => ({ op: "site.upsert", name, storage_type: "disk" })),
    { op: "dataset.upsert", name: D, status: "valid" },
    { op: "block.upsert", dataset: D, block: "b1" },
    { op: "files.add", dataset: D, block: "b1", files: [{ lfn: "/d/f1", size: 10 }] },
    { op: "dataset_replica.upsert", dataset: D, site: "T2_A", group: "G" },
    { op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_A", group: "G" },
  );
  return h;
}

Deno.test("the writer's re-check: a Detox deletion decided before a copy from its replica was committed is refused", () => {
  const h = federation();
  const before = new Snapshot(h.state);
  assertEquals(operationsInFlight(before, D), []);
  const at = (s: Snapshot, site: string) => ({
    siteId: s.site(site)!.id,
    blockIds: [s.block(s.dataset(D)!.id, "b1")!.id],
  });
  const guard = deletionConflicts(before, [at(before, "T2_A")], "detox");
  assertEquals(guard, [{
    op: "no_conflict",
    dataset: D,
    proposed: { kind: "deletion", block: "b1", site: "T2_A", by: "detox" },
  }]);
  assertEquals(firstFailedPrecondition(before, guard), null);
  // The Dealer commits a copy to T2_B (an empty, owned block replica): A is its only source.
  h.apply(
    { op: "dataset_replica.upsert", dataset: D, site: "T2_B", group: "G" },
    { op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_B", group: "G", files: [] },
  );
  const during = new Snapshot(h.state);
  assertEquals(operationsInFlight(during, D), [{
    kind: "copy",
    block: "b1",
    site: "T2_B",
    sources: ["T2_A"],
  }]);
  assertMatch(
    firstFailedPrecondition(during, guard) ?? "",
    /conflict \(refuse\): .* only source of the copy to "T2_B"/,
  );
  // The copy completes: the same deletion is allowed (B now holds a complete copy).
  h.apply({ op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_B", files: ["/d/f1"] });
  const after = new Snapshot(h.state);
  assertEquals(operationsInFlight(after, D), []);
  assertEquals(firstFailedPrecondition(after, guard), null);
  // Unknown datasets have nothing in flight.
  assertEquals(operationsInFlight(after, "/No/Such/RAW"), []);
});

Deno.test("one decision deleting every source of a copy in flight is refused, though each source alone is not the only one", () => {
  const two: DatasetOperation = { kind: "copy", block: "b1", site: "T2_B", sources: ["T2_A", "T2_C"] };
  const alone = admitOperation(D, [two], { kind: "deletion", block: "b1", site: "T2_A", by: "detox" });
  assertEquals(alone.verdict, "allow");
  const together = admitOperation(D, [two], {
    kind: "deletion",
    block: "b1",
    site: "T2_A",
    by: "detox",
    alongside: ["T2_C"],
  });
  assertEquals(together.verdict, "refuse");
  // Through the writer's re-check: a copy to B from A and C, and a Detox cycle deleting both.
  const h = federation();
  h.apply(
    { op: "dataset_replica.upsert", dataset: D, site: "T2_C", group: "G" },
    { op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_C", group: "G" },
    { op: "dataset_replica.upsert", dataset: D, site: "T2_B", group: "G" },
    { op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_B", group: "G", files: [] },
  );
  const snap = new Snapshot(h.state);
  const at = (site: string) => ({
    siteId: snap.site(site)!.id,
    blockIds: [snap.block(snap.dataset(D)!.id, "b1")!.id],
  });
  assertEquals(firstFailedPrecondition(snap, deletionConflicts(snap, [at("T2_A")], "detox")), null);
  assertMatch(
    firstFailedPrecondition(snap, deletionConflicts(snap, [at("T2_A"), at("T2_C")], "detox")) ?? "",
    /conflict \(refuse\): .*"T2_A" is the only source \(with "T2_C", deleted alongside\) of the copy to "T2_B"/,
  );
});

Deno.test("an invalidation carries no_conflict per dataset it invalidates; the writer refuses it while a deletion is in flight", () => {
  const cmds = [
    { op: "files.delete", dataset: D, block: "b1", lfns: ["/f1"] },
    { op: "block.delete", dataset: D, block: "b2" },
    { op: "dataset.delete", name: "/E/X/AOD" },
    // Replica corrections are no invalidation.
    { op: "block_replica.delete", dataset: "/F/X/AOD", block: "b1", site: "T2_A" },
    { op: "dataset_replica.delete", dataset: "/G/X/AOD", site: "T2_A" },
  ].map((c) => parseCommand(c));
  const guard = invalidationConflicts(cmds, "user");
  assertEquals(guard.map((p) => p.dataset), [D, "/E/X/AOD"]);
  assertEquals(invalidationConflicts(cmds.slice(3)), []);

  const h = new ReducerHarness();
  h.apply(
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "dataset.upsert", name: D, status: "valid" },
    { op: "block.upsert", dataset: D, block: "b1" },
    { op: "files.add", dataset: D, block: "b1", files: [{ lfn: "/f1", size: 1 }] },
    { op: "dataset_replica.upsert", dataset: D, site: "T2_A", group: "AnalysisOps", growing: false },
    { op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_A" },
  );
  const only = invalidationConflicts(cmds.slice(0, 1));
  assertEquals(firstFailedPrecondition(new Snapshot(h.state), only), null, "nothing in flight");
  h.apply({ op: "block_replica.upsert", dataset: D, block: "b1", site: "T2_A", group: null }); // being deleted
  assertEquals(
    firstFailedPrecondition(new Snapshot(h.state), only),
    'conflict (wait): a Detox deletion of "/D/X/AOD#b1" is in flight',
  );
});
