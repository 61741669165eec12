import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { parsePartitions } from "../partitions.ts";
import { parseEnforcerRules } from "../enforcer_rules.ts";
import { InventoryValidationError, Snapshot } from "../../registry/inventory/mod.ts";
import { checkLockRequest, type DetoxLock, type LockRequest } from "../../registry/requests/detox_lock.ts";
import { onProtectedSite, unhandledCopies } from "./dataset_flags.ts";
import { enforcerProtection } from "./enforcer_protection.ts";
import { popularity } from "./popularity.ts";
import { lockedBlocks } from "./replica_locks.ts";

const NOW = Date.UTC(2026, 10, 25) / 1000;
const DAY = 86400;

function snapshot() {
  return new Snapshot(harness().state);
}

/** Three disk sites, three datasets of two blocks, four replicas (blocks updated 40 days ago). */
function harness() {
  const h = new ReducerHarness(parsePartitions("Disk: site.storage_type == DISK\n"));
  h.nowMs = NOW * 1000;
  const cmds: Record<string, unknown>[] = [
    { op: "site.upsert", name: "T2_US_MIT", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T2_CH_CERN", storage_type: "disk", status: "ready" },
    { op: "site.upsert", name: "T1_US_FNAL_Disk", storage_type: "disk", status: "ready" },
    { op: "group.upsert", name: "AnalysisOps" },
    { op: "group.upsert", name: "DataOps" },
  ];
  for (const [name, size] of [["/A/x/MINIAOD", 2e9], ["/A/y/MINIAOD", 1e9], ["/B/z/AOD", 4e9]] as const) {
    cmds.push({ op: "dataset.upsert", name, last_update: NOW - 50 * DAY });
    for (const b of ["b1", "b2"]) {
      cmds.push({ op: "block.upsert", dataset: name, block: b });
      cmds.push({
        op: "files.add",
        dataset: name,
        block: b,
        files: [{ lfn: `${name}/${b}`, size: size / 2 }],
      });
    }
  }
  h.apply(...cmds);
  const replica = (dataset: string, site: string, groups: [string, string]) =>
    h.apply(
      { op: "dataset_replica.upsert", dataset, site, group: groups[0], growing: false },
      {
        op: "block_replica.upsert",
        dataset,
        block: "b1",
        site,
        group: groups[0],
        last_update: NOW - 40 * DAY,
      },
      {
        op: "block_replica.upsert",
        dataset,
        block: "b2",
        site,
        group: groups[1],
        last_update: NOW - 40 * DAY,
      },
    );
  replica("/A/x/MINIAOD", "T2_US_MIT", ["AnalysisOps", "DataOps"]);
  replica("/A/x/MINIAOD", "T2_CH_CERN", ["AnalysisOps", "AnalysisOps"]);
  replica("/A/y/MINIAOD", "T2_CH_CERN", ["AnalysisOps", "AnalysisOps"]);
  replica("/B/z/AOD", "T1_US_FNAL_Disk", ["DataOps", "DataOps"]);
  return h;
}

function lock(item: string, extra: Partial<DetoxLock> = {}): DetoxLock {
  return {
    id: 1,
    item,
    sites: [],
    groups: [],
    user: "alice",
    service: null,
    comment: null,
    createdAt: NOW - DAY,
    expiresAt: NOW + DAY,
    unlockedAt: null,
    ...extra,
  };
}

Deno.test("locks: dataset wildcards, blocks, site and group patterns, expiry, collapse to the whole replica", () => {
  const s = snapshot();
  const id = (name: string) => s.dataset(name)!.id;
  const site = (name: string) => s.site(name)!.id;
  const b1 = s.block(id("/A/x/MINIAOD"), "b1")!.id;

  let locked = lockedBlocks(s, [lock("/A/*/MINIAOD")], NOW);
  assertEquals(locked.get(id("/A/x/MINIAOD"))!.get(site("T2_US_MIT")), null);
  assertEquals(locked.get(id("/A/y/MINIAOD"))!.get(site("T2_CH_CERN")), null);
  assertEquals(locked.get(id("/B/z/AOD")), undefined);

  locked = lockedBlocks(s, [lock("/A/x/MINIAOD#b1", { sites: ["T2_US_*"] })], NOW);
  assertEquals([...locked.get(id("/A/x/MINIAOD"))!.get(site("T2_US_MIT"))!], [b1]);
  assertEquals(locked.get(id("/A/x/MINIAOD"))!.get(site("T2_CH_CERN")), undefined);

  locked = lockedBlocks(s, [lock("/A/x/MINIAOD", { groups: ["DataOps"] })], NOW);
  assertEquals(
    locked.get(id("/A/x/MINIAOD"))!.get(site("T2_US_MIT"))!.size,
    1,
    "only the DataOps block at MIT",
  );
  assertEquals(locked.get(id("/A/x/MINIAOD"))!.get(site("T2_CH_CERN")), undefined);

  // Two block locks together cover the dataset: the replica is wholly locked.
  locked = lockedBlocks(s, [lock("/A/x/MINIAOD#b1"), lock("/A/x/MINIAOD#b2")], NOW);
  assertEquals(locked.get(id("/A/x/MINIAOD"))!.get(site("T2_US_MIT")), null);

  assertEquals(lockedBlocks(s, [lock("/A/*", { expiresAt: NOW - 1 })], NOW).size, 0, "expired");
  assertEquals(lockedBlocks(s, [lock("/A/*", { unlockedAt: NOW - 5 })], NOW).size, 0, "unlocked");
});

Deno.test("lock requests are validated, naming the field", () => {
  const ok: LockRequest = {
    item: "/A/*/MINIAOD",
    expiresAt: NOW + 1,
    sites: ["T2_*"],
    groups: ["IB RelVal"],
    service: null,
    comment: null,
  };
  assertEquals(checkLockRequest(ok, NOW), ok);
  const bad: [Partial<typeof ok>, string][] = [
    [{ item: "/A/../etc" }, "item"],
    [{ item: "/A/b#" }, "item"],
    [{ item: "/A/b\u0000" }, "item"],
    [{ expiresAt: NOW - 10 }, "expires"],
    [{ expiresAt: NaN }, "expires"],
    [{ sites: ["T2 X"] }, "sites"],
    [{ comment: "x".repeat(2000) }, "comment"],
  ];
  for (const [patch, field] of bad) {
    const e = assertThrows(() => checkLockRequest({ ...ok, ...patch }, NOW), InventoryValidationError);
    assertEquals(e.field, field, JSON.stringify(patch));
  }
});

Deno.test("popularity: last access, accesses, and usage rank as in the spec", () => {
  const s = snapshot();
  const p = popularity(s, [
    { dataset: "/A/x/MINIAOD", site: "T2_US_MIT", day: NOW - 10 * DAY, accesses: 30 },
    { dataset: "/A/x/MINIAOD", site: "T2_CH_CERN", day: NOW - 5 * DAY, accesses: 10 },
    { dataset: "/A/x/MINIAOD", site: "T2_CH_CERN", day: NOW - 900 * DAY, accesses: 1000 }, // beyond two years
    { dataset: "/Not/In/Inventory", site: "T2_CH_CERN", day: NOW - 1 * DAY, accesses: 5 },
  ], NOW);
  const x = s.dataset("/A/x/MINIAOD")!.id;
  const z = s.dataset("/B/z/AOD")!.id;
  assertEquals([p.lastAccess.get(x), p.numAccess.get(x)], [NOW - 5 * DAY, 40]);
  // 5 days idle − 40 accesses / 2 GB
  assertAlmostEquals(p.usageRank.get(x)!, 5 - 20);
  // Never accessed: idle since its newest block replica (40 days), minus nothing.
  assertAlmostEquals(p.usageRank.get(z)!, 40);
});

Deno.test("popularity: the newest block replica counts until it is deleted (the newest is not monotone)", () => {
  const h = harness();
  const rank = () => {
    const s = new Snapshot(h.state);
    return popularity(s, [], NOW).usageRank.get(s.dataset("/B/z/AOD")!.id)!;
  };
  assertAlmostEquals(rank(), 40);
  h.apply({
    op: "block_replica.upsert",
    dataset: "/B/z/AOD",
    block: "b2",
    site: "T1_US_FNAL_Disk",
    last_update: NOW - 3 * DAY,
  });
  assertAlmostEquals(rank(), 3);
  h.apply({ op: "block_replica.delete", dataset: "/B/z/AOD", block: "b2", site: "T1_US_FNAL_Disk" });
  // b1's 40 days again, and the dataset's own last update (50 days) never counted more.
  assertAlmostEquals(rank(), 40);
  h.apply({ op: "dataset_replica.delete", dataset: "/B/z/AOD", site: "T1_US_FNAL_Disk" });
  assertAlmostEquals(rank(), 50);
});

Deno.test("enforcer protection: the copies a protecting rule keeps are protected, no more", () => {
  const s = snapshot();
  const rules = parseEnforcerRules(JSON.stringify({
    partition: "Disk",
    default_destination_group: "AnalysisOps",
    rules: {
      us_miniaod: {
        replicas: ["dataset.name == /*/*/MINIAOD"],
        num_copies: 1,
        destinations: ["site.name in [T1_US_* T2_US_*]"],
        sources: ["site.name notin [T1_US_* T2_US_*]"],
        protect: true,
      },
      two_at_cern: {
        replicas: ["dataset.name == /A/y/*"],
        num_copies: 2,
        destinations: ["site.name == T2_CH_*"],
        sources: ["always"],
      },
    },
  }));
  const p = enforcerProtection(s, rules);
  assertEquals([...p.get(s.dataset("/A/x/MINIAOD")!.id)!], [s.site("T2_US_MIT")!.id]);
  assertEquals(
    p.get(s.dataset("/A/y/MINIAOD")!.id),
    undefined,
    "no US copy, and the CERN rule does not protect",
  );
  assertEquals(p.get(s.dataset("/B/z/AOD")!.id), undefined);
});

Deno.test("protected sites and unhandled copy requests flag datasets", () => {
  const s = snapshot();
  const flagged = onProtectedSite(s, ["T1_*"]);
  assert(flagged.has(s.dataset("/B/z/AOD")!.id) && !flagged.has(s.dataset("/A/x/MINIAOD")!.id));
  const pending = unhandledCopies(s, ["/A/y/MINIAOD#b1", "/B/*", "/No/Such/Thing"]);
  assertEquals([...pending].sort(), [s.dataset("/A/y/MINIAOD")!.id, s.dataset("/B/z/AOD")!.id].sort());
});

Deno.test("enforcer rule files that are wrong are refused with the rule and key", () => {
  const cases: [unknown, RegExp][] = [
    [[], /expected an object/],
    [{
      partition: "P",
      default_destination_group: "G",
      rules: { r: { replicas: [], num_copies: 1, destinations: ["always"], sources: ["always"] } },
    }, /rules\.r\.replicas: expected a non-empty list/],
    [{
      partition: "P",
      default_destination_group: "G",
      rules: {
        r: { replicas: ["dataset.nam == x"], num_copies: 1, destinations: ["always"], sources: ["always"] },
      },
    }, /rules\.r\.replicas: "dataset.nam == x": unknown variable/],
    [{
      partition: "P",
      default_destination_group: "G",
      rules: {
        r: { replicas: ["dataset.name == x"], num_copies: 0, destinations: ["always"], sources: ["always"] },
      },
    }, /num_copies: expected a positive integer/],
    [{ partition: "P", default_destination_group: "G", rules: {}, extra: 1 }, /extra: unknown key/],
  ];
  for (const [doc, pattern] of cases) {
    const e = assertThrows(() => parseEnforcerRules(JSON.stringify(doc), "rules.json"));
    assert(pattern.test(e.message), `${e.message} !~ ${pattern}`);
  }
  assertThrows(() => parseEnforcerRules("{not json", "rules.json"), Error, "malformed JSON");
});
