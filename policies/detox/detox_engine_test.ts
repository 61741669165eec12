import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { randomFederation } from "../../tests/helpers/federation.ts";
import { type DatasetAttributes, NO_ATTRIBUTES } from "../language/mod.ts";
import { parsePartitions } from "../partitions.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { type DetoxOptions, type DetoxResult, runDetox } from "./detox_engine.ts";
import { parseDetoxPolicy } from "./detox_policy.ts";
import { deletionPlan } from "./deletion_plan.ts";
import { PartitionImage } from "./partition_image.ts";

const NOW = Date.UTC(2026, 10, 25);

/** Sites with quotas and datasets of given sizes (one block each) owned by AnalysisOps. */
function inventory(spec: {
  sites: Record<string, number>;
  datasets: { name: string; size: number; at: string[]; blocks?: number; owners?: string[] }[];
}): ReducerHarness {
  const h = new ReducerHarness(
    parsePartitions("Analysis: blockreplica.owner != None and site.storage_type == DISK\n"),
  );
  h.nowMs = NOW;
  h.apply(
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "group.upsert", name: "DataOps", olevel: "Block" },
    ...Object.keys(spec.sites).map((name) => ({
      op: "site.upsert",
      name,
      storage_type: "disk",
      status: "ready",
    })),
    ...Object.entries(spec.sites).map(([site, quota]) => ({
      op: "quota.set",
      site,
      partition: "Analysis",
      quota,
    })),
  );
  let f = 0;
  for (const d of spec.datasets) {
    const blocks = d.blocks ?? 1;
    const cmds: Record<string, unknown>[] = [{ op: "dataset.upsert", name: d.name, status: "valid" }];
    for (let b = 0; b < blocks; b++) {
      cmds.push({ op: "block.upsert", dataset: d.name, block: `b${b}` });
      cmds.push({
        op: "files.add",
        dataset: d.name,
        block: `b${b}`,
        files: [{ lfn: `/f${d.name}/${f++}`, size: d.size / blocks }],
      });
    }
    for (const site of d.at) {
      cmds.push({
        op: "dataset_replica.upsert",
        dataset: d.name,
        site,
        group: "AnalysisOps",
        growing: false,
      });
      for (let b = 0; b < blocks; b++) {
        cmds.push({
          op: "block_replica.upsert",
          dataset: d.name,
          block: `b${b}`,
          site,
          group: d.owners?.[b] ?? "AnalysisOps",
        });
      }
    }
    h.apply(...cmds);
  }
  return h;
}

function run(
  h: ReducerHarness,
  policyText: string,
  attrs: DatasetAttributes = NO_ATTRIBUTES,
  options: DetoxOptions = {},
) {
  const snap = new Snapshot(h.state);
  const policy = parseDetoxPolicy(policyText, { nowMs: NOW });
  const result = runDetox(PartitionImage.build(snap, policy, attrs), policy, options);
  const name = (id: number) => snap.datasetById(id)!.name;
  const site = (id: number) => snap.siteById(id)!.name;
  return {
    snap,
    result,
    deleted: result.deletions.map((d) => `${name(d.datasetId)}@${site(d.siteId)}`),
    decisions: result.decisions.map((d) =>
      `${d.decision} ${name(d.datasetId)}@${site(d.siteId)} line ${d.line}`
    ),
  };
}

const rankOf = (h: ReducerHarness, ranks: Record<string, number>): DatasetAttributes => ({
  ...NO_ATTRIBUTES,
  usageRank: (id) => ranks[h.state.datasets.get(id)!.name] ?? 0,
});

const WATERMARKS = `Partition Analysis
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
`;

Deno.test("a full site comes back under its low watermark by deleting the least popular replicas first", () => {
  const h = inventory({
    sites: { T2_A: 1000 },
    datasets: [
      { name: "/D/a/AOD", size: 200, at: ["T2_A"] },
      { name: "/D/b/AOD", size: 200, at: ["T2_A"] },
      { name: "/D/c/AOD", size: 200, at: ["T2_A"] },
      { name: "/D/d/AOD", size: 200, at: ["T2_A"] },
      { name: "/Keep/e/AOD", size: 150, at: ["T2_A"] },
    ],
  });
  const attrs = rankOf(h, {
    "/D/a/AOD": 10,
    "/D/b/AOD": 300,
    "/D/c/AOD": 250,
    "/D/d/AOD": 50,
    "/Keep/e/AOD": 999,
  });
  const r = run(
    h,
    WATERMARKS + "Protect dataset.name == /Keep/*\nDismiss\nOrder decreasing dataset.usage_rank\n",
    attrs,
    {
      deletionPerIteration: 1,
    },
  );
  // 950/1000 = 0.95 > 0.9: delete the least popular until below 0.85; the Protect line outranks popularity.
  assertEquals(r.deleted, ["/D/b/AOD@T2_A"]);
  const site = r.result.sites[0]!;
  assertEquals([site.usedBefore, site.usedAfter, site.triggered, site.stillTriggered], [
    950,
    750,
    true,
    false,
  ]);
  assert(r.decisions.includes("protect /Keep/e/AOD@T2_A line 5"));
  assert(r.decisions.includes("keep /D/a/AOD@T2_A line 6"), "default decision is attributed to its own line");
});

Deno.test("a site under its high watermark is not touched, except by Delete lines", () => {
  const h = inventory({
    sites: { T2_A: 1000 },
    datasets: [{ name: "/D/a/AOD", size: 100, at: ["T2_A"] }, {
      name: "/Old/b/RAW",
      size: 100,
      at: ["T2_A"],
    }],
  });
  const r = run(h, WATERMARKS + "Delete dataset.name == /Old/*\nDismiss\n");
  assertEquals(r.deleted, ["/Old/b/RAW@T2_A"]);
  assertEquals(r.result.sites[0]!.triggered, false);
});

Deno.test("each iteration deletes at most deletion_per_iteration of the quota, then re-evaluates", () => {
  const datasets = Array.from(
    { length: 100 },
    (_, i) => ({ name: `/D/${String(i).padStart(3, "0")}/AOD`, size: 100, at: ["T2_A"] }),
  );
  const h = inventory({ sites: { T2_A: 10_000 }, datasets });
  const r = run(h, WATERMARKS + "Dismiss\nOrder none\n");
  // 10000 → below 8500: 16 replicas; at 1 % of quota per iteration (checked before each), two per iteration.
  assertEquals(r.deleted.length, 16);
  assertEquals(r.result.iterations, 9);
  assertEquals(r.result.sites[0]!.usedAfter, 8400);
});

Deno.test("a candidate's order follows deletions at other sites (order keys are not stale)", () => {
  // T2_B (more protected) deletes /L there; /L at T2_A becomes the last copy, protected, so T2_A
  // (now more protected) goes next and deletes /X there; back at T2_B, /X has no other copy left
  // and sorts after /Y, which still has one: T2_B deletes /Y, not /X.
  const h = inventory({
    sites: { T2_A: 1000, T2_B: 1000 },
    datasets: [
      { name: "/P/a/AOD", size: 100, at: ["T2_A"] },
      { name: "/P/b/AOD", size: 150, at: ["T2_B"] },
      { name: "/L/l/AOD", size: 100, at: ["T2_A", "T2_B"] },
      { name: "/X/x/AOD", size: 200, at: ["T2_A", "T2_B"] },
      { name: "/Y/y/AOD", size: 100, at: ["T2_A", "T2_B"] },
      { name: "/F/a/AOD", size: 420, at: ["T2_A"] },
      { name: "/F/b/AOD", size: 400, at: ["T2_B"] },
    ],
  });
  const policy = WATERMARKS + `Protect dataset.name == /P/*
Protect dataset.name == /L/* and replica.num_full_other_copy_common_owner == 0
Dismiss
Order decreasing replica.num_full_other_copy_common_owner
`;
  for (const incremental of [true, false]) {
    const r = run(h, policy, NO_ATTRIBUTES, { deletionPerIteration: 0.001, incremental });
    assertEquals(
      r.deleted.sort(),
      ["/L/l/AOD@T2_B", "/X/x/AOD@T2_A", "/Y/y/AOD@T2_B"],
      `incremental ${incremental}`,
    );
  }
});

Deno.test("Algo Static deletes everything needed in one pass", () => {
  const datasets = Array.from(
    { length: 100 },
    (_, i) => ({ name: `/D/${String(i).padStart(3, "0")}/AOD`, size: 100, at: ["T2_A"] }),
  );
  const h = inventory({ sites: { T2_A: 10_000 }, datasets });
  const r = run(h, WATERMARKS + "Dismiss\nAlgo Static\n");
  assertEquals([r.deleted.length, r.result.iterations], [16, 2]);
});

Deno.test("last copies survive through re-evaluation; the site with more protected data goes first", () => {
  const h = inventory({
    sites: { T2_A: 1000, T2_B: 1000 },
    datasets: [
      { name: "/Shared/x/AOD", size: 310, at: ["T2_A", "T2_B"] },
      { name: "/OnlyA/y/AOD", size: 600, at: ["T2_A"] },
      { name: "/OnlyB/z/AOD", size: 620, at: ["T2_B"] },
    ],
  });
  const policy = WATERMARKS + "Protect replica.num_full_other_copy_common_owner == 0\nDismiss\n";
  const r = run(h, policy);
  // Both sites are over 90 % (910, 930); B protects more (620 vs 600), so B deletes its copy of the shared
  // dataset first; re-evaluated, A's copy is now the last one and is protected.
  assertEquals(r.deleted, ["/Shared/x/AOD@T2_B"]);
  assert(r.decisions.includes("protect /Shared/x/AOD@T2_A line 5"));
  assertEquals(r.result.sites.map((s) => s.stillTriggered), [true, false]);
});

Deno.test("block-level lines act on the matching blocks; DeleteBlock hands blocks over to the dataset-level owner", () => {
  const h = inventory({
    sites: { T2_A: 1000 },
    datasets: [{
      name: "/Mixed/m/AOD",
      size: 300,
      at: ["T2_A"],
      blocks: 3,
      owners: ["AnalysisOps", "DataOps", "DataOps"],
    }],
  });
  const r = run(h, WATERMARKS + "DeleteBlock blockreplica.owner == DataOps\nProtect\n");
  // DataOps holds blocks b1 and b2 at Block level inside a replica owned by AnalysisOps at Dataset
  // level: they are handed over to AnalysisOps, not deleted.
  assertEquals(r.deleted, []);
  assertEquals(r.result.reassignments.map((x) => [x.blockIds.length, r.snap.groupById(x.groupId)!.name]), [[
    2,
    "AnalysisOps",
  ]]);
  const plan = deletionPlan(r.snap, r.result);
  assertEquals(plan.commands.map((c) => [c.op, (c as { group?: string }).group]), [
    ["block_replica.upsert", "AnalysisOps"],
    ["block_replica.upsert", "AnalysisOps"],
  ]);
});

Deno.test("ProtectBlock hides its blocks from later lines; partial deletions stay block-level", () => {
  const h = inventory({
    sites: { T2_A: 100 },
    datasets: [{ name: "/P/p/AOD", size: 90, at: ["T2_A"], blocks: 3 }, {
      name: "/Q/q/AOD",
      size: 8,
      at: ["T2_A"],
    }],
  });
  const attrs = {
    ...NO_ATTRIBUTES,
    lockedBlocks: (
      d: number,
    ) => (h.state.datasets.get(d)!.name === "/P/p/AOD"
      ? new Set([h.state.datasets.get(d)!.blockIds[0]!])
      : undefined),
  };
  const r = run(
    h,
    WATERMARKS + "ProtectBlock blockreplica.is_locked\nDismiss\nOrder decreasing replica.size\n",
    attrs,
    {
      deletionPerIteration: 1,
    },
  );
  // 98 % full: the 60 unlocked bytes of /P/p go first; the locked block stays.
  assertEquals(r.deleted, ["/P/p/AOD@T2_A"]);
  const plan = deletionPlan(r.snap, r.result);
  assertEquals(plan.operations[0]!.blockIds!.length, 2, "block-level operation");
  assertEquals(plan.commands.filter((c) => c.op === "dataset_replica.upsert").length, 0);
  assert(r.decisions.includes("protect /P/p/AOD@T2_A line 5"));
});

// ---- properties on generated federations ----------------------------------------------

// The last-copy protections come before the popularity dismissals here. (In CMS's Physics.txt
// the `usage_rank` dismissals come first, so very unpopular data may lose its last disk copy.)
const PHYSICS_STYLE = `Partition Physics
On site.name in [T2_* T1_*]
When site.occupancy > 0.9
Until site.occupancy < 0.85
Ignore site.storage_type == MSS
ProtectBlock blockreplica.owner == DataOps and not blockreplica.on_tape
Protect replica.incomplete
Protect dataset.name == /*/*/RAW and dataset.on_tape != FULL
Protect replica.num_full_other_copy_common_owner == 0
Protect dataset.name == /*/*/MINIAOD and replica.num_full_other_copy_common_owner < 2
Dismiss dataset.usage_rank > 300
Dismiss
Order decreasing dataset.usage_rank increasing replica.size
`;

const SEEDS = Array.from({ length: 25 }, (_, i) => i + 1);

function canonical(r: DetoxResult): string {
  return JSON.stringify({
    decisions: r.decisions,
    deletions: r.deletions,
    reassignments: r.reassignments,
    sites: r.sites,
  });
}

Deno.test("incremental and full re-evaluation give identical decisions", () => {
  let evaluationsSaved = 0;
  for (const seed of SEEDS) {
    const { h, attrs } = randomFederation({ seed, quota: 6000 });
    const incremental = run(h, PHYSICS_STYLE, attrs, { incremental: true });
    const full = run(h, PHYSICS_STYLE, attrs, { incremental: false });
    assertEquals(canonical(incremental.result), canonical(full.result), `seed ${seed}`);
    evaluationsSaved += full.result.evaluations - incremental.result.evaluations;
  }
  assert(evaluationsSaved > 0, "incremental evaluation should evaluate less");
});

Deno.test("order keys kept between iterations give the decisions of keys computed at every sort", () => {
  // Keys that read the other replicas of the dataset (copies) and the replica's own blocks (size),
  // a small step per iteration so that each site sorts its candidates many times, and deletions at
  // one site changing the keys of candidates at another.
  const policy = PHYSICS_STYLE.replace(
    "Order decreasing dataset.usage_rank increasing replica.size",
    "Order decreasing replica.num_full_other_copy_common_owner increasing replica.size",
  ).replace("Protect replica.num_full_other_copy_common_owner == 0\n", "");
  let iterations = 0;
  for (const seed of SEEDS) {
    const { h, attrs } = randomFederation({ seed, quota: 6000 });
    const options = { deletionPerIteration: 0.002 };
    const kept = run(h, policy, attrs, { ...options, incremental: true });
    const fresh = run(h, policy, attrs, { ...options, incremental: false });
    assertEquals(canonical(kept.result), canonical(fresh.result), `seed ${seed}`);
    iterations += kept.result.iterations;
  }
  assert(iterations > SEEDS.length * 5, "the sites should sort their candidates many times");
});

Deno.test("safety: triggered sites end under Until or with nothing deletable; protected data is never deleted", () => {
  let deletedSomething = 0;
  for (const seed of SEEDS) {
    const { h, attrs } = randomFederation({ seed, quota: 6000 });
    const { result } = run(h, PHYSICS_STYLE, attrs);
    for (const site of result.sites) {
      if (!site.stillTriggered) continue;
      const keptHere = result.decisions.filter((d) => d.siteId === site.siteId && d.decision === "keep");
      assertEquals(
        keptHere,
        [],
        `seed ${seed}: site ${site.siteId} is still triggered but kept deletable replicas`,
      );
    }
    const deleted = new Set(result.deletions.flatMap((d) => d.blockIds.map((b) => `${d.siteId}:${b}`)));
    for (const d of result.decisions.filter((x) => x.decision === "protect")) {
      for (const b of d.blockIds) {
        assert(!deleted.has(`${d.siteId}:${b}`), `seed ${seed}: protected block ${b} deleted`);
      }
    }
    deletedSomething += result.deletions.length;
  }
  assert(deletedSomething > 0, "the generated federations should need deletions");
});

Deno.test("safety: with last-copy rules no dataset loses its last full copy on disk unless it is on tape", () => {
  let lastCopiesKept = 0;
  for (const seed of SEEDS) {
    const { h, attrs } = randomFederation({ seed, quota: 6000 });
    const before = fullDiskCopies(new Snapshot(h.state));
    const onTape = fullyOnTape(new Snapshot(h.state));
    const { snap, result } = run(h, PHYSICS_STYLE, attrs);
    h.apply(...deletionPlan(snap, result).commands as unknown as Record<string, unknown>[]);
    const after = fullDiskCopies(new Snapshot(h.state));
    for (const [dataset, n] of before) {
      if (n === 0 || onTape.has(dataset)) continue;
      assert((after.get(dataset) ?? 0) > 0, `seed ${seed}: ${dataset} lost its last full disk copy`);
      if (n === 1) lastCopiesKept += 1;
    }
  }
  assert(lastCopiesKept > 20, "the generated federations should contain last copies");
});

function fullyOnTape(snap: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const d of snap.datasets()) {
    for (const dr of snap.replicasOf(d.id)) {
      const site = snap.siteById(dr.siteId)!;
      if (
        site.storageType === "mss" && dr.blockReplicas.length === d.blockIds.length &&
        dr.blockReplicas.every((b) => b.fileIds === null)
      ) {
        out.add(d.name);
      }
    }
  }
  return out;
}

Deno.test("safety: a second cycle right after the first deletes nothing; same inputs, same decisions", () => {
  for (const seed of SEEDS) {
    const { h, attrs } = randomFederation({ seed, quota: 6000 });
    const first = run(h, PHYSICS_STYLE, attrs);
    assertEquals(
      canonical(run(h, PHYSICS_STYLE, attrs).result),
      canonical(first.result),
      `seed ${seed}: not deterministic`,
    );
    h.apply(...deletionPlan(first.snap, first.result).commands as unknown as Record<string, unknown>[]);
    const second = run(h, PHYSICS_STYLE, attrs);
    assertEquals(second.deleted, [], `seed ${seed}: second cycle deleted`);
  }
});

/** Owned, complete replicas holding every block, at ready disk sites, per dataset name. */
function fullDiskCopies(snap: Snapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of snap.datasets()) {
    let n = 0;
    for (const dr of snap.replicasOf(d.id)) {
      const site = snap.siteById(dr.siteId)!;
      const owned = dr.blockReplicas.filter((br) => br.groupId !== 0 && br.fileIds === null);
      if (site.storageType === "disk" && site.status === "ready" && owned.length === d.blockIds.length) {
        n += 1;
      }
    }
    out.set(d.name, n);
  }
  return out;
}
