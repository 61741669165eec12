import { assert, assertEquals, assertNotEquals } from "../../tests/helpers/assert.ts";
import { type ComparisonResult, type ExpectedFile, type ListedRecord, SiteComparison } from "./compare.ts";
import { DEFAULT_SITE_CONSISTENCY, type SiteConsistencyConfig } from "./consistency_config.ts";
import { configFingerprint, DirDigest, dirOf } from "./dir_digest.ts";
import { type Baseline, type DigestRecord, UnchangedDirs } from "./unchanged_dirs.ts";

const DAY = 86_400_000;
const NOW = 100 * DAY;
const OLD = NOW - 10 * DAY;

const inv = (path: string, size: number, dataset = "/A/B/C", sinceMs = OLD): [string, ExpectedFile] => [
  path,
  { lfn: path, size, dataset, block: `${dataset}#1`, sinceMs },
];
const file = (path: string, size: number, mtimeMs = OLD): ListedRecord => ({
  type: "file",
  path,
  size,
  mtimeMs,
});
const dir = (path: string): ListedRecord => ({ type: "dir", path, mtimeMs: OLD });

interface Site {
  inventory: Map<string, ExpectedFile>;
  listing: ListedRecord[];
}

/** A site: /store/a (two files, one missing), /store/b (an orphan, a corrupt file), /store/c (clean). */
function site(): Site {
  return {
    inventory: new Map([
      inv("/store/a/1", 10),
      inv("/store/a/2", 20),
      inv("/store/b/3", 30),
      inv("/store/c/4", 40),
      inv("/store/c/5", 50),
    ]),
    listing: [
      dir("/store/a"),
      dir("/store/b"),
      dir("/store/c"),
      file("/store/a/1", 10),
      file("/store/b/3", 31),
      file("/store/b/orphan", 7),
      file("/store/c/4", 40),
      file("/store/c/5", 50),
    ],
  };
}

interface RunOptions {
  config?: Partial<SiteConsistencyConfig>;
  deleting?: string[];
  incoming?: string[];
  relisted?: string[];
  nowMs?: number;
  keptRecords?: number;
}

/** One run the way checkSite does it, with the relisting of changed candidates from the same listing. */
function run(s: Site, baseline: Baseline | null, options: RunOptions = {}) {
  const config = { ...DEFAULT_SITE_CONSISTENCY, ...options.config };
  const nowMs = options.nowMs ?? NOW;
  const comparison = new SiteComparison({
    config,
    nowMs,
    before: s.inventory,
    deletingDatasets: new Set(options.deleting ?? []),
    incomingPaths: new Set(options.incoming ?? []),
  });
  const u = new UnchangedDirs({
    baseline,
    fingerprint: configFingerprint(config),
    nowMs,
    ignoreAgeMs: config.ignoreAgeMs,
    roots: config.roots,
    before: s.inventory,
    deletingDatasets: new Set(options.deleting ?? []),
    incomingPaths: new Set(options.incoming ?? []),
    compared: (p) => comparison.compared(p),
    inArea: (p) => comparison.inArea(p),
  }, options.keptRecords === undefined ? {} : { keptRecords: options.keptRecords });
  let compared = 0;
  const feed = (records: ListedRecord[]) => {
    const out = u.take(records);
    compared += out.filter((r) => r.type === "file").length;
    comparison.add(out);
  };
  for (const r of s.listing) feed([r]);
  // A subtree listed twice repeats its records.
  for (const d of options.relisted ?? []) feed(s.listing.filter((r) => r.path.startsWith(d + "/")));
  const { skipped, replay, relist } = u.decide(options.relisted ?? []);
  // Kept records were digested already: straight to the comparison, as checkSite does.
  compared += replay.filter((r) => r.type === "file").length;
  comparison.add(replay);
  for (const d of relist) feed(s.listing.filter((r) => r.type === "file" && dirOf(r.path) === d));
  const result = comparison.finish(s.inventory, [], u.skipped);
  const records = u.records();
  // The directories compared (not skipped) this run.
  const fresh = records.map((r) => r.dir).filter((d) => !u.skipped.dirs.has(d)).sort();
  return { result, skipped, relist, fresh, compared, records, baseline: baselineOf(records, result, config) };
}

/** What the store would give back after recording this run (nothing acted on). */
function baselineOf(
  records: DigestRecord[],
  result: ComparisonResult,
  config: SiteConsistencyConfig,
): Baseline {
  return {
    runId: 1,
    fingerprint: configFingerprint(config),
    digests: records,
    findings: [...result.missing, ...result.corrupt, ...result.orphan].map((p) => ({
      kind: p.kind,
      path: p.path,
      size: p.size,
      listedSize: p.listedSize ?? null,
      lfn: p.lfn ?? null,
      dataset: p.dataset ?? null,
      block: p.block ?? null,
      action: null,
    })),
  };
}

const summary = (r: ComparisonResult) => ({
  missing: r.missing.map((p) => p.path),
  corrupt: r.corrupt.map((p) => `${p.path} ${p.size}/${p.listedSize}`),
  orphan: r.orphan.map((p) => p.path),
  filesListed: r.filesListed,
  expected: r.expected,
});

Deno.test("a digest ignores order, not repeats or changes", () => {
  const d = (entries: [string, number][]) => {
    const x = new DirDigest();
    for (const [n, s] of entries) x.add(n, s);
    return x.text;
  };
  assertEquals(d([["a", 1], ["b", 2]]), d([["b", 2], ["a", 1]]));
  assertNotEquals(d([["a", 1], ["b", 2]]), d([["a", 1], ["b", 2], ["b", 2]]));
  assertNotEquals(d([["a", 1], ["b", 2]]), d([["a", 1], ["b", 3]]));
  assertNotEquals(d([["ab", 1]]), d([["a", 1], ["b", 1]]));
  assertNotEquals(d([["a", 12]]), d([["a1", 2]]));
  assertEquals(d([]), new DirDigest().text);
  // A listed file's digest (the listing's fast path) ignores order and tells sizes apart, large ones too.
  const files = (entries: [string, number][]) => {
    const x = new DirDigest();
    for (const [p, s] of entries) x.addFile(p, p.lastIndexOf("/") + 1, s);
    return x.text;
  };
  assertEquals(files([["/d/a", 1], ["/d/b", 2]]), files([["/x/b", 2], ["/y/a", 1]]));
  assertNotEquals(files([["/d/a", 1]]), files([["/d/a", 2]]));
  assertNotEquals(files([["/d/a", 2 ** 40]]), files([["/d/a", 2 ** 41]]));
  assertNotEquals(files([["/d/a", 1]]), files([["/d/b", 1]]));
});

Deno.test("a re-run over an unchanged site skips every directory and finds the same", () => {
  const s = site();
  const first = run(s, null);
  assertEquals(first.skipped, 0);
  const second = run(s, first.baseline);
  assertEquals(second.skipped, 4); // /store, /store/a, /store/b, /store/c
  assertEquals(second.compared, 0, "no file went to the comparison");
  assertEquals(second.relist, []);
  assertEquals(summary(second.result), summary(first.result));
  assertEquals(summary(first.result).missing, ["/store/a/2"]);
  assertEquals(summary(first.result).orphan, ["/store/b/orphan"]);
  assertEquals(second.records, first.records);
  // In another order, with look-alike directories interleaved, the digests are the same.
  const shuffled = site();
  shuffled.listing.push(
    dir("/store/ab"),
    file("/store/ab/1", 1),
    dir("/store/a/sub"),
    file("/store/a/sub/1", 1),
  );
  const orders = [
    shuffled.listing,
    [...shuffled.listing].reverse(),
    shuffled.listing.filter((_, i) => i % 2)
      .concat(shuffled.listing.filter((_, i) => i % 2 === 0)),
  ];
  const digests = orders.map((listing) =>
    run({ ...shuffled, listing }, null).records.sort((a, b) => a.dir < b.dir ? -1 : 1)
  );
  assertEquals(digests[1], digests[0]);
  const reversedInventory = new Map([...shuffled.inventory].reverse());
  reversedInventory.set(...inv("/store/ab/1", 1)).set(...inv("/store/a/sub/1", 1)).set(
    ...inv("/store/a/9", 9),
  );
  const withMore = new Map(shuffled.inventory).set(...inv("/store/a/sub/1", 1)).set(...inv("/store/a/9", 9))
    .set(...inv("/store/ab/1", 1));
  assertEquals(
    run({ ...shuffled, inventory: reversedInventory }, null).records.map((r) => [r.dir, r.inventory]).sort(),
    run({ ...shuffled, inventory: withMore }, null).records.map((r) => [r.dir, r.inventory]).sort(),
  );
  assertEquals(digests[2], digests[0]);
  assertEquals(
    digests[0]!.find((r) => r.dir === "/store/a")?.listed,
    first.records.find((r) => r.dir === "/store/a")?.listed,
  );
});

Deno.test("a changed directory (size, added, removed) alone is compared again, its findings fresh", () => {
  const changes: [string, (s: Site) => void, (r: ReturnType<typeof summary>) => void][] = [
    [
      "size",
      (s) => (s.listing[6] = file("/store/c/4", 41)),
      (r) => assert(r.corrupt.includes("/store/c/4 40/41")),
    ],
    [
      "added",
      (s) => s.listing.push(file("/store/c/new", 1)),
      (r) => assert(r.orphan.includes("/store/c/new")),
    ],
    ["removed", (s) => s.listing.splice(7, 1), (r) => assert(r.missing.includes("/store/c/5"))],
    [
      "inventory",
      (s) => s.inventory.delete("/store/c/5"),
      (r) => assert(r.orphan.includes("/store/c/5")),
    ],
  ];
  for (const [what, change, check] of changes) {
    const s = site();
    const base = run(s, null).baseline;
    change(s);
    const r = run(s, base);
    assertEquals([r.skipped, r.fresh], [3, ["/store/c"]], what);
    check(summary(r.result));
    // The other directories' findings are carried over.
    assertEquals(summary(r.result).missing.includes("/store/a/2"), true, what);
    assertEquals(summary(r.result).orphan.includes("/store/b/orphan"), true, what);
  }
});

Deno.test("a changed directory is compared with its kept records, or listed again once they were let go", () => {
  const s = site();
  const base = run(s, null).baseline;
  const changed = site();
  changed.listing[6] = file("/store/c/4", 41);
  const kept = run(changed, base);
  const relisted = run(changed, base, { keptRecords: 0 });
  assertEquals([kept.fresh, kept.relist], [["/store/c"], []]);
  assertEquals([relisted.fresh, relisted.relist], [["/store/c"], ["/store/c"]]);
  assertEquals(summary(kept.result), summary(relisted.result));
  assertEquals(kept.records, relisted.records);
  assertEquals(summary(kept.result), summary(run(changed, null).result));
  // One more file than before: released at once, compared as it streams.
  const added = site();
  added.listing.push(file("/store/c/6", 60));
  const more = run(added, base, { keptRecords: 0 });
  assertEquals([more.fresh, more.relist], [["/store/c"], ["/store/c"]]); // its first records were let go
  assertEquals(summary(more.result), summary(run(added, null).result));
});

Deno.test("young files, deletions and copies under way, other settings, repeats each force a comparison", () => {
  const s = site();
  const base = run(s, null).baseline;
  // A listed file touched lately (same name and size).
  const touched = site();
  touched.listing[6] = file("/store/c/4", 40, NOW - 1000);
  assertEquals(run(touched, base).fresh, ["/store/c"]);
  // An inventory file whose block replica changed lately.
  const fresh = site();
  fresh.inventory.set(...inv("/store/c/4", 40, "/A/B/C", NOW - 1000));
  assertEquals(run(fresh, base).fresh, ["/store/c"]);
  // A deletion of a dataset there, a copy to it.
  assertEquals(run(s, base, { deleting: ["/A/B/C"] }).skipped, 1); // only /store (no files) is skipped
  assertEquals(run(s, base, { incoming: ["/store/b/orphan"] }).fresh, ["/store/b"]);
  // Other roots, ignored directories, ignore_age, unmanaged areas.
  assertEquals(run(s, base, { config: { ignoreDirs: ["/RAW"] } }).skipped, 0);
  assertEquals(run(s, base, { config: { ignoreAgeMs: DAY } }).skipped, 0);
  assertEquals(run(s, base, { config: { unmanaged: [{ path: "/store/x", minAgeMs: DAY }] } }).skipped, 0);
  // A subtree listed again after a failure: repeated records, compared and not stored clean.
  const repeated = run(s, base, { relisted: ["/store/b"] });
  assertEquals([repeated.skipped, repeated.fresh], [3, ["/store/b"]]);
  assertEquals(summary(repeated.result), summary(run(s, null).result));
  assertEquals(repeated.records.find((r) => r.dir === "/store/b")?.clean, false);
  // A directory not clean in the baseline is compared even when clean now.
  const afterTouch = run(touched, base);
  assertEquals(afterTouch.records.find((r) => r.dir === "/store/c")?.clean, false);
  assertEquals(run(s, afterTouch.baseline).fresh, ["/store/c"]);
  // No baseline (the last run was incomplete): everything is compared.
  assertEquals(run(s, null).skipped, 0);
});

Deno.test("acted-on directories are compared again; a fixed problem is not carried over", () => {
  const s = site();
  const first = run(s, null);
  const acted: Baseline = {
    ...first.baseline,
    findings: first.baseline.findings.map((f) =>
      f.path === "/store/b/orphan" ? { ...f, action: "delete" } : f
    ),
  };
  const r = run(s, acted);
  assertEquals(r.fresh, ["/store/b"]);
  // Fixed: the corrupt file has its right size again; its directory's digest changed.
  const fixed = site();
  fixed.listing[4] = file("/store/b/3", 30);
  const f = run(fixed, first.baseline);
  assertEquals(summary(f.result).corrupt, []);
  assertEquals(summary(f.result).orphan, ["/store/b/orphan"]);
});

Deno.test("garbage stored digests and findings fall back to comparing", () => {
  const s = site();
  const first = run(s, null);
  const expect = summary(first.result);
  const garbage: Baseline[] = [
    { ...first.baseline, fingerprint: null },
    { ...first.baseline, fingerprint: "v1:garbage" },
    {
      ...first.baseline,
      digests: first.baseline.digests.map((d) => ({ ...d, listed: "\u0000 not a digest" })),
    },
    { ...first.baseline, digests: first.baseline.digests.map((d) => ({ ...d, inventory: 42 })) },
    { ...first.baseline, digests: first.baseline.digests.map((d) => ({ ...d, clean: "yes" })) },
    { ...first.baseline, digests: first.baseline.digests.map((d) => ({ ...d, dir: null })) },
    // Every directory twice: which row is right cannot be told.
    { ...first.baseline, digests: [...first.baseline.digests, ...first.baseline.digests] },
  ];
  for (const [i, b] of garbage.entries()) {
    const r = run(s, b);
    assertEquals(r.skipped, 0, `case ${i}`);
    assertEquals(summary(r.result), expect, `case ${i}`);
  }
  // A finding that cannot be trusted spoils its directory alone.
  const bad = [
    { size: -1 },
    { size: "12abc" },
    { lfn: null },
    { kind: "nonsense" },
    { listedSize: 1.5 },
  ];
  for (const change of bad) {
    const b: Baseline = {
      ...first.baseline,
      findings: first.baseline.findings.map((f) => f.path === "/store/b/3" ? { ...f, ...change } : f),
    };
    const r = run(s, b);
    assertEquals([r.skipped, r.fresh], [3, ["/store/b"]], JSON.stringify(change));
    assertEquals(summary(r.result), expect, JSON.stringify(change));
  }
});
