/**
 * The one test suite every StorageAdapter passes (posix, tape, xrootd). Each
 * case uses fresh paths, so the suite runs against one site (and a second
 * site of the same kind, for copies) that the caller set up.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { adler32Hex } from "../../adapters/storage/adler32.ts";
import { walkSite } from "../../adapters/storage/site_walker.ts";
import { treeReaderFor } from "../../adapters/storage/tree_readers.ts";
import type { ListingRecord } from "../../adapters/storage/listing_port.ts";
import {
  type StorageAdapter,
  StorageError,
  type StorageErrorCode,
} from "../../adapters/storage/storage_port.ts";

export interface ConformanceSites {
  site: StorageAdapter;
  other: StorageAdapter;
  /** Makes a file of the site readable (tape: stage it and let the latency pass). */
  makeReadable?: (adapter: StorageAdapter, path: string) => Promise<void>;
}

const encoder = new TextEncoder();

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      // Several chunks, so incremental checksumming is exercised.
      for (let i = 0; i < bytes.length; i += 1000) c.enqueue(bytes.slice(i, i + 1000));
      c.close();
    },
  });
}

function payload(n: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function put(a: StorageAdapter, path: string, bytes: Uint8Array): Promise<void> {
  await a.write(path, streamOf(bytes), { size: bytes.length, adler32: adler32Hex(bytes) });
}

async function readAll(a: StorageAdapter, path: string): Promise<Uint8Array> {
  return new Uint8Array(await new Response(await a.read(path)).arrayBuffer());
}

async function rejectsWith(code: StorageErrorCode, fn: () => Promise<unknown>): Promise<void> {
  const e = await assertRejects(fn, StorageError);
  assertEquals(e.code, code, e.message);
}

async function names(a: StorageAdapter, dir: string): Promise<string[]> {
  return (await Array.fromAsync(a.list(dir, { recursive: true }))).map((e) => e.path);
}

export async function storageConformance(t: Deno.TestContext, sites: ConformanceSites): Promise<void> {
  const { site, other } = sites;
  const readable = sites.makeReadable ?? (() => Promise.resolve());
  const run = `/conf/${crypto.randomUUID().slice(0, 8)}`;

  await t.step("a written file reads back with its size, checksum and bytes", async () => {
    const bytes = payload(70_001, 1);
    await put(site, `${run}/rt/a.root`, bytes);
    const stat = await site.stat(`${run}/rt/a.root`);
    assertEquals(stat?.size, bytes.length);
    assertEquals(stat?.isDirectory, false);
    assertEquals(await site.checksum(`${run}/rt/a.root`), adler32Hex(bytes));
    await readable(site, `${run}/rt/a.root`);
    assertEquals(await readAll(site, `${run}/rt/a.root`), bytes);
  });

  await t.step("a wrong checksum or size fails the write and leaves nothing behind", async () => {
    const bytes = payload(5_000, 2);
    await rejectsWith(
      "ECHECKSUM",
      () => site.write(`${run}/bad/c.root`, streamOf(bytes), { size: bytes.length, adler32: "00000001" }),
    );
    await rejectsWith(
      "ESIZE",
      () => site.write(`${run}/bad/s.root`, streamOf(bytes), { size: bytes.length + 1 }),
    );
    assertEquals(await site.stat(`${run}/bad/c.root`), null);
    assertEquals(await site.stat(`${run}/bad/s.root`), null);
    assertEquals((await names(site, `${run}/bad`)).filter((p) => !p.endsWith("/bad")), []);
  });

  await t.step("a failed rewrite keeps the old file; a good one replaces it", async () => {
    const first = encoder.encode("first version");
    await put(site, `${run}/rw/f`, first);
    await rejectsWith(
      "ECHECKSUM",
      () => site.write(`${run}/rw/f`, streamOf(payload(20, 3)), { size: 20, adler32: "00000001" }),
    );
    assertEquals(await site.checksum(`${run}/rw/f`), adler32Hex(first));
    const second = encoder.encode("second, longer version");
    await put(site, `${run}/rw/f`, second);
    assertEquals((await site.stat(`${run}/rw/f`))?.size, second.length);
  });

  await t.step("listing is recursive with sizes; a missing directory lists empty", async () => {
    await put(site, `${run}/ls/x/1`, payload(10, 4));
    await put(site, `${run}/ls/x/y/2`, payload(20, 5));
    const files = (await Array.fromAsync(site.list(`${run}/ls`, { recursive: true }))).filter((e) =>
      !e.isDirectory
    );
    assertEquals(files.map((e) => [e.path, e.size]), [[`${run}/ls/x/1`, 10], [`${run}/ls/x/y/2`, 20]]);
    const top = await Array.fromAsync(site.list(`${run}/ls`));
    assertEquals(top.map((e) => [e.path, e.isDirectory]), [[`${run}/ls/x`, true]]);
    assertEquals(await Array.fromAsync(site.list(`${run}/nowhere`)), []);
  });

  await t.step("delete removes a file and says false when there was none", async () => {
    await put(site, `${run}/del/f`, payload(10, 6));
    assertEquals(await site.delete(`${run}/del/f`), true);
    assertEquals(await site.stat(`${run}/del/f`), null);
    assertEquals(await site.delete(`${run}/del/f`), false);
  });

  await t.step("mkdir makes parents; rmdir removes an empty directory", async () => {
    await site.mkdir(`${run}/dirs/a/b`);
    assertEquals((await site.stat(`${run}/dirs/a/b`))?.isDirectory, true);
    assertEquals(await site.rmdir(`${run}/dirs/a/b`), true);
    assertEquals(await site.rmdir(`${run}/dirs/a/b`), false);
    assertEquals(await site.stat(`${run}/dirs/a/b`), null);
  });

  await t.step("reading or checksumming a missing file is ENOENT", async () => {
    await rejectsWith("ENOENT", () => readAll(site, `${run}/missing`));
    await rejectsWith("ENOENT", () => site.checksum(`${run}/missing`));
  });

  await t.step("hostile paths are refused and change nothing", async () => {
    for (
      const bad of [
        "relative/x",
        `${run}/../../etc/x`,
        "/..",
        `${run}/a\u0000b`,
        `${run}//x`,
        `${run}/./x`,
        "",
      ]
    ) {
      await rejectsWith("EINVAL", () => put(site, bad, payload(3, 7)));
      await rejectsWith("EINVAL", () => site.stat(bad));
      await rejectsWith("EINVAL", () => site.delete(bad));
    }
    await rejectsWith("EINVAL", () => site.rmdir("/"));
  });

  await t.step("copyFrom another site of the same kind verifies and places the file", async () => {
    const bytes = payload(123_457, 8);
    await put(other, `${run}/cp/src`, bytes);
    await readable(other, `${run}/cp/src`);
    await site.copyFrom(other, `${run}/cp/src`, `${run}/cp/dst`, {
      size: bytes.length,
      adler32: adler32Hex(bytes),
    });
    assertEquals(await site.checksum(`${run}/cp/dst`), adler32Hex(bytes));
    await rejectsWith(
      "ECHECKSUM",
      () =>
        site.copyFrom(other, `${run}/cp/src`, `${run}/cp/bad`, { size: bytes.length, adler32: "0badbad0" }),
    );
    assertEquals(await site.stat(`${run}/cp/bad`), null);
    await rejectsWith("ENOENT", () => site.copyFrom(other, `${run}/cp/none`, `${run}/cp/x`, { size: 1 }));
  });

  await t.step(
    "a consistency walk lists every file with its size, in parallel, and reports empty directories",
    async () => {
      const base = `${run}/walk`;
      const expected: [string, number][] = [];
      for (let d = 0; d < 3; d++) {
        for (let s = 0; s < 2; s++) {
          for (let f = 0; f < 3; f++) {
            const path = `${base}/d${d}/s${s}/deep/f${f}`;
            await put(site, path, payload(d * 10 + s * 3 + f + 1, 9));
            expected.push([path, d * 10 + s * 3 + f + 1]);
          }
        }
      }
      await site.mkdir(`${base}/d1/empty`);
      for (const treeTimeoutMs of [600_000, 0]) { // 0: every subtree listing times out and is listed flat
        const walk = walkSite(treeReaderFor(site), {
          roots: [base, `${run}/nowhere`],
          settings: { concurrency: 3, splitDepth: 1, treeTimeoutMs, retries: 0 },
        });
        const records: ListingRecord[] = [];
        for await (const batch of walk) records.push(...batch);
        const files = new Map<string, number>();
        for (const r of records) if (r.type === "file") files.set(r.path, r.size);
        assertEquals([...files].sort(), expected.sort(), `treeTimeoutMs ${treeTimeoutMs}`);
        const empty = new Set(records.filter((r) => r.type === "dir" && r.empty === true).map((r) => r.path));
        assertEquals([...empty], [`${base}/d1/empty`]);
        assertEquals(walk.failures, []);
        assertEquals(records.filter((r) => r.type === "hostile"), []);
      }
    },
  );

  await t.step("url names the site path", () => {
    assert(site.url(`${run}/f`).endsWith(`${run}/f`), site.url(`${run}/f`));
  });
}
