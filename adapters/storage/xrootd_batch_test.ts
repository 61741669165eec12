import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { startXrootd, xrootdAvailable, type XrootdServer } from "../../tests/helpers/xrootd_server.ts";
import { adler32Hex } from "./adler32.ts";
import { PosixStorage } from "./posix_storage.ts";
import { PART_SUFFIX, StorageError } from "./storage_port.ts";
import {
  batchablePath,
  batchTimeoutMs,
  failsWholeBatch,
  parseMissing,
  parseStatBlocks,
  parseXrdcpReport,
  writtenProblem,
} from "./xrootd_batch.ts";
import { XrootdStorage } from "./xrootd_storage.ts";

const available = await xrootdAvailable();

Deno.test("xrootd batch: only plain names go into a batch", () => {
  for (const ok of ["/store/data/Run2026A/file_1.root", "/a/b-c+d=e,f@g.h", "/x"]) {
    assert(batchablePath(ok), ok);
  }
  for (
    const bad of [
      "/a/b c",
      "/a/b?c",
      "/a/b#c",
      "/a/b%20c",
      "/a/'q'",
      '/a/"q"',
      "/a/b;rm -rf",
      "/a/é",
      "/a/`x`",
      "/a/$(x)",
      "/a/b\\c",
      `/a/${"n".repeat(250)}`,
      "relative",
      "",
      "/",
    ]
  ) {
    assert(!batchablePath(bad), bad);
  }
});

Deno.test("xrootd batch: xrdcp's report is read per file, garbage ignored", () => {
  const report = parseXrdcpReport([
    "adler32: cec368b root://127.0.0.1:35913/fail//c.dynamo-part 4194304",
    "adler32: B431CFC6 root://127.0.0.1:35913/fail//a.dynamo-part 17",
    "Job #2: [ERROR] Server responded with an error: [3016] Unable to create /fail/b.dynamo-part; is a directory",
    "Jobs total: 3, run: 3, errors: 1",
    "adler32: nothex root://h//x 1",
    "adler32: 123456789 root://h//y 1",
    "adler32: 1 root://h//z -1",
    "Job #x: no",
    "",
  ].join("\n"));
  assertEquals([...report.sums.entries()], [
    ["c.dynamo-part", { adler32: "0cec368b", size: 4194304 }],
    ["a.dynamo-part", { adler32: "b431cfc6", size: 17 }],
  ]);
  assertEquals([...report.jobErrors.keys()], [2]);
  assertEquals(parseXrdcpReport("\u0000\u0001 garbage\n".repeat(3)).sums.size, 0);
});

Deno.test("xrootd batch: an xrdfs session's stat blocks are read by path", () => {
  const blocks = parseStatBlocks([
    "[127.0.0.1:35913] / > stat /dbg/f0",
    "Path:   /dbg/f0",
    "Id:     9218344142044672",
    "Size:   4194304",
    "MTime:  2026-12-02 09:58:32",
    "Flags:  48 (IsReadable|IsWritable)",
    "[127.0.0.1:35913] / > stat /dbg/missing",
    "[127.0.0.1:35913] / > stat /dbg",
    "Path:   /dbg",
    "Id:     1",
    "Size:   4096",
    "Flags:  51 (XBitSet|IsDir|IsReadable|IsWritable)",
    "Path:   /bad",
    "Size:   -3",
    "[127.0.0.1:35913] / > Goodbye.",
  ].join("\n"));
  assertEquals(blocks.get("/dbg/f0"), {
    id: "9218344142044672",
    size: 4194304,
    isDirectory: false,
    mtime: "2026-12-02 09:58:32",
  });
  assertEquals(blocks.get("/dbg"), { id: "1", size: 4096, isDirectory: true, mtime: "" });
  assertEquals(blocks.get("/bad")?.size, -1);
  assertEquals(blocks.has("/dbg/missing"), false);
});

Deno.test("xrootd batch: a session's stderr names the paths that are not there, nothing else", () => {
  const missing = parseMissing([
    "[ERROR] Server responded with an error: [3011] Unable to locate /nope/x; no such file or directory ",
    "",
    "[ERROR] Server responded with an error: [3011] Unable to locate /dbg/zz; no such file or directory ",
    "[ERROR] Server responded with an error: [3010] Unable to locate /denied; permission denied",
    "[ERROR] Server responded with an error: [3011] Unable to rename /a; no such file or directory",
    "[FATAL] Connection error",
  ].join("\n"));
  assertEquals([...missing], ["/nope/x", "/dbg/zz"]);
});

Deno.test("xrootd batch: a written file is judged on the server's sum and both sizes", () => {
  const file = { path: "/a/f", size: 10, adler32: "0000000a" };
  const stat = { id: "1", size: 10, isDirectory: false, mtime: "" };
  assertEquals(writtenProblem(file, { adler32: "a", size: 10 }, stat), null);
  assertEquals(writtenProblem(file, { adler32: "0000000b", size: 10 }, stat)?.code, "ECHECKSUM");
  assertEquals(writtenProblem(file, { adler32: "0000000a", size: 9 }, stat)?.code, "ESIZE");
  assertEquals(writtenProblem(file, { adler32: "0000000a", size: 10 }, { ...stat, size: 11 })?.code, "ESIZE");
});

Deno.test("xrootd batch: a batch's timeout grows with its files; only a refused endpoint fails a whole batch", () => {
  assertEquals([batchTimeoutMs(60_000, 1), batchTimeoutMs(60_000, 8), batchTimeoutMs(60_000, 0)], [
    60_000,
    480_000,
    60_000,
  ]);
  assertEquals(failsWholeBatch("ECONNREFUSED", 8), true);
  assertEquals(failsWholeBatch("ECONNREFUSED", 1), true);
  assertEquals(failsWholeBatch("ETIMEDOUT", 1), true);
  // Several files timed out before any finished: each is copied alone, with its own timeout.
  assertEquals(failsWholeBatch("ETIMEDOUT", 8), false);
  for (const code of ["EIO", "ENOENT", "EACCES", "ENOSPC"] as const) {
    assertEquals(failsWholeBatch(code, 8), false);
  }
});

/** Files under a POSIX site, with their catalogue size and Adler-32 (which a test may falsify). */
async function localFiles(dir: string, names: string[]) {
  const src = await PosixStorage.open(dir);
  const files = [];
  for (const [i, name] of names.entries()) {
    const bytes = new TextEncoder().encode(`${name} ${"x".repeat(1000 + i * 37)}`);
    await Deno.mkdir(`${dir}${name.slice(0, name.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeFile(`${dir}${name}`, bytes);
    files.push({ path: name, size: bytes.length, adler32: adler32Hex(bytes), bytes });
  }
  return { src, files };
}

/** Every file under a server's root, relative to it (the site's namespace when its base is ""). */
async function serverFiles(server: XrootdServer): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${server.root}${dir}`)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else found.push(`${dir}/${e.name}`);
    }
  };
  await walk("");
  return found.sort();
}

async function withServerAndDir(fn: (server: XrootdServer, dir: string) => Promise<void>) {
  const server = await startXrootd();
  const dir = await Deno.makeTempDir();
  try {
    await fn(server, dir);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "xrootd batch: concurrent copies of a directory's files share one xrdcp, each file verified in place",
  ignore: !available,
  sanitizeResources: false,
  fn: () =>
    withServerAndDir(async (server, dir) => {
      const names = Array.from({ length: 8 }, (_, i) => `/store/run/f${i}.root`);
      const { src, files } = await localFiles(dir, names);
      const site = new XrootdStorage(`${server.url}site`);
      await Promise.all(files.map((f) => site.copyFrom(src, f.path, f.path, f)));
      for (const f of files) {
        assertEquals(await Deno.readFile(`${server.root}/site${f.path}`), f.bytes);
      }
      assertEquals(await serverFiles(server), names.map((n) => `/site${n}`).sort());
      // Batches: fewer xrdcp than files (one, and a second try once its directory is made, when the
      // copies reach the queue in the same turn, as they do here but for the scheduling of their fstat).
      const { xrdcp, xrdfs } = site.clientProcesses();
      assert(xrdcp < files.length && xrdfs < 2 * files.length, JSON.stringify({ xrdcp, xrdfs }));
    }),
});

for (const batchFiles of [1, 8]) {
  Deno.test({
    name: `xrootd ${batchFiles === 1 ? "one-file path" : "batch"}: a corrupt source or a wrong size never ` +
      "reaches its final name, and each file gets its own error",
    ignore: !available,
    sanitizeResources: false,
    fn: () =>
      withServerAndDir(async (server, dir) => {
        const names = ["/d/good1", "/d/corrupt", "/d/short", "/d/good2", "/e/good3"];
        const { src, files } = await localFiles(dir, names);
        const expect = (f: (typeof files)[number]) =>
          f.path === "/d/corrupt"
            ? { size: f.size, adler32: adler32Hex(new TextEncoder().encode("what the catalogue holds")) }
            : f.path === "/d/short"
            ? { size: f.size + 1, adler32: f.adler32 }
            : { size: f.size, adler32: f.adler32 };
        const site = new XrootdStorage(server.url, { batchFiles });
        const results = await Promise.allSettled(
          files.map((f) => site.copyFrom(src, f.path, f.path, expect(f))),
        );
        const codes = results.map((r) =>
          r.status === "fulfilled"
            ? "ok"
            : r.reason instanceof StorageError
            ? r.reason.code
            : String(r.reason)
        );
        assertEquals(codes, ["ok", "ECHECKSUM", "ESIZE", "ok", "ok"]);
        // The one-file path starts one xrdcp per file, the batches fewer.
        const xrdcp = site.clientProcesses().xrdcp;
        assert(batchFiles === 1 ? xrdcp === files.length : xrdcp < files.length, `${xrdcp} xrdcp`);
        for (const r of results) {
          if (r.status === "rejected") assert(String(r.reason.message).includes("/d/"), r.reason.message);
        }
        // Nothing under the bad names, no temporary file left behind.
        assertEquals(await serverFiles(server), ["/d/good1", "/d/good2", "/e/good3"]);
      }),
  });
}

Deno.test({
  name: "xrootd batch: a file already there is replaced; a directory in the way fails only its own file",
  ignore: !available,
  sanitizeResources: false,
  fn: () =>
    withServerAndDir(async (server, dir) => {
      const { src, files } = await localFiles(dir, ["/d/old", "/d/dir", "/d/new"]);
      await Deno.mkdir(`${server.root}/d/dir/inside`, { recursive: true });
      await Deno.writeTextFile(`${server.root}/d/old`, "stale bytes of another size");
      await new Deno.Command("chmod", { args: ["-R", "a+rwX", `${server.root}/d`] }).output();
      const site = new XrootdStorage(server.url);
      const results = await Promise.allSettled(files.map((f) => site.copyFrom(src, f.path, f.path, f)));
      assertEquals(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
      assert((results[1] as PromiseRejectedResult).reason instanceof StorageError);
      assertEquals(await Deno.readFile(`${server.root}/d/old`), files[0]!.bytes);
      assertEquals(await Deno.readFile(`${server.root}/d/new`), files[2]!.bytes);
      assertEquals((await Deno.stat(`${server.root}/d/dir/inside`)).isDirectory, true);
      assertEquals((await serverFiles(server)).filter((p) => p.endsWith(PART_SUFFIX)), []);
    }),
});

Deno.test({
  name: "xrootd: hostile names land under their own name inside the site root, or are refused",
  ignore: !available,
  sanitizeResources: false,
  fn: () =>
    withServerAndDir(async (server, dir) => {
      const hostile = [
        "/h/with space",
        "/h/query?x=1",
        "/h/hash#frag",
        "/h/percent%2e%2e",
        "/h/quote'\"",
        "/h/semi;colon",
        "/h/ünïcode",
        "/h/dollar$(id)",
        "/h/back\\slash",
        "/h/--force",
        "/h/-",
        "/h/plain",
      ];
      const { src, files } = await localFiles(dir, hostile);
      const site = new XrootdStorage(`${server.url}site`);
      const results = await Promise.allSettled(files.map((f) => site.copyFrom(src, f.path, f.path, f)));
      const landed = hostile.filter((_, i) => results[i]!.status === "fulfilled");
      for (const [i, r] of results.entries()) {
        if (r.status === "rejected") assert(r.reason instanceof StorageError, String(r.reason));
        else assertEquals(await Deno.readFile(`${server.root}/site${files[i]!.path}`), files[i]!.bytes);
      }
      // Everything on the server is under the site's base, under the name asked for.
      assertEquals(await serverFiles(server), landed.map((p) => `/site${p}`).sort());
      assert(landed.includes("/h/plain") && landed.includes("/h/with space"), JSON.stringify(landed));
      const query = results[hostile.indexOf("/h/query?x=1")]!;
      assertEquals(query.status === "rejected" && query.reason.code, "EINVAL");
    }),
});

Deno.test({
  name: "xrootd batch: an endpoint that is down fails each file of a batch with ECONNREFUSED, not a hang",
  ignore: !available,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { src, files } = await localFiles(dir, ["/d/a", "/d/b", "/d/c"]);
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const site = new XrootdStorage(`root://127.0.0.1:${port}//`, {
        metadataTimeoutS: 20,
        copyTimeoutS: 20,
      });
      const results = await Promise.allSettled(files.map((f) => site.copyFrom(src, f.path, f.path, f)));
      assertEquals(
        results.map((r) => r.status === "rejected" && r.reason instanceof StorageError && r.reason.code),
        ["ECONNREFUSED", "ECONNREFUSED", "ECONNREFUSED"],
      );
      assertEquals(results.map((r) => r.status === "rejected" && r.reason.path), ["/d/a", "/d/b", "/d/c"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * What the adapter relies on in the client itself, checked against a real
 * server: `--cksum adler32:VALUE` refuses a corrupt source but leaves its
 * bytes at the target (hence the temporary name and the rename), and
 * `--cksum adler32:print` reports the destination server's sum of each file
 * it wrote, corrupt or not (so the batch can refuse it by its catalogue sum).
 */
Deno.test({
  name: "xrdcp: a wrong --cksum value fails the copy but leaves the target; print reports the server's sum",
  ignore: !available,
  sanitizeResources: false,
  fn: () =>
    withServerAndDir(async (server, dir) => {
      const bytes = new TextEncoder().encode("bytes the catalogue never saw");
      await Deno.writeFile(`${dir}/src`, bytes);
      const xrdcp = (...args: string[]) =>
        new Deno.Command("xrdcp", {
          args: ["-f", "--nopbar", ...args],
          env: { XRD_CONNECTIONRETRY: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const wrong = await xrdcp("--cksum", "adler32:0badbad0", `${dir}/src`, `${server.url}checked`);
      assertEquals(wrong.success, false);
      assert(/checksum/i.test(new TextDecoder().decode(wrong.stderr)));
      assertEquals(await Deno.readFile(`${server.root}/checked`), bytes); // refused, yet written
      await Deno.mkdir(`${server.root}/dir`);
      await new Deno.Command("chmod", { args: ["a+rwx", `${server.root}/dir`] }).output();
      const printed = await xrdcp(
        "--cksum",
        "adler32:print",
        `${dir}/src`,
        `${dir}/src`,
        `${server.url}dir/`,
      );
      const report = parseXrdcpReport(new TextDecoder().decode(printed.stderr));
      assertEquals(report.sums.get("src"), { adler32: adler32Hex(bytes), size: bytes.length });
    }),
});

Deno.test({
  name: "xrootd batch: stats made together share one xrdfs session and answer as stats made alone",
  ignore: !available,
  sanitizeResources: false,
  fn: () =>
    withServerAndDir(async (server) => {
      await Deno.mkdir(`${server.root}/site/d/sub`, { recursive: true });
      await Deno.writeTextFile(`${server.root}/site/d/f1`, "one");
      await Deno.writeTextFile(`${server.root}/site/d/f2`, "two!");
      await Deno.writeTextFile(`${server.root}/site/d/with space`, "spaced");
      const paths = ["/d/f1", "/d/f2", "/d/sub", "/d/missing", "/nodir/x", "/d/with space", "/", "/d"];
      const together = new XrootdStorage(`${server.url}site`);
      const alone = new XrootdStorage(`${server.url}site`, { batchFiles: 1 });
      const batched = await Promise.all(paths.map((p) => together.stat(p)));
      const single = [];
      for (const p of paths) single.push(await alone.stat(p));
      assertEquals(batched, single);
      assertEquals(batched.map((e) => e?.size ?? null).slice(0, 2), [3, 4]);
      assertEquals(batched.map((e) => e === null), [false, false, false, true, true, false, false, false]);
      assert(batched[2]!.isDirectory && !batched[0]!.isDirectory && batched[0]!.mtimeMs > 0);
      // Six plain paths in one session; the spaced name and the site root alone.
      assert(together.clientProcesses().xrdfs < paths.length, JSON.stringify(together.clientProcesses()));
      await assertRejects(() => together.stat("/d/a?b"), StorageError);
    }),
});

Deno.test({
  name: "xrootd batch: copies to the same destination run one after another, each with its own outcome",
  ignore: !available,
  sanitizeResources: false,
  fn: () =>
    withServerAndDir(async (server, dir) => {
      const { src, files } = await localFiles(dir, ["/s/a", "/s/b", "/s/c", "/s/other"]);
      await Deno.mkdir(`${server.root}/d`, { recursive: true });
      await Deno.writeTextFile(`${server.root}/d/same`, "stale bytes of another size");
      await new Deno.Command("chmod", { args: ["-R", "a+rwX", `${server.root}/d`] }).output();
      const [a, b, c, other] = files as [typeof files[0], typeof files[0], typeof files[0], typeof files[0]];
      const site = new XrootdStorage(server.url);
      const results = await Promise.allSettled([
        site.copyFrom(src, a.path, "/d/same", a),
        site.copyFrom(src, b.path, "/d/same", { size: b.size, adler32: a.adler32 }), // corrupt: a's sum
        site.copyFrom(src, c.path, "/d/same", c),
        site.copyFrom(src, other.path, "/d/other", other),
      ]);
      assertEquals(
        results.map((r) => r.status === "fulfilled" ? "ok" : r.reason.code),
        ["ok", "ECHECKSUM", "ok", "ok"],
      );
      // The last good copy is in place, whole; nothing else is left.
      assertEquals(await Deno.readFile(`${server.root}/d/same`), c.bytes);
      assertEquals(await Deno.readFile(`${server.root}/d/other`), other.bytes);
      assertEquals(await serverFiles(server), ["/d/other", "/d/same"]);
    }),
});
