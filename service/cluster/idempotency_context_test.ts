import { assertEquals } from "../../tests/helpers/assert.ts";
import { currentIdempotencyKey, withIdempotencyKey } from "./idempotency_context.ts";

Deno.test("a write's key is seen while it is answered, not by work it started that runs on afterwards", async () => {
  let release!: () => void;
  const later = new Promise<void>((r) => release = r);
  let seenLater: string | undefined = "unset";
  let background!: Promise<void>;
  const seenDuring = await withIdempotencyKey("k1", async () => {
    // As an actor woken by the write: its loop inherits the write's async context.
    background = (async () => {
      await later;
      seenLater = currentIdempotencyKey();
    })();
    await Promise.resolve();
    return currentIdempotencyKey();
  });
  assertEquals(seenDuring, "k1");
  release();
  await background;
  assertEquals(seenLater, undefined);
  assertEquals(currentIdempotencyKey(), undefined);
});

Deno.test("the key's scope closes also when the write throws", async () => {
  let release!: () => void;
  const later = new Promise<void>((r) => release = r);
  let background!: Promise<string | undefined>;
  const failed = await withIdempotencyKey("k2", () => {
    background = later.then(() => currentIdempotencyKey());
    throw new Error("boom");
  }).catch((e) => (e as Error).message);
  assertEquals(failed, "boom");
  release();
  assertEquals(await background, undefined);
});
