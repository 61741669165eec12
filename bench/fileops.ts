/**
 * File copy throughput on POSIX sites: the per-file path a transfer task takes
 * (destination stat, kernel copy to a temporary name, size and Adler-32 check
 * of what was written, rename), four at a time as one link runs them, against
 * `cp -r` of the same files in the same run, and against the honest limit for
 * a verified copy: `cp -r` and then `xrdadler32` (xrootd-client; Python's
 * zlib.adler32 where it is missing) of every copied file, timed together.
 * xrdadler32 is one process per file (~10–30 ms to start here, more than it
 * takes to sum 4 MB), so a stricter limit is reported beside it: `cp -r` and
 * one Python process summing every copied file with zlib.adler32, the same
 * native sum without the starts.
 *
 * Page-cache writeback makes single runs swing by 2× either way, so the two are
 * run alternately for several rounds, each after `sync` (so neither pays for
 * the other's dirty pages), and the medians are reported.
 */
import { adler32Hex } from "../adapters/storage/adler32.ts";
import { PosixStorage } from "../adapters/storage/posix_storage.ts";
import { adler32Implementation } from "../adapters/storage/fast_adler32.ts";

export async function benchFileops(
  files = 64,
  mb = 4,
  parallelism = 4,
  rounds = 3,
): Promise<Record<string, number | string>> {
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
    const verified: number[] = [];
    const verifiedZlib: number[] = [];
    const summer = await nativeAdler32Command();
    for (let round = 0; round < rounds; round++) {
      for (const d of ["dst", "cp", "vcp", "zcp"]) {
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
      await sync();
      t = performance.now();
      const limit = await new Deno.Command("sh", {
        args: [
          "-c",
          `cp -r "$1/src/store" "$1/vcp/" && for f in "$1"/vcp/store/*; do ${summer} "$f" || exit 1; done`,
          "sh",
          dir,
        ],
        stdout: "null",
      }).output();
      if (!limit.success) throw new Error("cp and native checksum failed");
      verified.push((performance.now() - t) / 1000);
      await sync();
      t = performance.now();
      const zlib = await new Deno.Command("sh", {
        args: [
          "-c",
          `cp -r "$1/src/store" "$1/zcp/" && python3 -c "$2" "$1"/zcp/store/*`,
          "sh",
          dir,
          ZLIB_ALL,
        ],
        stdout: "null",
      }).output();
      if (!zlib.success) throw new Error("cp and zlib checksum failed");
      verifiedZlib.push((performance.now() - t) / 1000);
    }
    const total = files * mb;
    const [oursSeconds, cpSeconds, verifiedSeconds] = [median(ours), median(cp), median(verified)];
    const zlibSeconds = median(verifiedZlib);
    return {
      "fileops.files": files,
      "fileops.file_mb": mb,
      "fileops.rounds": rounds,
      "fileops.copy_mb_per_s": Math.round(total / oursSeconds),
      "fileops.raw_cp_mb_per_s": Math.round(total / cpSeconds),
      "fileops.copy_to_cp_ratio": Math.round((cpSeconds / oursSeconds) * 100) / 100,
      "fileops.verified_limit_mb_per_s": Math.round(total / verifiedSeconds),
      "fileops.copy_to_verified_limit_ratio": Math.round((verifiedSeconds / oursSeconds) * 100) / 100,
      "fileops.verified_limit_zlib_mb_per_s": Math.round(total / zlibSeconds),
      "fileops.copy_to_verified_limit_zlib_ratio": Math.round((zlibSeconds / oursSeconds) * 100) / 100,
      "fileops.adler32": adler32Implementation(),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Sums every file named on its command line with zlib, in one process. */
const ZLIB_ALL = "import sys, zlib\nfor f in sys.argv[1:]:\n  zlib.adler32(open(f, 'rb').read())";

/** xrdadler32 where installed, else Python's zlib (the same zlib adler32 xrdadler32 calls). */
async function nativeAdler32Command(): Promise<string> {
  const found = await new Deno.Command("sh", { args: ["-c", "command -v xrdadler32"], stdout: "null" })
    .output();
  if (found.success) return "xrdadler32";
  return `python3 -c 'import sys,zlib;print(format(zlib.adler32(open(sys.argv[1],"rb").read()),"08x"))'`;
}

async function sync(): Promise<void> {
  await new Deno.Command("sync").output();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.main) console.log(JSON.stringify(await benchFileops(), null, 2));
