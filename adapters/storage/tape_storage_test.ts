import { assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { storageConformance } from "../../tests/helpers/storage_conformance.ts";
import { StorageError } from "./storage_port.ts";
import { TapeStorage } from "./tape_storage.ts";

async function tapes() {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-tape-" });
  await Deno.mkdir(`${dir}/a`);
  await Deno.mkdir(`${dir}/b`);
  const clock = { ms: 1_000_000 };
  const timing = { stageSeconds: 60, pinSeconds: 3600 };
  const a = await TapeStorage.openTape(`${dir}/a`, timing, () => clock.ms);
  const b = await TapeStorage.openTape(`${dir}/b`, timing, () => clock.ms);
  return { dir, clock, a, b };
}

Deno.test("tape storage passes the conformance suite, staging before each read", async (t) => {
  const { dir, clock, a, b } = await tapes();
  try {
    await storageConformance(t, {
      site: a,
      other: b,
      makeReadable: async (adapter, path) => {
        await adapter.stage!(path);
        clock.ms += 61_000;
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tape: a file is readable only between the stage latency and the end of its pin", async () => {
  const { dir, clock, a } = await tapes();
  try {
    const bytes = new TextEncoder().encode("raw data");
    await a.write("/store/raw/f", ReadableStream.from([bytes]), { size: bytes.length });
    const notStaged = await assertRejects(() => a.read("/store/raw/f"), StorageError);
    assertEquals(notStaged.code, "ENOTSTAGED");
    await a.stage("/store/raw/f");
    clock.ms += 59_000;
    assertEquals(await a.isStaged("/store/raw/f"), false);
    clock.ms += 1_000;
    assertEquals(await a.isStaged("/store/raw/f"), true);
    assertEquals(await new Response(await a.read("/store/raw/f")).text(), "raw data");
    clock.ms += 3_600_000;
    assertEquals(await a.isStaged("/store/raw/f"), false, "the pin expired");
    await a.stage("/store/raw/f");
    clock.ms += 60_000;
    assertEquals(await a.isStaged("/store/raw/f"), true, "a new request after expiry stages again");
    const missing = await assertRejects(() => a.stage("/store/raw/none"), StorageError);
    assertEquals(missing.code, "ENOENT");
    // The staging records are invisible and out of reach through the site namespace.
    assertEquals((await Array.fromAsync(a.list("/", { recursive: true }))).map((e) => e.path), [
      "/store",
      "/store/raw",
      "/store/raw/f",
    ]);
    await assertRejects(() => a.stat("/.staging/x"), StorageError, "reserved");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tape: bad timing is refused when the site is opened", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(
      () => TapeStorage.openTape(dir, { stageSeconds: NaN, pinSeconds: 1 }, Date.now),
      StorageError,
      "stageSeconds",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
