/**
 * Consistency scan speed on a POSIX site: a tree of N files (100,000 by
 * default, 1,000,000 at `--scale cms`) that matches the inventory except for
 * 1 % faults (a third missing, a third orphans, a third corrupt), walked and
 * compared the way a check does (find streamed through the walker, four
 * subtrees at a time, into the comparison), against a bare
 * `find ROOT -type f -printf '%s %p\n'` of the same tree in the same run.
 * Both run alternately three times on a warm page cache; medians are kept.
 * Our scan digests every directory as a check does (unchanged_dirs.ts); a
 * re-run over the same, unchanged tree with the first run's digests as its
 * baseline (`consistency.rerun_files_per_second`) skips the comparison of
 * every unchanged directory and carries its findings over; the listing still
 * reads them all (`consistency.rerun_dirs_skipped_fraction`). The database
 * write of the findings, which a re-run also saves, is not in these figures.
 * The inventory's two snapshots come from memory here (the database reads are
 * the inventory benchmark's business); peak RSS is sampled during our scans.
 *
 * `deno run -A bench/consistency.ts [FILES]` runs it alone.
 */
import { PosixStorage } from "../adapters/storage/posix_storage.ts";
import { PosixTreeReader } from "../adapters/storage/posix_tree_reader.ts";
import { walkSite } from "../adapters/storage/site_walker.ts";
import { type ExpectedFile, SiteComparison } from "../policies/consistency/compare.ts";
import { DEFAULT_SITE_CONSISTENCY } from "../policies/consistency/consistency_config.ts";
import { configFingerprint } from "../policies/consistency/dir_digest.ts";
import { type Baseline, UnchangedDirs } from "../policies/consistency/unchanged_dirs.ts";
import type { TreeReader } from "../adapters/storage/listing_port.ts";

export async function benchConsistency(files = 100_000, rounds = 3): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-bench-consistency-" });
  try {
    const inventory = new Map<string, ExpectedFile>();
    const perBlock = 100;
    const blocksPerDataset = 10;
    const payload = new Uint8Array(64);
    let faults = 0;
    for (let i = 0; i < files; i++) {
      const block = Math.floor(i / perBlock);
      const dataset = Math.floor(block / blocksPerDataset);
      const area = ["data", "mc", "hidata", "user"][dataset % 4];
      const dirPath = `/store/${area}/ds${dataset}/blk${block % blocksPerDataset}`;
      if (i % perBlock === 0) Deno.mkdirSync(`${dir}${dirPath}`, { recursive: true });
      const path = `${dirPath}/f${i}.root`;
      const size = i % 61;
      const fault = i % 300;
      if (fault !== 0) Deno.writeFileSync(`${dir}${path}`, payload.subarray(0, size)); // 0: missing
      else faults++;
      if (fault === 100) {
        Deno.writeFileSync(`${dir}${dirPath}/orphan${i}.root`, payload.subarray(0, 7));
        faults++;
      }
      const corrupt = fault === 200;
      if (corrupt) faults++;
      inventory.set(path, {
        lfn: path,
        size: corrupt ? size + 1 : size,
        dataset: `ds${dataset}`,
        block: `b${block}`,
        sinceMs: 0,
      });
    }
    const root = `${dir}`;
    const reader = new PosixTreeReader(await PosixStorage.open(root));
    const config = { ...DEFAULT_SITE_CONSISTENCY, ignoreAgeMs: 0 };
    const nowMs = Date.now() + 86_400_000;
    const ours: number[] = [];
    const rerun: number[] = [];
    const bare: number[] = [];
    let skippedFraction = 0;
    let rerunSame = true;
    let peakRss = Deno.memoryUsage().rss;
    let listed = 0;
    let found = 0;
    for (let round = 0; round < rounds; round++) {
      let t = performance.now();
      const find = new Deno.Command("find", {
        args: [root, "-type", "f", "-printf", "%s %p\\n"],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let bytes = 0;
      for await (const chunk of find.stdout) bytes += chunk.length;
      await find.status;
      bare.push((performance.now() - t) / 1000);
      if (bytes === 0) throw new Error("find listed nothing");

      const sampler = setInterval(() => (peakRss = Math.max(peakRss, Deno.memoryUsage().rss)), 20);
      t = performance.now();
      const first = await scan(reader, { config, nowMs, inventory, baseline: null });
      ours.push((performance.now() - t) / 1000);
      clearInterval(sampler);
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      listed = first.result.filesListed;
      found = first.result.missing.length + first.result.orphan.length + first.result.corrupt.length;

      t = performance.now();
      const second = await scan(reader, { config, nowMs, inventory, baseline: first.baseline });
      rerun.push((performance.now() - t) / 1000);
      skippedFraction = second.skipped / second.dirs;
      const key = (r: typeof first.result) => JSON.stringify([r.filesListed, r.missing, r.orphan, r.corrupt]);
      rerunSame &&= key(first.result) === key(second.result);
    }
    if (found !== faults) throw new Error(`the scan found ${found} faults, ${faults} were made`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    if (!rerunSame) throw new Error("the re-run found other findings than the first run");
    const oursS = median(ours);
    const rerunS = median(rerun);
    const findS = median(bare);
    return {
      "consistency.files": listed,
      "consistency.faults_found": found,
      "consistency.files_per_second": Math.round(listed / oursS),
      "consistency.find_files_per_second": Math.round(listed / findS),
      "consistency.ratio_to_find": Math.round((findS / oursS) * 100) / 100,
      "consistency.rerun_files_per_second": Math.round(listed / rerunS),
      "consistency.rerun_ratio_to_find": Math.round((findS / rerunS) * 100) / 100,
      "consistency.rerun_dirs_skipped_fraction": Math.round(skippedFraction * 1000) / 1000,
      "consistency.peak_rss_mb": Math.round(peakRss / 1e6),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One scan the way a check does it: the walk through the digests into the comparison (no database). */
async function scan(
  reader: TreeReader,
  options: {
    config: typeof DEFAULT_SITE_CONSISTENCY;
    nowMs: number;
    inventory: Map<string, ExpectedFile>;
    baseline: Baseline | null;
  },
) {
  const { config, nowMs, inventory } = options;
  const comparison = new SiteComparison({
    config,
    nowMs,
    before: inventory,
    deletingDatasets: new Set(),
    incomingPaths: new Set(),
  });
  const unchanged = new UnchangedDirs({
    baseline: options.baseline,
    fingerprint: configFingerprint(config),
    nowMs,
    ignoreAgeMs: config.ignoreAgeMs,
    roots: config.roots,
    before: inventory,
    deletingDatasets: new Set(),
    incomingPaths: new Set(),
    compared: (p) => comparison.compared(p),
    inArea: (p) => comparison.inArea(p),
  });
  const walk = walkSite(reader, { roots: ["/store"], settings: DEFAULT_SITE_CONSISTENCY.listing });
  for await (const batch of walk) comparison.add(unchanged.take(batch));
  const { skipped, replay, relist } = unchanged.decide([
    ...walk.failures.map((f) => f.dir),
    ...walk.relisted,
  ]);
  comparison.add(replay);
  if (relist.length > 0) {
    const again = walkSite(reader, {
      roots: relist,
      skip: () => true,
      settings: { ...DEFAULT_SITE_CONSISTENCY.listing, splitDepth: 1 },
    });
    for await (const batch of again) comparison.add(unchanged.take(batch));
  }
  const result = comparison.finish(inventory, walk.failures.map((f) => f.dir), unchanged.skipped);
  const records = unchanged.records();
  const baseline: Baseline = {
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
  return { result, skipped, dirs: records.length, baseline };
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchConsistency(Number(Deno.args[0] ?? 100_000)), null, 2));
}
