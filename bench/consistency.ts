/**
 * Consistency scan speed on a POSIX site: a tree of N files (100,000 by
 * default, 1,000,000 at `--scale cms`) that matches the inventory except for
 * 1 % faults (a third missing, a third orphans, a third corrupt), walked and
 * compared the way a check does (find streamed through the walker, four
 * subtrees at a time, into the comparison), against a bare
 * `find ROOT -type f -printf '%s %p\n'` of the same tree in the same run.
 * Both run alternately three times on a warm page cache; medians are kept.
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
    const bare: number[] = [];
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
      const comparison = new SiteComparison({
        config,
        nowMs,
        before: inventory,
        deletingDatasets: new Set(),
        incomingPaths: new Set(),
      });
      const walk = walkSite(reader, { roots: ["/store"], settings: DEFAULT_SITE_CONSISTENCY.listing });
      for await (const batch of walk) comparison.add(batch);
      const result = comparison.finish(inventory, walk.failures.map((f) => f.dir));
      ours.push((performance.now() - t) / 1000);
      clearInterval(sampler);
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      listed = result.filesListed;
      found = result.missing.length + result.orphan.length + result.corrupt.length;
    }
    if (found !== faults) throw new Error(`the scan found ${found} faults, ${faults} were made`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const oursS = median(ours);
    const findS = median(bare);
    return {
      "consistency.files": listed,
      "consistency.faults_found": found,
      "consistency.files_per_second": Math.round(listed / oursS),
      "consistency.find_files_per_second": Math.round(listed / findS),
      "consistency.ratio_to_find": Math.round((findS / oursS) * 100) / 100,
      "consistency.peak_rss_mb": Math.round(peakRss / 1e6),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchConsistency(Number(Deno.args[0] ?? 100_000)), null, 2));
}
