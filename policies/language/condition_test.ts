import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { parsePartitions } from "../partitions.ts";
import { parseDetoxPolicy } from "../detox/detox_policy.ts";
import { PartitionImage } from "../detox/partition_image.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { compileReplicaCondition, compileSiteCondition } from "./condition.ts";
import { PolicySyntaxError } from "./errors.ts";
import { NO_ATTRIBUTES } from "./targets.ts";
import { parseTimeExpression } from "./time_expression.ts";

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const DAY = 86400;

/** One dataset with two blocks at a disk site (one block owned by DataOps, one incomplete) and a tape copy. */
function world() {
  const h = new ReducerHarness(parsePartitions("All: site.name == *\n"));
  h.nowMs = NOW;
  h.apply(
    { op: "site.upsert", name: "T2_CH_CERN", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T1_US_FNAL_MSS", storage_type: "mss", status: "ready" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "group.upsert", name: "IB RelVal" },
    { op: "group.upsert", name: "DataOps" },
    { op: "quota.set", site: "T2_CH_CERN", partition: "All", quota: 1000 },
    {
      op: "dataset.upsert",
      name: "/Prim/Run2018A-v1/MINIAOD",
      status: "valid",
      last_update: NOW / 1000 - 10 * DAY,
      software_version: "CMSSW_10_2_5",
    },
    {
      op: "block.upsert",
      dataset: "/Prim/Run2018A-v1/MINIAOD",
      block: "b1",
      last_update: NOW / 1000 - 100 * DAY,
    },
    {
      op: "files.add",
      dataset: "/Prim/Run2018A-v1/MINIAOD",
      block: "b1",
      files: [{ lfn: "/f1", size: 100 }],
    },
    { op: "block.upsert", dataset: "/Prim/Run2018A-v1/MINIAOD", block: "b2" },
    { op: "files.add", dataset: "/Prim/Run2018A-v1/MINIAOD", block: "b2", files: [{ lfn: "/f2", size: 30 }] },
    {
      op: "dataset_replica.upsert",
      dataset: "/Prim/Run2018A-v1/MINIAOD",
      site: "T1_US_FNAL_MSS",
      group: "DataOps",
    },
    { op: "block_replica.upsert", dataset: "/Prim/Run2018A-v1/MINIAOD", block: "b1", site: "T1_US_FNAL_MSS" },
    {
      op: "dataset_replica.upsert",
      dataset: "/Prim/Run2018A-v1/MINIAOD",
      site: "T2_CH_CERN",
      group: "IB RelVal",
    },
    {
      op: "block_replica.upsert",
      dataset: "/Prim/Run2018A-v1/MINIAOD",
      block: "b1",
      site: "T2_CH_CERN",
      last_update: NOW / 1000 - 90 * DAY,
    },
    {
      op: "block_replica.upsert",
      dataset: "/Prim/Run2018A-v1/MINIAOD",
      block: "b2",
      site: "T2_CH_CERN",
      group: "DataOps",
      files: [],
      last_update: NOW / 1000 - 2 * DAY,
    },
  );
  const snap = new Snapshot(h.state);
  const policy = parseDetoxPolicy("Partition All\nOn always\nWhen never\nUntil never\nDismiss\n", {
    nowMs: NOW,
  });
  const image = PartitionImage.build(snap, policy, NO_ATTRIBUTES);
  const disk = image.replicas.find((r) => r.site.name === "T2_CH_CERN")!;
  return { image, disk, tape: image.replicas.find((r) => r.site.name === "T1_US_FNAL_MSS")! };
}

function holds(text: string, timeShiftDays = 0) {
  const { disk } = world();
  return compileReplicaCondition(text, { nowMs: NOW, timeShiftDays }).match(disk);
}

Deno.test("text operators: exact, glob (whole name, * crosses /), start-anchored regex, sets", () => {
  assert(holds("dataset.name == /Prim/Run2018A-v1/MINIAOD"));
  assert(!holds("dataset.name == /Prim/Run2018A-v1"));
  assert(holds("dataset.name == /*/*/MINIAOD*"));
  assert(holds("dataset.name == /Prim*MINI?OD"), "* matches across /");
  assert(!holds("dataset.name == /*/*/AOD"));
  assert(holds("dataset.name != /*/*/RAW"));
  assert(holds("dataset.name =~ /Prim/Run20[0-9]+"), "regex is anchored at the start only");
  assert(!holds("dataset.name =~ Run2018"), "not found mid-name");
  assert(holds("dataset.name !=~ /Other"));
  assert(holds("site.name in [T1_* T2_CH_CERN]"));
  assert(holds("site.name notin [T1_* T3_*]"));
  assert(holds("dataset.release == 10_2_5"));
});

Deno.test("the value of a binary operator is the rest of the predicate", () => {
  assert(holds("blockreplica.owner == IB RelVal"));
  assert(holds("blockreplica.owner == IB RelVal and dataset.status == VALID"));
  assert(!holds("blockreplica.owner == IB"));
});

Deno.test("numbers, enumeration symbols and booleans", () => {
  assert(holds("dataset.size > 100"));
  assert(holds("dataset.size < 130.5"));
  assert(holds("dataset.status == VALID"));
  assert(holds("dataset.status != INVALID"));
  assert(holds("dataset.status in [VALID PRODUCTION]"));
  assert(holds("site.storage_type == DISK"));
  assert(holds("site.status == ready"), "symbols are case-insensitive");
  assert(holds("dataset.on_tape == PARTIAL"), "the tape copy lacks block b2");
  assert(holds("replica.incomplete"));
  assert(holds("not replica.enforcer_protected"));
  assert(holds("replica.num_full_other_copy_common_owner == 0"));
  assert(holds("replica.size == 100"), "b2 is incomplete and holds nothing yet");
});

Deno.test("block-replica variables on a dataset replica hold if any block replica matches", () => {
  assert(holds("blockreplica.owner == DataOps"));
  assert(holds("blockreplica.owner == IB RelVal"));
  assert(holds("not blockreplica.on_tape"), "b2 has no tape copy");
  assert(holds("blockreplica.on_tape"), "b1 has one");
  const { disk } = world();
  const c = compileReplicaCondition("blockreplica.owner == DataOps", { nowMs: NOW });
  assertEquals(disk.visible().filter((b) => c.match(b)).map((b) => b.block.name), ["b2"]);
});

Deno.test("time expressions against the injected clock, with time_shift", () => {
  assert(holds("dataset.last_update older_than 1 week ago"));
  assert(!holds("dataset.last_update older_than 2 weeks ago"));
  assert(holds("dataset.last_update newer_than 3 months ago"));
  assert(holds("blockreplica.last_update older_than 60 days ago"));
  assert(holds("blockreplica.last_update newer_than 60 days ago"));
  assert(holds("dataset.last_update newer_than January 1"));
  assert(holds("dataset.last_update > 2026-11-01"));
  // Shifting the policy 30 days into the future: "older than a week" now also holds a day-old update.
  assert(holds("dataset.last_update older_than 20 days ago", 30));
  assertEquals(parseTimeExpression("3 months ago", NOW), Date.UTC(2026, 7, 25, 12) / 1000);
  assertEquals(parseTimeExpression("1 week ago", NOW), NOW / 1000 - 7 * DAY);
  assertEquals(parseTimeExpression("January 1", NOW), Date.UTC(2026, 0, 1) / 1000);
  assertEquals(parseTimeExpression("2019-06-04", NOW), Date.UTC(2019, 5, 4) / 1000);
  assertEquals(parseTimeExpression("2019-06-04T10:30:00Z", NOW), Date.UTC(2019, 5, 4, 10, 30) / 1000);
  assertEquals(parseTimeExpression("yesterday", NOW), Date.UTC(2026, 10, 24) / 1000);
  for (
    const bad of [
      "",
      "soon",
      "February 31",
      "2019-13-01",
      "13 fortnights hence",
      "1 parsec ago",
      "2019-06-04 25:00",
    ]
  ) {
    assertEquals(parseTimeExpression(bad, NOW), null, bad);
  }
});

Deno.test("extensions: or, parentheses, quoted values", () => {
  assert(holds("dataset.name == /x/y/z or dataset.status == VALID"));
  assert(holds("(dataset.name == /x/y/z or site.name == T2_*) and dataset.status == VALID"));
  assert(!holds("dataset.status == VALID and (dataset.name == /x/y/z or site.name == T1_*)"));
  assert(holds('blockreplica.owner == "IB RelVal"'));
  assert(!holds('dataset.name == "/*/*/MINIAOD*"'), "quoted values are literal, not globs");
  assert(holds("dataset.name =~ /Prim/Run2018A-v1/MINIAOD(?:-RECO|)$"), "parentheses inside a regex value");
  assert(holds("(dataset.name =~ /Prim/Run2018A-v1/MINIAOD(?:-RECO|)$)"));
});

Deno.test("site conditions: occupancy, quota, status, always, never", () => {
  const site = { name: "T2_CH_CERN", status: "morgue", storageType: "disk" } as const;
  const s = {
    site: { id: 1, host: "", backend: "", filenameMappings: {}, ...site },
    quota: 1000,
    occupancy: 0.93,
  };
  const holdsAt = (text: string) => compileSiteCondition(text, { nowMs: NOW }).match(s);
  assert(holdsAt("site.occupancy > 0.9"));
  assert(holdsAt("site.status == MORGUE"));
  assert(!holdsAt("site.status != MORGUE and site.occupancy < 0.85"));
  assert(holdsAt("site.quota > 999"));
  assert(holdsAt("always"));
  assert(!holdsAt("never"));
  assert(holdsAt("site.active == IGNORE"), "legacy variable mapped to the status");
  assert(holdsAt("site.name in [T0_CH_CERN_Disk T2_*]"));
});

Deno.test("errors say where and what was expected", () => {
  const err = (text: string, site = false) =>
    assertThrows(
      () =>
        site
          ? compileSiteCondition(text, { nowMs: NOW, loc: { file: "p.txt", line: 7, column: 5 } })
          : compileReplicaCondition(text, { nowMs: NOW, loc: { file: "p.txt", line: 7, column: 5 } }),
      PolicySyntaxError,
    );
  let e = err("dataset.nmae == x");
  assertEquals([e.file, e.line, e.column], ["p.txt", 7, 5]);
  assertMatch(e.reason, /unknown variable "dataset.nmae"; expected one of/);
  e = err("dataset.name === x");
  assertEquals(e.column, 5 + "dataset.name ".length);
  assertMatch(
    e.reason,
    /unknown operator "==="; expected one of == != =~ !=~ < > older_than newer_than in notin/,
  );
  assertMatch(
    err("dataset.status == SHINY").reason,
    /not a value of dataset.status; expected one of UNKNOWN, DELETED/,
  );
  assertMatch(err("dataset.size > big").reason, /expected a number, got "big"/);
  assertMatch(err("dataset.last_update older_than last tuesday").reason, /expected a date such as/);
  assertMatch(err("dataset.name =~ ([unclosed").reason, /invalid regular expression/);
  assertMatch(err("dataset.name").reason, /"dataset.name" is text: expected an operator/);
  assertMatch(err("not dataset.size").reason, /"not" applies to true\/false variables/);
  assertMatch(
    err("replica.incomplete == true").reason,
    /does not apply to "replica.incomplete", which is true\/false/,
  );
  assertMatch(
    err("dataset.size older_than 1 day ago").reason,
    /does not apply to "dataset.size", which is a number/,
  );
  assertMatch(err('site.name in "T2_*"').reason, /expected "\[" starting a list/);
  assertMatch(err("site.name in [T2_*").reason, /expected "\]" closing the list/);
  assertMatch(err("site.name in []").reason, /the list is empty/);
  assertMatch(err("dataset.name == ").reason, /expected a value after "=="/);
  assertMatch(err("dataset.name == x and").reason, /expected/);
  assertMatch(err("").reason, /empty condition/);
  assertMatch(err("(dataset.name == x").reason, /expected "\)" to close/);
  assertMatch(err('blockreplica.owner == "unterminated').reason, /unterminated quoted value/);
  assertMatch(err("site.occupancy > 0.9").reason, /unknown variable "site.occupancy"/);
  assertMatch(err("replica.size > 1", true).reason, /unknown variable "replica.size"/);
});

Deno.test("partition conditions may only use what a single block replica knows", () => {
  const e = assertThrows(
    () => parsePartitions("Bad: replica.num_full_other_copy_common_owner > 0\n", "parts.txt"),
    PolicySyntaxError,
  );
  assertEquals([e.file, e.line, e.column], ["parts.txt", 1, 6]);
  assertMatch(e.reason, /depends on other replicas/);
});
