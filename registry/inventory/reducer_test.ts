import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { basicFederation, ReducerHarness, T0 } from "../../tests/helpers/inventory.ts";
import { SeededRng } from "../../actors/runtime/clock.ts";
import { inventoryDigest, recomputeLedger } from "./digest.ts";
import { parseCommand } from "./commands.ts";
import { InventoryValidationError } from "./errors.ts";
import { NULL_GROUP_ID } from "./records.ts";
import { Snapshot } from "./snapshot.ts";

function withDataset(h: ReducerHarness, name = "/A/B/RAW", blocks = 2, filesPerBlock = 3, fileSize = 10) {
  basicFederation(h);
  const cmds: Record<string, unknown>[] = [{ op: "dataset.upsert", name, status: "valid" }];
  for (let b = 0; b < blocks; b++) {
    cmds.push({ op: "block.upsert", dataset: name, block: `b${b}` });
    cmds.push({
      op: "files.add",
      dataset: name,
      block: `b${b}`,
      files: Array.from(
        { length: filesPerBlock },
        (_, f) => ({ lfn: `${name}/b${b}/f${f}.root`, size: fileSize }),
      ),
    });
  }
  h.apply(...cmds);
}

Deno.test("datasets, blocks and files: sizes and counts are derived", () => {
  const h = new ReducerHarness();
  withDataset(h);
  const snap = new Snapshot(h.state);
  const d = snap.dataset("/A/B/RAW")!;
  assertEquals([d.size, d.numFiles, d.blockIds.length, d.status], [60, 6, 2, "valid"]);
  const b0 = snap.block(d.id, "b0")!;
  assertEquals([b0.size, b0.numFiles, b0.lastUpdate], [30, 3, T0 / 1000]);
  assertEquals(snap.blockFullName(b0), "/A/B/RAW#b0");
  assertEquals(h.state.counts.blocks, 2);
  assertEquals(h.files.byLfn.size, 6);
});

Deno.test("a complete replica covers every file; the ledger counts it in its partition", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    {
      op: "block_replica.upsert",
      dataset: "/A/B/RAW",
      block: "b1",
      site: "T2_A",
      files: ["/A/B/RAW/b1/f0.root"],
    },
  );
  const snap = new Snapshot(h.state);
  const d = snap.dataset("/A/B/RAW")!;
  const site = snap.site("T2_A")!;
  const dr = snap.replica(d.id, site.id)!;
  assertEquals(dr.growing, false, "the first replica is the origin and not growing");
  assertEquals(dr.blockReplicas.map((br) => [br.size, br.fileIds === null]), [[30, true], [10, false]]);
  const usage = snap.sitePartition(site.id, snap.partition("Default")!)!;
  assertEquals([usage.quota, usage.physical, usage.projected], [1000, 40, 60]);
  assertEquals(usage.occupancy, 0.04);
  assertEquals(usage.projectedOccupancy, 0.06);
});

Deno.test("a block replica of an unowned dataset replica is unowned too (the null group), as the original", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
  );
  const snap = new Snapshot(h.state);
  const dr = snap.replica(snap.dataset("/A/B/RAW")!.id, snap.site("T2_A")!.id)!;
  assertEquals([dr.groupId, dr.blockReplicas.map((br) => [br.groupId, br.size])], [0, [[0, 30]]]);
  assertEquals(snap.groupById(0)?.name, null);
});

Deno.test("adding the remaining files collapses an incomplete replica to complete", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_A", files: [] },
  );
  // No files yet: an incomplete replica of nothing (its empty list is shared and frozen, never grown in place).
  const empty = new Snapshot(h.state).replicasOf(1)[0]!.blockReplicas[0]!;
  assertEquals([empty.size, empty.fileIds, Object.isFrozen(empty.fileIds)], [0, [], true]);
  const lfns = ["/A/B/RAW/b1/f0.root", "/A/B/RAW/b1/f1.root", "/A/B/RAW/b1/f2.root"];
  h.apply({
    op: "block_replica.upsert",
    dataset: "/A/B/RAW",
    block: "b1",
    site: "T2_A",
    files: lfns.slice(0, 2),
  });
  let br = new Snapshot(h.state).replicasOf(1)[0]!.blockReplicas[0]!;
  assertEquals([br.size, br.fileIds?.length], [20, 2]);
  h.apply({ op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_A", files: lfns });
  br = new Snapshot(h.state).replicasOf(1)[0]!.blockReplicas[0]!;
  assertEquals([br.size, br.fileIds], [30, null]);
});

Deno.test("a new file at one site makes complete replicas elsewhere list the old files", () => {
  const h = new ReducerHarness();
  withDataset(h, "/A/B/RAW", 1, 2);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_B", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_B" },
    {
      op: "files.add",
      dataset: "/A/B/RAW",
      block: "b0",
      files: [{ lfn: "/A/B/RAW/b0/new.root", size: 5, site: "T2_A" }],
    },
  );
  const snap = new Snapshot(h.state);
  const [atA, atB] = snap.replicasOf(1).map((dr) => dr.blockReplicas[0]!);
  assertEquals([atA!.fileIds, atA!.size], [null, 25]);
  const old = [...h.files.byLfn.values()].filter((f) => !f.lfn.endsWith("new.root")).map((f) => f.id).sort();
  assertEquals([[...atB!.fileIds!].sort(), atB!.size], [old, 20]);
  const usageB = snap.sitePartition(snap.site("T2_B")!.id, snap.partition("Default")!)!;
  assertEquals([usageB.physical, usageB.projected], [20, 25]);
});

Deno.test("a file without a site is refused once the block has replicas", () => {
  const h = new ReducerHarness();
  withDataset(h, "/A/B/RAW", 1, 1);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
  );
  const outcome = h.try({
    op: "files.add",
    dataset: "/A/B/RAW",
    block: "b0",
    files: [{ lfn: "/A/B/RAW/x", size: 1 }],
  });
  assert(outcome.status === "rejected");
  assertEquals(outcome.error.field, "files[0].site");
});

Deno.test("growing replicas receive new blocks automatically; the origin cannot grow", () => {
  const h = new ReducerHarness();
  withDataset(h, "/A/B/RAW", 1, 1);
  const refused = h.try({ op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", growing: true });
  assert(refused.status === "rejected");
  assertEquals(refused.error.field, "growing");
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_B", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_B" },
    { op: "block.upsert", dataset: "/A/B/RAW", block: "b1" },
  );
  const snap = new Snapshot(h.state);
  const [origin, copy] = snap.replicasOf(1);
  assertEquals([origin!.growing, copy!.growing], [false, true]);
  assertEquals(origin!.blockReplicas.length, 1);
  assertEquals(copy!.blockReplicas.map((br) => snap.blockById(br.blockId)!.name), ["b0", "b1"]);
});

Deno.test("cascades: deleting the last block replica removes the dataset replica", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_A" },
    { op: "block_replica.delete", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
  );
  assertEquals(h.state.counts.datasetReplicas, 1);
  h.apply({ op: "block_replica.delete", dataset: "/A/B/RAW", block: "b1", site: "T2_A" });
  assertEquals([h.state.counts.datasetReplicas, h.state.counts.blockReplicas], [0, 0]);
  assertEquals([...new Snapshot(h.state).replicasAt(1)], []);
});

Deno.test("cascades: deleting a dataset removes its blocks, files and replicas everywhere", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_B", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_B" },
    { op: "dataset.delete", name: "/A/B/RAW" },
  );
  const c = h.state.counts;
  assertEquals([c.datasets, c.blocks, c.datasetReplicas, c.blockReplicas], [0, 0, 0, 0]);
  assertEquals(h.files.byLfn.size, 0);
  const snap = new Snapshot(h.state);
  for (const site of snap.sites()) {
    const u = snap.sitePartition(site.id, snap.partition("Default")!)!;
    assertEquals([u.physical, u.projected], [0, 0]);
  }
});

Deno.test("cascades: deleting a site drops its replicas; deleting a group hands replicas to the null group", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_B", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_B" },
    { op: "site.delete", name: "T2_B" },
  );
  assertEquals(h.state.counts.datasetReplicas, 1);
  const snap1 = new Snapshot(h.state);
  assertEquals(snap1.sitePartition(snap1.site("T2_A")!.id, snap1.partition("Default")!)!.physical, 30);
  h.apply({ op: "group.delete", name: "AnalysisOps" });
  const snap = new Snapshot(h.state);
  const dr = snap.replicasOf(1)[0]!;
  assertEquals([dr.groupId, dr.blockReplicas[0]!.groupId], [NULL_GROUP_ID, NULL_GROUP_ID]);
  // The Default partition holds only owned replicas: the site is now empty in it.
  assertEquals(snap.sitePartition(snap.site("T2_A")!.id, snap.partition("Default")!)!.physical, 0);
  const nullGroup = h.try({ op: "group.delete", name: "None" });
  assert(nullGroup.status === "rejected");
});

Deno.test("quotas: superpartitions sum their parts and cannot be set directly", () => {
  const h = new ReducerHarness([
    { name: "Disk", condition: (c) => c.site.storageType === "disk" && c.blockReplica.groupId !== 0 },
    { name: "Tape", condition: (c) => c.site.storageType === "mss" },
    { name: "All", subpartitions: ["Disk", "Tape"] },
  ]);
  h.apply(
    { op: "site.upsert", name: "T1_X", storage_type: "disk" },
    { op: "quota.set", site: "T1_X", partition: "Disk", quota: 100 },
    { op: "quota.set", site: "T1_X", partition: "Tape", quota: 50 },
  );
  const snap = new Snapshot(h.state);
  assertEquals(snap.sitePartition(1, snap.partition("All")!)!.quota, 150);
  const superQuota = h.try({ op: "quota.set", site: "T1_X", partition: "All", quota: 10 });
  assert(superQuota.status === "rejected");
  assertMatch(superQuota.error.message, /superpartition/);
  const infiniteSub = h.try({ op: "quota.set", site: "T1_X", partition: "Disk", quota: -1 });
  assert(infiniteSub.status === "rejected");
  assertEquals(infiniteSub.error.field, "quota");
});

Deno.test("occupancy conventions: no quota is full, a negative quota is infinite", () => {
  const h = new ReducerHarness();
  withDataset(h);
  h.apply(
    { op: "quota.set", site: "T2_A", partition: "Default", quota: 0 },
    { op: "quota.set", site: "T2_B", partition: "Default", quota: -1 },
  );
  const snap = new Snapshot(h.state);
  const p = snap.partition("Default")!;
  assertEquals(snap.sitePartition(snap.site("T2_A")!.id, p)!.occupancy, Number.POSITIVE_INFINITY);
  assertEquals(snap.sitePartition(snap.site("T2_B")!.id, p)!.occupancy, 0);
});

Deno.test("a storage type change moves replicas between partitions", () => {
  const h = new ReducerHarness([
    { name: "Disk", condition: (c) => c.site.storageType === "disk" },
    { name: "Tape", condition: (c) => c.site.storageType === "mss" },
  ]);
  h.apply(
    { op: "site.upsert", name: "S", storage_type: "disk" },
    { op: "group.upsert", name: "G" },
    { op: "dataset.upsert", name: "/D/E/F" },
    { op: "block.upsert", dataset: "/D/E/F", block: "b" },
    { op: "files.add", dataset: "/D/E/F", block: "b", files: [{ lfn: "/f", size: 7 }] },
    { op: "dataset_replica.upsert", dataset: "/D/E/F", site: "S", group: "G" },
    { op: "block_replica.upsert", dataset: "/D/E/F", block: "b", site: "S" },
  );
  const before = new Snapshot(h.state);
  h.apply({ op: "site.upsert", name: "S", storage_type: "mss" });
  const after = new Snapshot(h.state);
  assertEquals(before.sitePartition(1, before.partition("Disk")!)!.physical, 7);
  assertEquals(after.sitePartition(1, after.partition("Disk")!)!.physical, 0);
  assertEquals(after.sitePartition(1, after.partition("Tape")!)!.physical, 7);
});

Deno.test("validation errors name the object and field and change nothing", () => {
  const h = new ReducerHarness();
  withDataset(h);
  const before = inventoryDigest(h.state);
  const cases: [Record<string, unknown>, string, string | null][] = [
    [{ op: "dataset.delete", name: "/No/Such/DS" }, 'dataset "/No/Such/DS"', "name"],
    [{ op: "block.upsert", dataset: "/No/Such/DS", block: "x" }, 'block "/No/Such/DS#x"', "dataset"],
    [
      { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T9_NOWHERE" },
      'dataset replica "/A/B/RAW" at "T9_NOWHERE"',
      "site",
    ],
    [
      { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
      'block replica "/A/B/RAW#b0" at "T2_A"',
      "site",
    ],
    [
      { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "Nobody" },
      'dataset replica "/A/B/RAW" at "T2_A"',
      "group",
    ],
    [
      {
        op: "files.add",
        dataset: "/A/B/RAW",
        block: "b1",
        files: [{ lfn: "/A/B/RAW/b0/f0.root", size: 10 }],
      },
      'block "/A/B/RAW#b1"',
      "files[0].lfn",
    ],
    [
      { op: "files.delete", dataset: "/A/B/RAW", block: "b0", lfns: ["/nope"] },
      'block "/A/B/RAW#b0"',
      "lfns[0]",
    ],
    [
      { op: "quota.set", site: "T2_A", partition: "Nope", quota: 1 },
      'quota of partition "Nope" at site "T2_A"',
      "partition",
    ],
  ];
  for (const [raw, object, field] of cases) {
    const outcome = h.try(raw);
    assert(outcome.status === "rejected", `expected rejection of ${JSON.stringify(raw)}`);
    assert(outcome.error instanceof InventoryValidationError);
    assertEquals([outcome.error.object, outcome.error.field], [object, field]);
  }
  assertEquals(inventoryDigest(h.state), before);
});

Deno.test("an invalid command rejects only itself; an atomic submission is all or nothing", () => {
  const h = new ReducerHarness();
  basicFederation(h);
  const ok = parseCommand({ op: "dataset.upsert", name: "/X/Y/Z" });
  const bad = parseCommand({ op: "block.upsert", dataset: "/Nope/Nope/Nope", block: "b" });
  const alsoOk = parseCommand({ op: "dataset.upsert", name: "/P/Q/R" });
  const result = h.batch([
    { commands: [ok, bad, alsoOk] },
    { commands: [parseCommand({ op: "dataset.upsert", name: "/Atomic/1/A" }), bad], atomic: true },
  ]);
  assertEquals(result.outcomes.map((row) => row.map((o) => o.status)), [
    ["applied", "rejected", "applied"],
    ["aborted", "rejected"],
  ]);
  const snap = new Snapshot(h.state);
  assert(snap.dataset("/X/Y/Z") && snap.dataset("/P/Q/R"));
  assertEquals(snap.dataset("/Atomic/1/A"), undefined);
  assertEquals(result.applied.length, 2);
});

Deno.test("a snapshot never changes after later batches", () => {
  const h = new ReducerHarness();
  withDataset(h);
  const held = new Snapshot(h.state);
  const digest = inventoryDigest(held.state);
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    { op: "dataset.upsert", name: "/A/B/RAW", status: "invalid" },
    { op: "site.delete", name: "T2_B" },
  );
  assertEquals(inventoryDigest(held.state), digest);
  assertEquals(held.dataset("/A/B/RAW")!.status, "valid");
  assert(held.site("T2_B"));
});

Deno.test("a re-created dataset gets its old id back and old snapshots still resolve names", () => {
  const h = new ReducerHarness();
  withDataset(h, "/A/B/RAW", 1, 1);
  const first = new Snapshot(h.state);
  const id = first.dataset("/A/B/RAW")!.id;
  h.apply({ op: "dataset.delete", name: "/A/B/RAW" }, { op: "dataset.upsert", name: "/Other/B/RAW" });
  const between = new Snapshot(h.state);
  h.apply({ op: "dataset.upsert", name: "/A/B/RAW" });
  const later = new Snapshot(h.state);
  assertEquals(later.dataset("/A/B/RAW")!.id, id);
  assertEquals(between.dataset("/A/B/RAW"), undefined);
  assertEquals(first.dataset("/A/B/RAW")!.numFiles, 1);
  assertEquals(later.dataset("/A/B/RAW")!.numFiles, 0);
});

Deno.test("the incremental ledger equals a full recount after random command sequences", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new SeededRng(seed);
    const h = new ReducerHarness([
      { name: "Owned", condition: (c) => c.blockReplica.groupId !== 0 },
      { name: "Disk", condition: (c) => c.site.storageType === "disk" },
    ]);
    const sites = ["S1", "S2", "S3"];
    h.apply(
      ...sites.map((s) => ({ op: "site.upsert", name: s, storage_type: "disk" })),
      { op: "group.upsert", name: "G1" },
      { op: "group.upsert", name: "G2" },
    );
    let fileNo = 0;
    let peakBlockReplicas = 0;
    for (let step = 0; step < 300; step++) {
      const ds = `/D${rng.int(4)}/X/Y`;
      const block = `b${rng.int(3)}`;
      const site = sites[rng.int(3)]!;
      const group = ["G1", "G2", null][rng.int(3)];
      const creations: Record<string, unknown>[] = [
        { op: "dataset.upsert", name: ds },
        { op: "block.upsert", dataset: ds, block },
        {
          op: "files.add",
          dataset: ds,
          block,
          files: [{ lfn: `/f${fileNo++}`, size: 1 + rng.int(100), site }],
        },
        { op: "dataset_replica.upsert", dataset: ds, site, group },
        { op: "block_replica.upsert", dataset: ds, block, site, group: group ?? "G1" },
      ];
      const removals: Record<string, unknown>[] = [
        { op: "block_replica.delete", dataset: ds, block, site },
        { op: "block.delete", dataset: ds, block },
        { op: "site.upsert", name: site, storage_type: rng.int(2) ? "disk" : "mss" },
        { op: "dataset.delete", name: ds },
        { op: "group.upsert", name: "G2", olevel: rng.int(2) ? "Block" : "Dataset" },
      ];
      // Removals are rarer than creations so that the inventory grows to a useful size.
      const pick = rng.int(15);
      h.try(pick < removals.length ? removals[pick]! : creations[rng.int(creations.length)]!);
      peakBlockReplicas = Math.max(peakBlockReplicas, h.state.counts.blockReplicas);
    }
    assert(peakBlockReplicas >= 5, `seed ${seed} exercised only ${peakBlockReplicas} block replicas`);
    const recount = recomputeLedger(h.state);
    for (const [siteId, ledger] of h.state.ledger.entries()) {
      assertEquals(
        { physical: [...ledger.physical], projected: [...ledger.projected] },
        recount.get(siteId),
        `seed ${seed}`,
      );
    }
  }
});
