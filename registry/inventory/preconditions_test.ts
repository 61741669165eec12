import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { copiesReliedOn, firstFailedPrecondition, sourcesReliedOn } from "./preconditions.ts";
import { Snapshot } from "./snapshot.ts";

/** /D/X/AOD#b1 complete at T2_A, T2_B and T2_C; incomplete at T2_D; being deleted at T2_E. */
function federation(): ReducerHarness {
  const h = new ReducerHarness();
  const sites = ["T2_A", "T2_B", "T2_C", "T2_D", "T2_E"];
  h.apply(
    { op: "group.upsert", name: "G" },
    ...sites.map((name) => ({ op: "site.upsert", name, storage_type: "disk" })),
    { op: "dataset.upsert", name: "/D/X/AOD", status: "valid" },
    { op: "block.upsert", dataset: "/D/X/AOD", block: "b1" },
    { op: "files.add", dataset: "/D/X/AOD", block: "b1", files: [{ lfn: "/d/f1", size: 10 }] },
    ...sites.flatMap((site) => [
      { op: "dataset_replica.upsert", dataset: "/D/X/AOD", site, group: site === "T2_E" ? null : "G" },
      {
        op: "block_replica.upsert",
        dataset: "/D/X/AOD",
        block: "b1",
        site,
        group: site === "T2_E" ? null : "G",
        ...(site === "T2_D" ? { files: [] } : {}),
      },
    ]),
  );
  return h;
}

const ids = (snap: Snapshot, site: string) => ({
  siteId: snap.site(site)!.id,
  blockIds: [snap.block(snap.dataset("/D/X/AOD")!.id, "b1")!.id],
});

Deno.test("a deletion relies on the complete, owned copies elsewhere that the same plan keeps", () => {
  const snap = new Snapshot(federation().state);
  // Deleting at A and B together: only C remains to rely on (D is incomplete, E is being deleted).
  assertEquals(copiesReliedOn(snap, [ids(snap, "T2_A"), ids(snap, "T2_B")]), [
    { op: "copies_exist", dataset: "/D/X/AOD", block: "b1", sites: ["T2_C"] },
  ]);
  // Deleting every complete copy relies on nothing: the policy chose it.
  assertEquals(copiesReliedOn(snap, ["T2_A", "T2_B", "T2_C"].map((s) => ids(snap, s))), []);
});

Deno.test("the writer's check: a copy relied on that is gone, incomplete or disowned fails the precondition", () => {
  const h = federation();
  const before = new Snapshot(h.state);
  const deletion = copiesReliedOn(before, [ids(before, "T2_A")]);
  const copy = sourcesReliedOn(before, [{
    ...ids(before, "T2_D"),
    newBlockIds: ids(before, "T2_D").blockIds,
  }]);
  assertEquals(copy[0]!.sites, ["T2_A", "T2_B", "T2_C"]);
  assertEquals(firstFailedPrecondition(before, [...deletion, ...copy]), null);
  // Someone disowns T2_B's copy: the deletion at A relied on it; the copy to D still has a source.
  h.apply({ op: "block_replica.upsert", dataset: "/D/X/AOD", block: "b1", site: "T2_B", group: null });
  const after = new Snapshot(h.state);
  assertMatch(firstFailedPrecondition(after, deletion) ?? "", /"\/D\/X\/AOD#b1" at "T2_B"/);
  assertEquals(firstFailedPrecondition(after, copy), null);
  // A's copy goes and C's is disowned too: the copy has no source left.
  h.apply(
    { op: "block_replica.delete", dataset: "/D/X/AOD", block: "b1", site: "T2_A" },
    { op: "block_replica.upsert", dataset: "/D/X/AOD", block: "b1", site: "T2_C", group: null },
  );
  assertMatch(
    firstFailedPrecondition(new Snapshot(h.state), copy) ?? "",
    /gone, incomplete or being deleted/,
  );
  // A block that no longer exists is named as such.
  h.apply({ op: "dataset.delete", name: "/D/X/AOD" });
  assertMatch(firstFailedPrecondition(new Snapshot(h.state), copy) ?? "", /no longer exists/);
});
