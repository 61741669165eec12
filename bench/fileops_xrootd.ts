/**
 * File copy throughput to an XRootD site: the path a transfer task takes
 * (XrootdStorage.copyFrom a POSIX site, `parallelism` files at once: the
 * copies of one directory that run together go in one batch, one
 * `xrdcp --cksum adler32:print` to temporary names with the server's sums
 * compared with the catalogue's, one `xrdfs` session for the sizes, one for
 * the renames), against a bare `xrdcp` of each file to the same real server
 * (tests/helpers/xrootd_server.ts), same parallelism, alternately for several
 * rounds; medians. Also the client processes our path started per file.
 * Skipped where xrootd is missing.
 */
import { adler32Hex } from "../adapters/storage/adler32.ts";
import { PosixStorage } from "../adapters/storage/posix_storage.ts";
import { XrootdStorage } from "../adapters/storage/xrootd_storage.ts";
import { startXrootd, xrootdAvailable } from "../tests/helpers/xrootd_server.ts";

export async function benchXrootdFileops(
  files = 16,
  mb = 4,
  parallelism = 4,
  rounds = 3,
): Promise<Record<string, number>> {
  if (!(await xrootdAvailable())) return {};
  const dir = await Deno.makeTempDir({ prefix: "dynamo-bench-xrootd-" });
  const server = await startXrootd();
  try {
    await Deno.mkdir(`${dir}/store`, { recursive: true });
    const expect: { path: string; size: number; adler32: string }[] = [];
    for (let i = 0; i < files; i++) {
      const all = new Uint8Array(mb * 1024 * 1024);
      for (let o = 0; o < all.length; o += 65536) crypto.getRandomValues(all.subarray(o, o + 65536));
      await Deno.writeFile(`${dir}/store/f${i}`, all);
      expect.push({ path: `/store/f${i}`, size: all.length, adler32: adler32Hex(all) });
    }
    const src = await PosixStorage.open(dir);
    const ours: number[] = [];
    const bare: number[] = [];
    let processes = 0;
    for (let round = 0; round < rounds; round++) {
      const site = new XrootdStorage(`${server.url}ours${round}`);
      let t = performance.now();
      await inParallel(expect, parallelism, (f) => site.copyFrom(src, f.path, f.path, f));
      ours.push((performance.now() - t) / 1000);
      const started = site.clientProcesses();
      processes += started.xrdcp + started.xrdfs;
      t = performance.now();
      await inParallel(expect, parallelism, async (f) => {
        const out = await new Deno.Command("xrdcp", {
          args: ["-s", "-f", `${dir}${f.path}`, `${server.url}bare${round}${f.path}`],
          env: { XRD_CONNECTIONRETRY: "1", XRD_CONNECTIONWINDOW: "10" },
          stdout: "null",
          stderr: "null",
        }).output();
        if (!out.success) throw new Error(`bare xrdcp of ${f.path} failed`);
      });
      bare.push((performance.now() - t) / 1000);
    }
    const total = files * mb;
    const [oursSeconds, bareSeconds] = [median(ours), median(bare)];
    return {
      "fileops.xrootd_files": files,
      "fileops.xrootd_copy_mb_per_s": Math.round(total / oursSeconds),
      "fileops.xrootd_raw_xrdcp_mb_per_s": Math.round(total / bareSeconds),
      "fileops.xrootd_copy_to_xrdcp_ratio": Math.round((bareSeconds / oursSeconds) * 100) / 100,
      // Limit: 1, the bare xrdcp's one process per file.
      "fileops.xrootd_client_processes_per_file": Math.round((processes / (files * rounds)) * 100) / 100,
    };
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

async function inParallel<T>(
  items: T[],
  parallelism: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: parallelism }, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await run(item);
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (import.meta.main) console.log(JSON.stringify(await benchXrootdFileops(), null, 2));
