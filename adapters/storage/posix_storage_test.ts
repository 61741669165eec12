import { assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { adler32Hex } from "./adler32.ts";
import { storageConformance } from "../../tests/helpers/storage_conformance.ts";
import { PosixStorage } from "./posix_storage.ts";
import { StorageError } from "./storage_port.ts";
import { openSiteStorage } from "./site_storage.ts";

async function twoRoots() {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-posix-" });
  await Deno.mkdir(`${dir}/a`);
  await Deno.mkdir(`${dir}/b`);
  return { dir, a: await PosixStorage.open(`${dir}/a`), b: await PosixStorage.open(`${dir}/b`) };
}

Deno.test("posix storage passes the conformance suite", async (t) => {
  const { dir, a, b } = await twoRoots();
  try {
    await storageConformance(t, { site: a, other: b });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("posix storage: symlinks are never followed, to the outside or inside the root", async () => {
  const { dir, a, b } = await twoRoots();
  try {
    await Deno.mkdir(`${dir}/outside`);
    await Deno.writeTextFile(`${dir}/outside/secret`, "secret");
    await Deno.symlink(`${dir}/outside`, `${dir}/a/link`);
    await Deno.symlink(`${dir}/outside/secret`, `${dir}/a/file_link`);
    await Deno.mkdir(`${dir}/a/real`);
    await Deno.writeTextFile(`${dir}/a/real/f`, "inside");
    await Deno.symlink("real", `${dir}/a/inner`); // relative, stays inside: refused all the same
    await b.write("/src", ReadableStream.from([new Uint8Array(1)]), { size: 1 });
    const refused = async (what: string, fn: () => Promise<unknown>) => {
      const e = await assertRejects(fn, StorageError);
      assertEquals([e.code, e.message.includes("symbolic link")], ["EACCES", true], `${what}: ${e.message}`);
    };
    for (const path of ["/link/secret", "/file_link", "/link/new/x", "/inner/f"]) {
      await refused(`read ${path}`, () => a.read(path));
      await refused(`checksum ${path}`, () => a.checksum(path));
      if (path !== "/file_link") {
        await refused(
          `write ${path}`,
          () => a.write(path, ReadableStream.from([new Uint8Array(1)]), { size: 1 }),
        );
        await refused(`copy to ${path}`, () => a.copyFrom(b, "/src", path, { size: 1 }));
      }
      await refused(`copy from ${path}`, () => b.copyFrom(a, path, "/copied", { size: 6 }));
      await refused(`delete ${path}`, () => a.delete(path));
    }
    await refused("stat", () => a.stat("/file_link"));
    await refused("stat below", () => a.stat("/link/secret"));
    await refused("list", () => Array.fromAsync(a.list("/link")));
    await refused("mkdir", () => a.mkdir("/link/sub"));
    await refused("rmdir", () => a.rmdir("/link"));
    await refused("withLocalFile", () => a.withLocalFile("/link/secret", () => Promise.resolve()));
    // A write where a symlink is replaces the link itself by the new file; its target is untouched.
    await a.copyFrom(b, "/src", "/file_link", { size: 1 });
    assertEquals((await Deno.lstat(`${dir}/a/file_link`)).isFile, true);
    assertEquals(await Deno.readTextFile(`${dir}/outside/secret`), "secret");
    assertEquals(await Array.fromAsync(Deno.readDir(`${dir}/outside`)).then((x) => x.length), 1);
    assertEquals(await Deno.readTextFile(`${dir}/a/real/f`), "inside");
    await a.delete("/file_link");
    assertEquals(await b.stat("/copied"), null);
    assertEquals((await Array.fromAsync(a.list("/", { recursive: true }))).map((e) => e.path), [
      "/real",
      "/real/f",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("posix storage: a FIFO or a directory under a file's name is refused without blocking", async () => {
  const { dir, a } = await twoRoots();
  try {
    await Deno.mkdir(`${dir}/a/store/d`, { recursive: true });
    const mkfifo = await new Deno.Command("mkfifo", { args: [`${dir}/a/store/pipe`] }).output();
    assertEquals(mkfifo.success, true);
    for (const [path, code] of [["/store/pipe", "EINVAL"], ["/store/d", "EISDIR"]] as const) {
      const e = await assertRejects(() => a.read(path), StorageError);
      assertEquals(e.code, code, e.message);
      assertEquals((await assertRejects(() => a.checksum(path), StorageError)).code, code);
    }
    assertEquals((await assertRejects(() => a.delete("/store/d"), StorageError)).code, "EISDIR");
    assertEquals((await Deno.lstat(`${dir}/a/store/d`)).isDirectory, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("posix storage: a crash mid-write leaves only a temporary name, which is never listed", async () => {
  const { dir, a } = await twoRoots();
  try {
    const never = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(10));
        c.error(new Error("connection lost"));
      },
    });
    await assertRejects(() => a.write("/store/f", never, { size: 20 }), StorageError, "connection lost");
    assertEquals(await a.stat("/store/f"), null);
    assertEquals((await Array.fromAsync(Deno.readDir(`${dir}/a/store`))).length, 0);
    await Deno.writeTextFile(
      `${dir}/a/store/f.dynamo-part`,
      "left by a killed process, longer than the file",
    );
    assertEquals((await Array.fromAsync(a.list("/", { recursive: true }))).map((e) => e.path), ["/store"]);
    // The re-run writes over what the killed writer left, and nothing else remains.
    const bytes = new TextEncoder().encode("twenty bytes of data");
    await a.write("/store/f", new Blob([bytes]).stream(), { size: 20, adler32: adler32Hex(bytes) });
    assertEquals((await Array.fromAsync(Deno.readDir(`${dir}/a/store`))).map((e) => e.name), ["f"]);
    assertEquals(await Deno.readTextFile(`${dir}/a/store/f`), "twenty bytes of data");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("site backends: garbage and hostile URLs are clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string, string][] = [
      ["gsiftp://host/x", "disk", "is not served"],
      ["file://host/x", "disk", "absolute path (file:///path) and no host"],
      ["file://.dynamo/demo/sites/T2_A", "disk", "absolute path (file:///path) and no host"],
      ["file:///does/not/exist", "disk", "ENOENT"],
      [`file://${dir}?stage_seconds=1`, "disk", "only tape"],
      [`file://${dir}?rm=1`, "mss", "unknown tape parameter"],
      [`file://${dir}?stage_seconds=-1`, "mss", "non-negative"],
      ["root://", "disk", "root://host:port//path"],
      ["root://h:99999//x", "disk", "port out of range"],
      ["root://h:1094//a/../b", "disk", "not allowed"],
    ];
    for (const [backend, storageType, message] of cases) {
      await assertRejects(
        () => openSiteStorage({ name: "T2_X", backend, storageType }, Date.now),
        StorageError,
        message,
      );
    }
    assertEquals(
      (await openSiteStorage({ name: "T2_X", backend: `file://${dir}`, storageType: "disk" }, Date.now)).kind,
      "posix",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("posix storage: a copy between file systems of different kinds (tmpfs to disk) is verified and placed", async () => {
  const shm = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "dynamo-posix-" });
  const disk = await Deno.makeTempDir({ prefix: "dynamo-posix-" });
  try {
    const [from, to] = [await PosixStorage.open(shm), await PosixStorage.open(disk)];
    const bytes = new Uint8Array(300_001).map((_, i) => (i * 7919) & 255);
    await from.write("/s/f", ReadableStream.from([bytes]), {
      size: bytes.length,
      adler32: adler32Hex(bytes),
    });
    await to.copyFrom(from, "/s/f", "/d/f", { size: bytes.length, adler32: adler32Hex(bytes) });
    assertEquals(await Deno.readFile(`${disk}/d/f`), bytes);
    const e = await assertRejects(
      () => to.copyFrom(from, "/s/f", "/d/g", { size: bytes.length, adler32: "00000001" }),
      StorageError,
    );
    assertEquals(e.code, "ECHECKSUM");
    assertEquals((await Array.fromAsync(Deno.readDir(`${disk}/d`))).map((x) => x.name), ["f"]);
  } finally {
    await Deno.remove(shm, { recursive: true });
    await Deno.remove(disk, { recursive: true });
  }
});

Deno.test("posix storage: a copy of a source shorter or longer than the catalogue says is refused and never placed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-posix-" });
  try {
    const site = await PosixStorage.open(dir);
    // Several read pieces long, so the sum runs over more than one buffer.
    const bytes = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => (i * 31 + (i >> 12)) & 255);
    await Deno.mkdir(`${dir}/src`);
    await Deno.writeFile(`${dir}/src/f`, bytes);
    const expect = { size: bytes.length, adler32: adler32Hex(bytes) };
    await site.copyFrom(site, "/src/f", "/dst/ok", expect);
    assertEquals(await Deno.readFile(`${dir}/dst/ok`), bytes);
    await Deno.truncate(`${dir}/src/f`, bytes.length - 1); // truncated at the source
    assertEquals(
      (await assertRejects(() => site.copyFrom(site, "/src/f", "/dst/short", expect), StorageError)).code,
      "ESIZE",
    );
    await Deno.writeFile(`${dir}/src/f`, new Uint8Array([...bytes, 0])); // one byte too many
    assertEquals(
      (await assertRejects(() => site.copyFrom(site, "/src/f", "/dst/long", expect), StorageError)).code,
      "ESIZE",
    );
    // Same length, one byte changed: only the checksum can tell.
    const changed = bytes.slice();
    changed[2 * (1 << 20) + 5]! ^= 1;
    await Deno.writeFile(`${dir}/src/f`, changed);
    assertEquals(
      (await assertRejects(() => site.copyFrom(site, "/src/f", "/dst/ok", expect), StorageError)).code,
      "ECHECKSUM",
    );
    // Nothing but the good copy, which the failed rewrite left as it was.
    assertEquals((await Array.fromAsync(Deno.readDir(`${dir}/dst`))).map((e) => e.name), ["ok"]);
    assertEquals(await Deno.readFile(`${dir}/dst/ok`), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
