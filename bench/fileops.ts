/**
 * File copy throughput on POSIX sites: the per-file path a transfer task takes
 * (destination stat, kernel copy to a temporary name, size and Adler-32 check
 * of what was written, rename), four at a time as one link runs them, against
 * `cp -r` of the same files in the same run.
 */
import { adler32Hex } from "../adapters/storage/adler32.ts";
import { PosixStorage } from "../adapters/storage/posix_storage.ts";

export async function benchFileops(files = 64, mb = 4, parallelism = 4): Promise<Record<string, number>> {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-bench-fileops-" });
  try {
    for (const d of ["src", "dst", "cp"]) await Deno.mkdir(`${dir}/${d}`);
    await Deno.mkdir(`${dir}/src/store`);
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
    const dst = await PosixStorage.open(`${dir}/dst`);
    let t = performance.now();
    const queue = [...expect];
    await Promise.all(Array.from({ length: parallelism }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        await dst.stat(f.path);
        await dst.copyFrom(src, f.path, f.path, { size: f.size, adler32: f.adler32 });
      }
    }));
    const oursSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const cp = await new Deno.Command("cp", { args: ["-r", `${dir}/src/store`, `${dir}/cp/`] }).output();
    if (!cp.success) throw new Error("cp failed");
    const cpSeconds = (performance.now() - t) / 1000;
    const total = files * mb;
    return {
      "fileops.files": files,
      "fileops.file_mb": mb,
      "fileops.copy_mb_per_s": Math.round(total / oursSeconds),
      "fileops.raw_cp_mb_per_s": Math.round(total / cpSeconds),
      "fileops.copy_to_cp_ratio": Math.round((cpSeconds / oursSeconds) * 100) / 100,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await benchFileops(), null, 2));
