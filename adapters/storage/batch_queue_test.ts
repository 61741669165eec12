import { assertEquals, assertRejects, assertThrows } from "../../tests/helpers/assert.ts";
import { BatchQueue } from "./batch_queue.ts";

/** A queue whose batches finish only when the test says so, recording what each batch held. */
function gatedQueue(maxBatch: number, maxRunning: number) {
  const batches: { key: string; items: number[]; finishedBefore: number; finish(): void }[] = [];
  let finished = 0;
  const waiting: { count: number; resolve(): void }[] = [];
  const queue = new BatchQueue<number, string>({
    maxBatch,
    maxRunning,
    run: async (key, items) => {
      const gate = Promise.withResolvers<void>();
      const finish = () => {
        finished++;
        gate.resolve();
      };
      batches.push({ key, items, finishedBefore: finished, finish });
      for (const w of waiting.filter((w) => batches.length >= w.count)) w.resolve();
      await gate.promise;
      if (items.includes(-1)) throw new Error("the batch failed");
      return items.map((i) => `${key}:${i}`);
    },
  });
  /** Resolves once `count` batches have started. */
  const started = (count: number) => {
    if (batches.length >= count) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    waiting.push({ count, resolve });
    return promise;
  };
  return { queue, batches, started };
}

Deno.test("batch queue: requests of one turn go together, per key, at most maxBatch at once", async () => {
  const { queue, batches, started } = gatedQueue(3, 4);
  const results = [1, 2, 3, 4].map((i) => queue.submit("a", i));
  const other = queue.submit("b", 9);
  await started(3);
  assertEquals(batches.map((b) => [b.key, b.items]), [["a", [1, 2, 3]], ["b", [9]], ["a", [4]]]);
  batches.forEach((b) => b.finish());
  assertEquals(await Promise.all([...results, other]), ["a:1", "a:2", "a:3", "a:4", "b:9"]);
});

Deno.test("batch queue: arrivals while maxRunning batches run wait and go together in the next", async () => {
  const { queue, batches, started } = gatedQueue(10, 1);
  const first = queue.submit("a", 1);
  await started(1);
  const later = [2, 3, 4].map((i) => queue.submit("a", i));
  batches[0]!.finish();
  assertEquals(await first, "a:1");
  await started(2);
  // The second batch started only once the first had finished, and holds every later arrival.
  assertEquals([batches[1]!.finishedBefore, batches[1]!.items], [1, [2, 3, 4]]);
  batches[1]!.finish();
  assertEquals(await Promise.all(later), ["a:2", "a:3", "a:4"]);
});

Deno.test("batch queue: a busy key goes to the back after each batch, so other keys are not starved", async () => {
  const { queue, batches, started } = gatedQueue(2, 1);
  const results = [queue.submit("a", 1)];
  await started(1);
  results.push(...[2, 3, 4, 5].map((i) => queue.submit("a", i)), queue.submit("b", 1));
  for (let i = 1; i <= 3; i++) {
    batches[i - 1]!.finish();
    await started(i + 1);
  }
  batches[3]!.finish();
  assertEquals(batches.map((b) => [b.key, b.items]), [["a", [1]], ["a", [2, 3]], ["b", [1]], ["a", [4, 5]]]);
  assertEquals(await Promise.all(results), ["a:1", "a:2", "a:3", "a:4", "a:5", "b:1"]);
});

Deno.test("batch queue: a failed batch fails its own items only, and the queue goes on", async () => {
  const { queue, batches, started } = gatedQueue(2, 2);
  const bad = [queue.submit("a", -1), queue.submit("a", 5)];
  const good = queue.submit("b", 6);
  await started(2);
  batches.forEach((b) => b.finish());
  for (const p of bad) await assertRejects(() => p, Error, "the batch failed");
  assertEquals(await good, "b:6");
  const after = queue.submit("a", 7);
  await started(3);
  batches[2]!.finish();
  assertEquals(await after, "a:7");
});

Deno.test("batch queue: a run that gives the wrong number of results fails its items; bad limits are refused", async () => {
  const queue = new BatchQueue<number, number>({
    maxBatch: 4,
    maxRunning: 1,
    run: () => Promise.resolve([1]),
  });
  const both = [queue.submit("k", 1), queue.submit("k", 2)];
  for (const p of both) await assertRejects(() => p, Error, "one result per item");
  for (const [maxBatch, maxRunning] of [[0, 1], [1, 0], [NaN, 1], [1, -1]]) {
    assertThrows(() =>
      new BatchQueue({ maxBatch: maxBatch!, maxRunning: maxRunning!, run: () => Promise.resolve([]) })
    );
  }
});
