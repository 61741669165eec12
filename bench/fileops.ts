/**
 * File copy throughput on POSIX sites: the per-file path a transfer task takes
 * (destination stat, kernel copy to a temporary name, size and Adler-32 check
 * of what was written, rename), four at a time as one link runs them, against
 * `cp -r` of the same files in the same run.
 *
 * Page-cache writeback makes single runs swing by 2× either way, so the two are
 * run alternately for several rounds, each after `sync` (so neither pays for
 * the other's dirty pages), and the medians are reported.
 */
import { adler32Hex } from "../adapters/storage/adler32.ts";
import { PosixStorage } from "../adapters/storage/posix_storage.ts";

export async function benchFileops(
  files = 64,
  mb = 4,
  parallelism = 4,
  rounds = 3,
): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-bench-fileops-" });
  try {
    await Deno.mkdir(`${dir}/src/store`, { recursive: true });
    const expect = [];
    for (let i = 0; i < files; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(65536));
      const all = new Uint8Array(mb * 1024 * 1024);
      for (let o = 0; o < all.length; o += bytes.length) all.set(bytes, o);
      all[0] = i & 255;
      await Deno.writeFile(`${dir}/src/store/f${i}`, all);
      expect.push({ path: `/store/f${i}`, size: all.length, adler32: adler32Hex(all) });
    }
    const src = await PosixStorage.open(`${dir}/src`);
    const ours: number[] = [];
    const cp: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const d of ["dst", "cp"]) {
        await Deno.remove(`${dir}/${d}`, { recursive: true }).catch(() => {});
        await Deno.mkdir(`${dir}/${d}`);
      }
      await sync();
      let t = performance.now();
      const dst = await PosixStorage.open(`${dir}/dst`);
      const queue = [...expect];
      await Promise.all(Array.from({ length: parallelism }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) {
          await dst.stat(f.path);
          await dst.copyFrom(src, f.path, f.path, { size: f.size, adler32: f.adler32 });
        }
      }));
      ours.push((performance.now() - t) / 1000);
      await sync();
      t = performance.now();
      const copy = await new Deno.Command("cp", { args: ["-r", `${dir}/src/store`, `${dir}/cp/`] }).output();
      if (!copy.success) throw new Error("cp failed");
      cp.push((performance.now() - t) / 1000);
    }
    const total = files * mb;
    const [oursSeconds, cpSeconds] = [median(ours), median(cp)];
    return {
      "fileops.files": files,
      "fileops.file_mb": mb,
      "fileops.rounds": rounds,
      "fileops.copy_mb_per_s": Math.round(total / oursSeconds),
      "fileops.raw_cp_mb_per_s": Math.round(total / cpSeconds),
      "fileops.copy_to_cp_ratio": Math.round((cpSeconds / oursSeconds) * 100) / 100,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function sync(): Promise<void> {
  await new Deno.Command("sync").output();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.main) console.log(JSON.stringify(await benchFileops(), null, 2));
