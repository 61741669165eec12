import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { startXrootd, xrootdAvailable } from "../../tests/helpers/xrootd_server.ts";
import type { ListingRecord, SiteWalk, TreeReader, TreeRecord } from "./listing_port.ts";
import { PosixStorage } from "./posix_storage.ts";
import { FindOutputParser, PosixTreeReader } from "./posix_tree_reader.ts";
import { walkSite } from "./site_walker.ts";
import { StorageError } from "./storage_port.ts";
import { XrootdStorage } from "./xrootd_storage.ts";
import { parseListing, XrootdTreeReader } from "./xrootd_tree_reader.ts";

async function collect(walk: SiteWalk): Promise<ListingRecord[]> {
  const out: ListingRecord[] = [];
  for await (const batch of walk) out.push(...batch);
  return out;
}

const files = (records: ListingRecord[]) =>
  records.filter((r) => r.type === "file").map((r) => r.path).sort();
const hostile = (records: ListingRecord[]) =>
  records.flatMap((r) => r.type === "hostile" ? [[r.path, r.reason] as const] : []);

async function sh(script: string, cwd: string) {
  const out = await new Deno.Command("sh", { args: ["-c", script], cwd }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test("posix listing: hostile names are reported, never followed, and the rest is listed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/site/store/a`, { recursive: true });
    await Deno.mkdir(`${dir}/outside`);
    await Deno.writeTextFile(`${dir}/outside/secret`, "secret");
    await Deno.writeTextFile(`${dir}/site/store/a/good`, "12345");
    await sh(
      [
        `printf x > "$(printf 'store/a/new\\nline')"`,
        `printf x > "$(printf 'store/a/bad\\377utf8')"`,
        `mkdir "$(printf 'store/a/dir\\nname')" && printf y > "$(printf 'store/a/dir\\nname/inner')"`,
        `ln -s ${dir}/outside store/a/escape`,
        `mkfifo store/a/fifo`,
        `printf z > store/a/partial.dynamo-part`,
      ].join(" && "),
      `${dir}/site`,
    );
    const reader = new PosixTreeReader(await PosixStorage.open(`${dir}/site`));
    for (const splitDepth of [0, 1, 5]) {
      const records = await collect(walkSite(reader, { roots: ["/store"], settings: { splitDepth } }));
      assertEquals(files(records), ["/store/a/good"]);
      const bad = hostile(records);
      const reasons = new Map(bad.map(([p, r]) => [p, r]));
      assertEquals(reasons.get("/store/a/escape"), "symbolic link; not followed");
      assert([...reasons.keys()].some((p) => p.includes("new\\nline")), JSON.stringify(bad));
      assert([...reasons.values()].includes("name is not valid UTF-8"), JSON.stringify(bad));
      assert([...reasons.values()].some((r) => r.startsWith("not a regular file")), JSON.stringify(bad));
      assert(!bad.some(([p]) => p.includes("secret")), "the symlink was followed");
      assert(records.every((r) => !r.path.includes("partial")), "a part file was listed");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("find output split across chunks at any byte gives the same records", () => {
  const text = "f\x003\x001700000000.5\x00a/b\x00e\x001700000001\x00a/e\x00d\x000\x001700000000\x00a\x00";
  const bytes = new TextEncoder().encode(text);
  const whole = new FindOutputParser("/r", true).push(bytes);
  assertEquals(whole, [
    { type: "file", path: "/r/a/b", size: 3, mtimeMs: 1_700_000_000_500 },
    { type: "dir", path: "/r/a/e", mtimeMs: 1_700_000_001_000, empty: true },
    { type: "dir", path: "/r/a", mtimeMs: 1_700_000_000_000, empty: false },
  ]);
  for (let cut = 1; cut < bytes.length; cut++) {
    const p = new FindOutputParser("/r", true);
    assertEquals([...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))], whole, `cut at ${cut}`);
  }
  // Garbage paths from a reader never pass as files.
  const garbage = new FindOutputParser("/r", true).push(
    new TextEncoder().encode("f\x001\x000\x00../../etc/passwd\x00"),
  );
  assertEquals(garbage[0]?.type, "hostile");
});

Deno.test("xrootd listing lines: hostile and garbage lines are reported, not used", () => {
  const text = [
    "-rw-r--r-- u g 5 2026-01-01 00:00:00 /base/store/a/f",
    "-rw-r--r-- u g 5 2026-01-01 00:00:00 /base/store/a/\uFFFDx",
    "-rw-r--r-- u g 5 2026-01-01 00:00:00 /elsewhere/f",
    "-rw-r--r-- u g 5 2026-01-01 00:00:00 /base/store/a/../../x",
    "garbage line",
    "drwxr-xr-x u g 4096 2026-01-01 00:00:00 /base/store/a/empty",
  ].join("\n");
  const records = parseListing(text, "/store", "/base", true);
  assertEquals(records.filter((r) => r.type === "file").map((r) => r.path), ["/store/a/f"]);
  assertEquals(records.filter((r) => r.type === "hostile").length, 4);
  assertEquals(records.find((r) => r.type === "dir"), {
    type: "dir",
    path: "/store/a/empty",
    mtimeMs: Date.parse("2026-01-01T00:00:00Z"),
    empty: true,
  });
});

/** A reader that cannot list some directories (a test double around a real one: tests run as root). */
function failing(reader: TreeReader, bad: Set<string>, calls: string[]): TreeReader {
  return {
    kind: "failing",
    recursive: reader.recursive,
    async *listTree(dir, options): AsyncGenerator<TreeRecord[]> {
      calls.push(`${options.recursive ? "tree" : "flat"} ${dir}`);
      for await (const batch of reader.listTree(dir, options)) {
        if ([...bad].some((b) => b === dir || (options.recursive && b.startsWith(dir + "/")))) {
          throw new StorageError("EACCES", dir, "permission denied");
        }
        yield batch;
      }
    },
  };
}

Deno.test("a directory that cannot be listed after its retries is a failure; the rest is listed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const p of ["store/a/x/1", "store/a/y/2", "store/b/z/3"]) {
      await Deno.mkdir(`${dir}/${p}`.replace(/\/\d$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${p}`, "1");
    }
    const calls: string[] = [];
    const reader = failing(new PosixTreeReader(await PosixStorage.open(dir)), new Set(["/store/a/y"]), calls);
    const walk = walkSite(reader, {
      roots: ["/store"],
      settings: { splitDepth: 1, retries: 2, concurrency: 2 },
    });
    const records = await collect(walk);
    assertEquals(files(records), ["/store/a/x/1", "/store/b/z/3"]);
    assertEquals(walk.failures, [{
      dir: "/store/a/y",
      reason: "EACCES: /store/a/y: permission denied",
      attempts: 3,
    }]);
    // The subtree /store/a failed as a whole, was listed flat, and only /store/a/y was tried again.
    assertEquals(calls.filter((c) => c === "flat /store/a/y").length, 3);
    assertEquals(calls.filter((c) => c === "tree /store/a").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a listing that fails part way is listed again and named: its records may repeat", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const p of ["store/a/x/1", "store/a/y/2", "store/b/z/3"]) {
      await Deno.mkdir(`${dir}/${p}`.replace(/\/\d$/, ""), { recursive: true });
      await Deno.writeTextFile(`${dir}/${p}`, "1");
    }
    const posix = new PosixTreeReader(await PosixStorage.open(dir));
    const clean = walkSite(posix, { roots: ["/store"], settings: { splitDepth: 1 } });
    await collect(clean);
    assertEquals(clean.relisted, []);
    // /store/a's recursive listing gives its records, then fails once: it is listed again, flat.
    let failed = false;
    const reader: TreeReader = {
      kind: posix.kind,
      recursive: true,
      async *listTree(d, options): AsyncGenerator<TreeRecord[]> {
        for await (const batch of posix.listTree(d, options)) yield batch;
        if (d === "/store/a" && options.recursive && !failed) {
          failed = true;
          throw new StorageError("EIO", d, "connection reset");
        }
      },
    };
    const walk = walkSite(reader, { roots: ["/store"], settings: { splitDepth: 1 } });
    const records = await collect(walk);
    assertEquals(walk.relisted, ["/store/a"]);
    assertEquals(walk.failures, []);
    const paths = records.filter((r) => r.type === "file").map((r) => r.path);
    assertEquals(paths.filter((p) => p === "/store/a/x/1").length, 2, "the records came twice");
    assertEquals(files(records).filter((p, i, all) => all.indexOf(p) === i), [
      "/store/a/x/1",
      "/store/a/y/2",
      "/store/b/z/3",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a walk is cancellable, and stops its listings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < 50; i++) {
      await Deno.mkdir(`${dir}/store/d${i}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/store/d${i}/f`, "1");
    }
    const abort = new AbortController();
    const walk = walkSite(new PosixTreeReader(await PosixStorage.open(dir)), {
      roots: ["/store"],
      settings: { splitDepth: 2, concurrency: 1 },
      signal: abort.signal,
    });
    let seen = 0;
    let error: unknown = null;
    try {
      for await (const batch of walk) {
        seen += batch.length;
        abort.abort(new Error("cancelled by the operator"));
      }
    } catch (e) {
      error = e;
    }
    assert(error instanceof Error && error.message === "cancelled by the operator", String(error));
    assert(seen < 100, `kept listing after the cancel: ${seen}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("garbage walk settings are clear errors", () => {
  const reader = { kind: "x", recursive: false, listTree: () => (async function* () {})() };
  for (
    const settings of [{ concurrency: 0 }, { retries: -1 }, { dirTimeoutMs: 1.5 }, { treeTimeoutMs: NaN }]
  ) {
    let error: unknown = null;
    try {
      walkSite(reader, { roots: ["/store"], settings });
    } catch (e) {
      error = e;
    }
    assert(error instanceof RangeError, JSON.stringify(settings));
  }
  let error: unknown = null;
  try {
    walkSite(reader, { roots: ["/store/../etc"] });
  } catch (e) {
    error = e;
  }
  assert(error instanceof StorageError);
});

const xrootd = await xrootdAvailable();

Deno.test({
  name: "xrootd listing: an unreadable directory fails alone; names that are not UTF-8 are reported",
  ignore: !xrootd,
  sanitizeResources: false,
  async fn() {
    const server = await startXrootd();
    try {
      const r = `${server.root}/site`;
      for (const p of ["store/a/x/1", "store/a/locked/in/2", "store/b/3"]) {
        await Deno.mkdir(`${r}/${p}`.replace(/\/\d$/, ""), { recursive: true });
        await Deno.writeTextFile(`${r}/${p}`, "12");
      }
      await Deno.mkdir(`${r}/store/a/empty`);
      await sh(`printf x > "$(printf 'store/b/bad\\377name')"`, r);
      await new Deno.Command("chown", { args: ["-R", "xrootd:", server.root] }).output();
      await Deno.chmod(`${r}/store/a/locked`, 0o000);
      const reader = new XrootdTreeReader(new XrootdStorage(`${server.url}site`));
      const walk = walkSite(reader, { roots: ["/store"], settings: { splitDepth: 1, retries: 1 } });
      const records = await collect(walk);
      assertEquals(files(records), ["/store/a/x/1", "/store/b/3"]);
      assertEquals(walk.failures.map((f) => [f.dir, f.attempts]), [["/store/a/locked", 2]]);
      assert(/permission denied/i.test(walk.failures[0]!.reason), walk.failures[0]!.reason);
      assertEquals(hostile(records).map(([, reason]) => reason), ["name is not valid UTF-8"]);
      assert(records.some((r) => r.type === "dir" && r.path === "/store/a/empty" && r.empty === true));
    } finally {
      await server.stop();
    }
  },
});
