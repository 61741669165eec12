import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { PolicySyntaxError } from "../language/errors.ts";
import { planActions } from "./action_plan.ts";
import { type ExpectedFile, type ListedRecord, SiteComparison } from "./compare.ts";
import {
  DEFAULT_SITE_CONSISTENCY,
  parseConsistencyConfig,
  parseDuration,
  siteConsistency,
  type SiteConsistencyConfig,
} from "./consistency_config.ts";
import { assessSafety, confirm } from "./safety.ts";

const DAY = 86_400_000;
const NOW = 100 * DAY;
const OLD = NOW - 10 * DAY;

function file(lfn: string, size: number, dataset = "/A/B/C", sinceMs = OLD): ExpectedFile {
  return { lfn, size, dataset, block: `${dataset}#1`, sinceMs };
}
const f = (path: string, size: number, mtimeMs = OLD): ListedRecord => ({
  type: "file",
  path,
  size,
  mtimeMs,
});

function compare(
  before: ExpectedFile[],
  after: ExpectedFile[],
  listed: ListedRecord[],
  options: {
    config?: Partial<SiteConsistencyConfig>;
    deleting?: string[];
    incoming?: string[];
    failed?: string[];
  } = {},
) {
  const c = new SiteComparison({
    config: { ...DEFAULT_SITE_CONSISTENCY, ...options.config },
    nowMs: NOW,
    before: new Map(before.map((x) => [x.lfn, x])),
    deletingDatasets: new Set(options.deleting ?? []),
    incomingPaths: new Set(options.incoming ?? []),
  });
  // Records may repeat (a subtree listed again after a failure): the comparison treats them as a set.
  c.add(listed);
  c.add(listed);
  return c.finish(new Map(after.map((x) => [x.lfn, x])), options.failed ?? []);
}

const paths = (ps: readonly { path: string }[]) => ps.map((p) => p.path);

Deno.test("missing only when both snapshots place the file and the listing lacks it; orphan only when neither knows it", () => {
  const a = file("/store/a", 1);
  const b = file("/store/b", 2); // deleted while listing: only before
  const c = file("/store/c", 3); // arrived while listing: only after
  const d = file("/store/d", 4); // listed
  const r = compare([a, b, d], [a, c, d], [
    f("/store/d", 4),
    f("/store/c", 3),
    f("/store/x", 9),
    f("/store/b", 2),
  ]);
  assertEquals(paths(r.missing), ["/store/a"]);
  assertEquals(paths(r.orphan), ["/store/x"]);
  assertEquals(r.corrupt, []);
  assertEquals(r.filesListed, 4);
  assertEquals(r.expected, 2);
});

Deno.test("young files, ignored directories, other roots, datasets being deleted and unread directories are not compared", () => {
  const young = file("/store/young", 1, "/A/B/C", NOW - 3600_000);
  const raw = file("/store/data/RAW/r", 1);
  const deleting = file("/store/del/x", 1, "/D/E/F");
  const unread = file("/store/bad/y", 1);
  const other = file("/other/z", 1);
  const all = [young, raw, deleting, unread, other];
  const r = compare(all, all, [
    f("/store/new", 5, NOW - 1000),
    f("/store/data/RAW/junk", 5),
    f("/elsewhere/junk", 5),
  ], { config: { ignoreDirs: ["/RAW"] }, deleting: ["/D/E/F"], failed: ["/store/bad"] });
  assertEquals(r.missing, []);
  assertEquals(r.orphan, []);
  assertEquals(r.young, 1);
  assertEquals(r.beingDeleted, 1);
  assertEquals(r.unlisted, 1);
});

Deno.test("a size mismatch is corrupt; an orphan being copied to the site is protected", () => {
  const a = file("/store/a", 10);
  const r = compare([a], [a], [f("/store/a", 7), f("/store/in", 3)], { incoming: ["/store/in"] });
  assertEquals(r.corrupt.map((p) => [p.path, p.size, p.listedSize]), [["/store/a", 10, 7]]);
  assertEquals(r.orphan.map((p) => p.protected !== undefined), [true]);
});

Deno.test("empty directories old enough are reported; unmanaged leftovers only when old and unknown", () => {
  const known = file("/store/unmerged/keep", 1);
  const r = compare([known], [known], [
    { type: "dir", path: "/store/e1", mtimeMs: OLD, empty: true },
    { type: "dir", path: "/store/e2", mtimeMs: NOW - 1000, empty: true },
    { type: "dir", path: "/store", mtimeMs: OLD, empty: true },
    f("/store/unmerged/old", 4, NOW - 40 * DAY),
    f("/store/unmerged/recent", 4, NOW - 5 * DAY),
    f("/store/unmerged/keep", 1, NOW - 40 * DAY),
    { type: "hostile", path: '"/store/a\\nb"', reason: "control characters" },
  ], { config: { unmanaged: [{ path: "/store/unmerged", minAgeMs: 28 * DAY }] } });
  assertEquals(r.emptyDirs, ["/store/e1"]);
  assertEquals(paths(r.unmanaged), ["/store/unmerged/old"]);
  assertEquals(r.orphan, []);
  assertEquals(r.hostileCount, 1);
});

Deno.test("thresholds as counts and fractions flag the site; an empty listing is above every threshold", () => {
  const inv = Array.from({ length: 200 }, (_, i) => file(`/store/f${i}`, 1));
  const listed = inv.slice(2).map((x) => f(x.lfn, 1));
  const r = compare(inv, inv, listed); // 2 of 200 missing = 1 %: not above
  assertEquals(assessSafety(r, DEFAULT_SITE_CONSISTENCY, 200).flagged, false);
  const r3 = compare(inv, inv, listed.slice(1)); // 1.5 %
  assert(assessSafety(r3, DEFAULT_SITE_CONSISTENCY, 200).flagged);
  const counted = { ...DEFAULT_SITE_CONSISTENCY, maxMissing: { count: 1, fraction: Infinity } };
  assert(assessSafety(r, counted, 200).flagged);
  const generous = { ...DEFAULT_SITE_CONSISTENCY, maxMissing: { count: Infinity, fraction: 1 } };
  const empty = compare(inv, inv, []);
  const verdict = assessSafety(empty, generous, 200);
  assert(verdict.flagged);
  assert(verdict.reasons[0]!.includes("listed empty"), verdict.reasons[0]);
});

Deno.test("findings are acted on only when two complete runs at least confirm_after apart saw them", () => {
  const a = file("/store/a", 1);
  const r = compare([a], [a], [f("/store/o", 1)]);
  assertEquals(confirm(r, null, NOW, DAY).missing, []);
  const prev = { startedMs: NOW - DAY / 2, missing: new Set(["/store/a"]), orphan: new Set(["/store/o"]) };
  assertEquals(confirm(r, prev, NOW, DAY).missing, []);
  const old = { ...prev, startedMs: NOW - DAY };
  const c = confirm(r, old, NOW, DAY);
  assertEquals([paths(c.missing), paths(c.orphan)], [["/store/a"], ["/store/o"]]);
  const other = confirm(r, { ...old, missing: new Set(), orphan: new Set(["/store/zzz"]) }, NOW, DAY);
  assertEquals([other.missing.length, other.orphan.length], [0, 0]);
});

Deno.test("the action plan: recopy or unrecoverable, orphans unless never_delete_orphans, empty dirs capped, deepest first", () => {
  const a = file("/store/a/1", 1);
  const b = file("/store/b/2", 1);
  const r = compare([a, b], [a, b], [
    f("/store/o", 1),
    ...["/store/e", "/store/e/x", "/store/e/x/y", "/store/a"].map((path) => ({
      type: "dir" as const,
      path,
      mtimeMs: OLD,
      empty: true,
    })),
  ]);
  const prev = {
    startedMs: NOW - DAY,
    missing: new Set(["/store/a/1", "/store/b/2"]),
    orphan: new Set(["/store/o"]),
  };
  const base = {
    result: r,
    complete: true,
    safety: { flagged: false, reasons: [] },
    confirmed: confirm(r, prev, NOW, DAY),
    config: { ...DEFAULT_SITE_CONSISTENCY, maxEmptyDirs: 2 },
    dryRun: false,
    sourcesOf: (p: { path: string }) => (p.path === "/store/a/1" ? ["T1_X_Disk"] : []),
  };
  const plan = planActions(base);
  assertEquals(plan.withheld, null);
  assertEquals(plan.recopy.map((x) => [x.problem.path, x.sources]), [["/store/a/1", ["T1_X_Disk"]]]);
  assertEquals(paths(plan.unrecoverable), ["/store/b/2"]);
  assertEquals(paths(plan.deleteOrphans), ["/store/o"]);
  assertEquals(plan.removeDirs, ["/store/e/x/y", "/store/e/x"]); // /store/a holds a missing file
  assertEquals(
    planActions({ ...base, config: { ...base.config, neverDeleteOrphans: true } }).deleteOrphans,
    [],
  );
  assert(planActions({ ...base, complete: false }).withheld!.includes("incomplete"));
  assert(planActions({ ...base, safety: { flagged: true, reasons: ["x"] } }).withheld!.includes("flagged"));
  assertEquals(planActions({ ...base, dryRun: true }).withheld, "dry run");
});

Deno.test("consistency config: defaults, per-site overrides, durations and thresholds", () => {
  const c = parseConsistencyConfig(
    JSON.stringify({
      interval: "12h",
      concurrency: 2,
      defaults: { max_missing: 100, max_orphan: "2%", ignore_age: "36h" },
      sites: {
        T2_A: {
          never_delete_orphans: true,
          max_missing: { count: 5, fraction: 0.5 },
          unmanaged: [{ path: "/store/unmerged", min_age: "28d" }],
          listing: { concurrency: 8, tree_timeout: "30m", retries: 1 },
        },
      },
    }),
    "c.json",
  );
  assertEquals(c.intervalMs, 12 * 3600_000);
  assertEquals(c.defaults.maxMissing, { count: 100, fraction: Infinity });
  assertEquals(c.defaults.maxOrphan, { count: Infinity, fraction: 0.02 });
  const a = siteConsistency(c, "T2_A");
  assertEquals(a.ignoreAgeMs, 36 * 3600_000); // inherited from the defaults
  assertEquals(a.neverDeleteOrphans, true);
  assertEquals(a.maxMissing, { count: 5, fraction: 0.5 });
  assertEquals(a.listing.treeTimeoutMs, 1800_000);
  assertEquals(a.listing.dirTimeoutMs, DEFAULT_SITE_CONSISTENCY.listing.dirTimeoutMs);
  assertEquals(siteConsistency(c, "T2_B").neverDeleteOrphans, false);
  assertEquals(parseDuration("2d"), 2 * DAY);
  assertEquals(parseDuration(-1), null);
});

Deno.test("consistency config: garbage and hostile values are errors naming the key", () => {
  const cases: [unknown, string][] = [
    ["[]", "(top)"],
    [{ bogus: 1 }, "bogus"],
    [{ interval: "soon" }, "interval"],
    [{ interval: 1 }, "interval"],
    [{ concurrency: 0 }, "concurrency"],
    [{ concurrency: 1.5 }, "concurrency"],
    [{ defaults: { roots: ["relative"] } }, "defaults.roots"],
    [{ defaults: { roots: ["/store/../etc"] } }, "defaults.roots"],
    [{ defaults: { roots: ["/store\n/x"] } }, "defaults.roots"],
    [{ defaults: { roots: [] } }, "defaults.roots"],
    [{ defaults: { ignore_dirs: [1] } }, "defaults.ignore_dirs"],
    [{ defaults: { max_missing: -1 } }, "defaults.max_missing"],
    [{ defaults: { max_missing: "150%" } }, "defaults.max_missing"],
    [{ defaults: { max_orphan: "lots" } }, "defaults.max_orphan"],
    [{ defaults: { max_orphan: { count: 1, ratio: 2 } } }, "defaults.max_orphan.ratio"],
    [{ defaults: { max_orphan: {} } }, "defaults.max_orphan"],
    [{ defaults: { ignore_age: "2 weeks" } }, "defaults.ignore_age"],
    [{ defaults: { confirm_after: "9999d" } }, "defaults.confirm_after"],
    [{ defaults: { never_delete_orphans: "yes" } }, "defaults.never_delete_orphans"],
    [{ defaults: { max_empty_dirs: 20000 } }, "defaults.max_empty_dirs"],
    [{ defaults: { unmanaged: [{ path: "/" }] } }, "defaults.unmanaged.0.path"],
    [{ defaults: { unmanaged: [{ path: "/store/u", min_age: "1m" }] } }, "defaults.unmanaged.0.min_age"],
    [{ defaults: { unmanaged: "x" } }, "defaults.unmanaged"],
    [{ defaults: { listing: { concurrency: 0 } } }, "defaults.listing.concurrency"],
    [{ defaults: { listing: { dir_timeout: 0 } } }, "defaults.listing.dir_timeout"],
    [{ defaults: { listing: { retries: 2.5 } } }, "defaults.listing.retries"],
    [{ sites: { "../etc": {} } }, "sites.../etc"],
    [{ sites: { T2_A: { enabled: 1 } } }, "sites.T2_A.enabled"],
  ];
  for (const [doc, key] of cases) {
    const text = typeof doc === "string" ? doc : JSON.stringify(doc);
    const e = assertThrows(() => parseConsistencyConfig(text, "c.json"), PolicySyntaxError);
    assert(e.message.includes(`${key}`), `${text}: ${e.message}`);
  }
  assertThrows(() => parseConsistencyConfig("{not json", "c.json"), PolicySyntaxError);
});
