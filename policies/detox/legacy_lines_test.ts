/**
 * Line forms of the 2016 Detox policy language and files without a Partition
 * line. Our own small fixtures, one per construct.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { PolicySyntaxError } from "../language/errors.ts";
import { NO_ATTRIBUTES } from "../language/targets.ts";
import { parsePartitions } from "../partitions.ts";
import { describePolicyFile } from "../describe_policy_file.ts";
import { runDetox } from "./detox_engine.ts";
import { checkPartitionName, parseDetoxPolicy } from "./detox_policy.ts";
import { PartitionImage } from "./partition_image.ts";

const NOW = Date.UTC(2026, 10, 25);
const parse = (text: string, partition: string | undefined = "Analysis") =>
  parseDetoxPolicy(text, { nowMs: NOW, file: "old.txt", ...(partition === undefined ? {} : { partition }) });
const fails = (text: string, partition?: string) =>
  assertThrows(() => parse(text, partition), PolicySyntaxError) as PolicySyntaxError;

const SITES = "On site.name == T2_*\nWhen site.occupancy > 0.9\nUntil site.occupancy < 0.85\n";

Deno.test("a file without a Partition line takes the partition given for it", () => {
  const p = parse(SITES + "Dismiss\n");
  assertEquals([p.partition, p.partitionSource], ["Analysis", "configuration"]);
  const own = parse("Partition Analysis\n" + SITES + "Dismiss\n");
  assertEquals([own.partition, own.partitionSource], ["Analysis", "file"]);
  assertMatch(
    (assertThrows(
      () => parseDetoxPolicy(SITES + "Dismiss\n", { nowMs: NOW }),
      PolicySyntaxError,
    ) as PolicySyntaxError).reason,
    /missing Partition line: give the partition in the Detox configuration or with --partition/,
  );
  assertMatch(
    fails("Partition Other\n" + SITES + "Dismiss\n").reason,
    /the file's Partition line names "Other" but "Analysis" was given/,
  );
});

Deno.test("a partition given from outside is checked: empty, hostile and overlong names are refused", () => {
  for (
    const bad of [
      "",
      " ",
      " Analysis",
      "Analysis\n",
      "../etc",
      "a/b",
      "<script>",
      "x;rm -rf",
      "é",
      "A".repeat(101),
      "\0",
    ]
  ) {
    assert(checkPartitionName(bad) !== null, JSON.stringify(bad));
    assertMatch(fails(SITES + "Dismiss\n", bad).reason, /not a partition name/);
  }
  for (const good of ["Physics", "IB RelVal", "caf-alca", "DataOps_Disk", "A.B+1"]) {
    assertEquals(checkPartitionName(good), null, good);
  }
});

Deno.test("policy check describes a partition-less file and says where its partition comes from", () => {
  const out = describePolicyFile(SITES + "Protect dataset.name == /A/*\nDismiss\n", "campaign.txt", NOW);
  assertMatch(
    out[0]!,
    /campaign\.txt: Detox policy without a Partition line: its partition comes from the Detox configuration/,
  );
  assert(out.some((l) => l.includes("rules: 1 Protect; default Dismiss")));
});

Deno.test("`Action if COND` (2016-08-06 to 08-11): the if is a keyword; Delete meant Dismiss then", () => {
  const p = parse(SITES + "Protect if replica.incomplete\nDelete if dataset.status == DEPRECATED\nDelete\n");
  assertEquals(p.lines.map((l) => [l.action, l.condition.text]), [
    ["Protect", "replica.incomplete"],
    ["Dismiss", "dataset.status == DEPRECATED"],
  ]);
  assertEquals(p.defaultAction, "Dismiss");
  assertEquals(p.order.map((k) => `${k.direction} ${k.variable}`), ["decreasing dataset.usage_rank"]);
  assertMatch(fails(SITES + "Protect if\nDelete\n").reason, /expected a condition after "Protect if"/);
});

Deno.test("a 2016 stack without On/When/Until gets that time's defaults: quota, 90 %, 85 %", () => {
  const p = parse("Protect if replica.incomplete\nDelete\n");
  assertEquals(
    [p.targets, p.triggers, p.stops].map((c) => c[0]!.text),
    ["site.quota > 0", "site.occupancy > 0.9", "site.occupancy < 0.85"],
  );
  // A current-dialect file must still give them.
  assertMatch(fails("Protect replica.incomplete\nDismiss\n").reason, /missing On line/);
});

Deno.test("`Strategy iterative|static [order by VAR]` (2016-08-10 to 08-12)", () => {
  const it = parse(SITES + "Strategy iterative order by dataset.usage_rank\nDelete\n");
  assertEquals([it.iterative, it.order.map((k) => `${k.direction} ${k.variable}`)], [true, [
    "decreasing dataset.usage_rank",
  ]]);
  const st = parse(SITES + "Strategy static\nOrder increasing dataset.last_update\nDelete\n");
  assertEquals([st.iterative, st.order.map((k) => k.variable)], [false, ["dataset.last_update"]]);
  assertMatch(
    fails(SITES + "Strategy greedy\nDelete\n").reason,
    /expected "Strategy iterative" or "Strategy static"/,
  );
  assertMatch(
    fails(SITES + "Strategy static order by dataset.name\nDelete\n").reason,
    /not a numeric or time/,
  );
  assertMatch(
    fails(SITES + "Strategy static\nStrategy iterative\nDelete\n").reason,
    /already given on line 4/,
  );
  assertMatch(
    fails(SITES + "Strategy static order by dataset.size\nOrder none\nDelete\n").reason,
    /the order is already given/,
  );
});

Deno.test("`When A until B` (2016-08-10) is a trigger and a stop condition", () => {
  const p = parse(
    "On site.name == T2_*\nWhen site.occupancy > 0.9 until site.occupancy < 0.85\nDelete if replica.incomplete\nProtect\n",
  );
  assertEquals([p.triggers[0]!.text, p.stops[0]!.text], ["site.occupancy > 0.9", "site.occupancy < 0.85"]);
  const e = fails(
    "On always\nWhen site.occupancy > 0.9 until site.bogus < 1\nDelete if replica.incomplete\nProtect\n",
  );
  assertEquals([e.line, e.column], [2, 33], "points at site.bogus");
});

Deno.test("`AlwaysDelete` (2016-08-18 to 08-27) is today's Delete; Delete beside it is today's Dismiss", () => {
  const p = parse(
    SITES + "AlwaysDelete dataset.status == INVALID\nDelete dataset.name == /*/*/RAW\nProtect\n",
  );
  assertEquals(p.lines.map((l) => l.action), ["Delete", "Dismiss"]);
  assertMatch(fails(SITES + "AlwaysDelete\nProtect\n").reason, /AlwaysDelete needs a condition/);
  // Without a 2016 construct, Delete keeps today's meaning when the file has a Dismiss …
  assertEquals(
    parse(SITES + "Delete dataset.name == /*/*/RAW\nDismiss\n").lines.map((l) => l.action),
    ["Delete"],
  );
  // … or is greedy (`When always`: both meanings delete the same replicas).
  const greedy = "On site.name == T2_*\nWhen always\nUntil never\n";
  assertEquals(parse(greedy + "Delete dataset.name == /*/*/RAW\nProtect\n").lines[0]!.action, "Delete");
  // With a watermark and no Dismiss at all (2016-08-14 to 08-27), Delete is the 2016 candidate: today
  // such a trigger would act on nothing.
  const watermark = parse(SITES + "Delete dataset.name == /*/*/RAW\nProtect replica.incomplete\nDelete\n");
  assertEquals([watermark.lines[0]!.action, watermark.defaultAction], ["Dismiss", "Dismiss"]);
});

Deno.test("`DeleteOwner(G…) COND` is DeleteBlock on the blocks those groups own", () => {
  const p = parse(SITES + "DeleteOwner(DataOps,AnalysisOps) replica.owners contains DataOps\nDismiss\n");
  assertEquals(p.lines[0]!.action, "DeleteBlock");
  // DeleteOwner lived after Delete took today's meaning (2016-10 to 2017-09): no first-dialect mark.
  const beside = parse(
    SITES + "DeleteOwner(DataOps) replica.incomplete\nDelete dataset.name == /X/*\nDismiss\n",
  );
  assertEquals(beside.lines.map((l) => l.action), ["DeleteBlock", "Delete"]);
  assert(p.variables.includes("blockreplica.owner"));
  for (const bad of ["DeleteOwner() x", "DeleteOwner(,A) x", "DeleteOwner(A"]) {
    assertMatch(
      fails(SITES + `${bad} replica.incomplete\nDismiss\n`).reason,
      /DeleteOwner\(GROUP|unknown line type/,
    );
  }
  assertMatch(fails(SITES + "DeleteOwner(DataOps)\nDismiss\n").reason, /DeleteOwner needs a condition/);
});

/** T2_A (quota 1000, 30 % full): /Mixed/m/AOD with blocks of AnalysisOps, DataOps; /Raw/r/RAW of DataOps. */
function site() {
  const h = new ReducerHarness(parsePartitions("Analysis: blockreplica.owner != None\n"));
  h.nowMs = NOW;
  h.apply(
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "group.upsert", name: "DataOps", olevel: "Block" },
    { op: "quota.set", site: "T2_A", partition: "Analysis", quota: 1000 },
  );
  for (
    const [name, owners] of [["/Mixed/m/AOD", ["AnalysisOps", "DataOps"]], ["/Raw/r/RAW", [
      "DataOps",
    ]]] as const
  ) {
    h.apply({ op: "dataset.upsert", name, status: "valid" });
    owners.forEach((group, i) => {
      h.apply(
        { op: "block.upsert", dataset: name, block: `b${i}` },
        { op: "files.add", dataset: name, block: `b${i}`, files: [{ lfn: `${name}/${i}`, size: 100 }] },
        { op: "dataset_replica.upsert", dataset: name, site: "T2_A", group: owners[0], growing: false },
        { op: "block_replica.upsert", dataset: name, block: `b${i}`, site: "T2_A", group },
      );
    });
  }
  const snap = new Snapshot(h.state);
  return (text: string) => {
    const policy = parse(text);
    const result = runDetox(PartitionImage.build(snap, policy, NO_ATTRIBUTES), policy, {});
    return {
      deleted: result.deletions.map((d) => snap.datasetById(d.datasetId)!.name).sort(),
      handedOver: result.reassignments.map((r) => snap.groupById(r.groupId)!.name),
    };
  };
}

Deno.test("2016 semantics in a cycle: Delete waits for the trigger, AlwaysDelete does not, DeleteOwner hands over", () => {
  const run = site();
  // Under the watermark: old Delete (= Dismiss) deletes nothing …
  assertEquals(run(SITES + "Delete if dataset.name == /Raw/*\nProtect\n").deleted, []);
  // … AlwaysDelete deletes at once …
  assertEquals(run(SITES + "AlwaysDelete dataset.name == /Raw/*\nDelete\n").deleted, ["/Raw/r/RAW"]);
  // … and today's Delete too.
  assertEquals(run(SITES + "Delete dataset.name == /Raw/*\nDismiss\n").deleted, ["/Raw/r/RAW"]);
  // DeleteOwner(DataOps): the RAW replica (all DataOps) goes; the mixed one's DataOps block is handed
  // over to the dataset-level owner AnalysisOps.
  const owner = run(SITES + "DeleteOwner(DataOps) replica.owners contains DataOps\nDelete\n");
  assertEquals(owner.deleted, ["/Raw/r/RAW"]);
  assertEquals(owner.handedOver, ["AnalysisOps"]);
});
