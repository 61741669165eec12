/**
 * Names and operators of earlier versions of the language (2016–2018): each is
 * read with its meaning (docs/policy_language_history.md). Our own fixtures.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { parsePartitions } from "../partitions.ts";
import { parseDetoxPolicy } from "../detox/detox_policy.ts";
import { PartitionImage } from "../detox/partition_image.ts";
import { compileReplicaCondition } from "./condition.ts";
import { PolicySyntaxError } from "./errors.ts";
import { type DatasetAttributes, type EvalReplica, NO_ATTRIBUTES } from "./targets.ts";
import { LEGACY_ALIASES, REPLICA_VARIABLES } from "./variables.ts";

const NOW = Date.UTC(2026, 10, 25);
const DAY = 86400;

/**
 * /A/x/AOD: full at T2_A (owned by DataOps), incomplete at T2_B (a transfer from T2_A in flight).
 * /B/y/AOD: full at T2_A and T2_B (owned by AnalysisOps).
 */
function world(attrs: DatasetAttributes = NO_ATTRIBUTES) {
  const h = new ReducerHarness(parsePartitions("All: site.name == *\n"));
  h.nowMs = NOW;
  const now = NOW / 1000;
  h.apply(
    { op: "site.upsert", name: "T2_A", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_B", storage_type: "disk", status: "waitroom" },
    { op: "group.upsert", name: "DataOps" },
    { op: "group.upsert", name: "AnalysisOps", olevel: "Dataset" },
    { op: "dataset.upsert", name: "/A/x/AOD", status: "valid", last_update: now - 50 * DAY },
    { op: "block.upsert", dataset: "/A/x/AOD", block: "b1" },
    { op: "files.add", dataset: "/A/x/AOD", block: "b1", files: [{ lfn: "/a1", size: 100 }] },
    { op: "dataset_replica.upsert", dataset: "/A/x/AOD", site: "T2_A", group: "DataOps" },
    {
      op: "block_replica.upsert",
      dataset: "/A/x/AOD",
      block: "b1",
      site: "T2_A",
      last_update: now - 9 * DAY,
    },
    { op: "dataset_replica.upsert", dataset: "/A/x/AOD", site: "T2_B", group: "DataOps" },
    { op: "block_replica.upsert", dataset: "/A/x/AOD", block: "b1", site: "T2_B", files: [] },
    { op: "dataset.upsert", name: "/B/y/AOD", status: "valid", last_update: now - 5 * DAY },
    { op: "block.upsert", dataset: "/B/y/AOD", block: "c1" },
    { op: "files.add", dataset: "/B/y/AOD", block: "c1", files: [{ lfn: "/b1", size: 40 }] },
    ...["T2_A", "T2_B"].flatMap((site) => [
      { op: "dataset_replica.upsert", dataset: "/B/y/AOD", site, group: "AnalysisOps" },
      { op: "block_replica.upsert", dataset: "/B/y/AOD", block: "c1", site },
    ]),
  );
  const policy = parseDetoxPolicy("Partition All\nOn always\nWhen never\nUntil never\nDismiss\n", {
    nowMs: NOW,
  });
  const image = PartitionImage.build(new Snapshot(h.state), policy, attrs);
  const at = (dataset: string, site: string): EvalReplica =>
    image.replicas.find((r) => r.dataset.name === dataset && r.site.name === site)!;
  return { at };
}

const holds = (text: string, r: EvalReplica) => compileReplicaCondition(text, { nowMs: NOW }).match(r);

Deno.test("old variable names: copies, transfer sources and owners as they were computed", () => {
  const { at } = world();
  const a = at("/A/x/AOD", "T2_A"), aIncomplete = at("/A/x/AOD", "T2_B"), b = at("/B/y/AOD", "T2_A");
  // The only full copy anywhere: no extra copies (both spellings, the first one's intended meaning).
  for (const name of ["dataset.has_no_extra_copies", "dataset.has_required_full_copies"]) {
    assert(holds(name, a), name);
    assert(!holds(name, b), `${name}: /B/y/AOD has two full copies`);
  }
  // T2_A is the only full copy while T2_B is still incomplete.
  for (const name of ["replica.is_last_transfer_source", "dataset.is_last_transfer_source"]) {
    assert(holds(name, a), name);
    assert(!holds(name, aIncomplete), `${name}: the incomplete replica is not a source`);
    assert(!holds(name, b), `${name}: nothing is in flight for /B/y/AOD`);
  }
  assert(holds("replica.group_name == DataOps", a));
  assert(!holds("replica.group_name == DataOps", b));
  assert(holds("replica.group_name == Analysis*", b), "wildcards as for any text");
  assert(holds("dataset.negative_size == -100", a));
});

Deno.test("old variable names: times and orderings", () => {
  const lastAccess = NOW / 1000 - 2 * DAY;
  const { at } = world({ ...NO_ATTRIBUTES, lastAccess: () => lastAccess });
  const a = at("/A/x/AOD", "T2_A");
  const get = (name: string) => REPLICA_VARIABLES.get(name)!.get(a);
  assertEquals(get("dataset.last_used"), lastAccess, "max(last update, last access)");
  assertEquals(get("blockreplica.updated"), get("replica.last_block_created"));
  assertEquals(get("replica.last_modified"), get("replica.last_block_created"));
  assertEquals(get("replica.last_block_created"), NOW / 1000 - 9 * DAY);
  assert(holds("blockreplica.updated older_than 1 week ago", a));
  // Usable as sort keys too.
  const p = parseDetoxPolicy(
    "On always\nWhen never\nUntil never\nDismiss\nOrder increasing dataset.last_used decreasing replica.last_modified\n",
    { nowMs: NOW, partition: "All" },
  );
  assertEquals(p.order.map((k) => k.variable), ["dataset.last_used", "replica.last_modified"]);
  // Every alias names a variable of the current language.
  for (const [old, now] of LEGACY_ALIASES) {
    assertEquals(REPLICA_VARIABLES.get(old)!.type, REPLICA_VARIABLES.get(now)!.type);
  }
});

Deno.test("site.active on a replica's site; PART for PARTIAL", () => {
  const { at } = world();
  assert(holds("site.active == AVAILABLE", at("/A/x/AOD", "T2_A")));
  assert(holds("site.active == NOCOPY", at("/A/x/AOD", "T2_B")), "waitroom");
  assert(holds("site.active != IGNORE", at("/A/x/AOD", "T2_B")));
  assert(holds("dataset.on_tape == NONE", at("/A/x/AOD", "T2_A")));
  assertEquals(
    compileReplicaCondition("dataset.on_tape == PART", { nowMs: NOW }).match(at("/A/x/AOD", "T2_A")),
    compileReplicaCondition("dataset.on_tape == PARTIAL", { nowMs: NOW }).match(at("/A/x/AOD", "T2_A")),
  );
});

Deno.test("old operators: contains, doesnotcontain, !~, not in, single quotes, lists without brackets", () => {
  const { at } = world();
  const a = at("/A/x/AOD", "T2_A"), b = at("/B/y/AOD", "T2_A");
  assert(holds("replica.owners contains DataOps", a));
  assert(!holds("replica.owners contains DataOps", b));
  assert(holds("replica.owners contains Data*", a), "the value is a wildcard pattern");
  assert(holds("replica.owners doesnotcontain DataOps", b));
  assert(!holds("replica.owners doesnotcontain DataOps", a));
  assert(holds("dataset.name !~ /*/*/RAW", a), "!~ is a wildcard not-match");
  assert(!holds("dataset.name !~ /A/*", a));
  assert(holds("site.name not in [T2_B T1_*]", a));
  assert(!holds("site.name not in [T2_A]", a));
  assert(holds("dataset.name == '/*/x/AOD*' and site.name == T2_A", a), "single quotes hold a pattern");
  assert(!holds("dataset.name != '/*/x/AOD*'", a));
  assert(holds("site.name in T1_*_Disk T2_* and dataset.status == VALID", a));
  assert(!holds("site.name in T1_* T3_*", a));
});

Deno.test("old operators keep type checks and say what is wrong", () => {
  const err = (text: string) =>
    assertThrows(() => compileReplicaCondition(text, { nowMs: NOW }), PolicySyntaxError).reason;
  assertMatch(err("replica.size contains 3 4"), /expected a number/);
  assertMatch(err("replica.incomplete doesnotcontain x"), /does not apply/);
  assertMatch(err("replica.owners doesnotcontain"), /expected a value after "doesnotcontain"/);
  assertMatch(err("dataset.size !~ 5"), /does not apply to "dataset.size"/);
  assertMatch(err("site.name not in"), /expected|operator/);
  assertMatch(err("dataset.name == 'unterminated and x"), /unknown variable|expected/);
  assertMatch(err("dataset.status in VALID SHINY"), /"SHINY" is not a value of dataset.status/);
});
