import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { TimerWheel } from "./timer_wheel.ts";

Deno.test("timer wheel: a key fires within one tick after its deadline, not before", () => {
  const wheel = new TimerWheel<string>({ tickMs: 1000, horizonMs: 10_000, nowMs: 0 });
  wheel.schedule("a", 5_000);
  wheel.schedule("b", 5_500);
  assertEquals(wheel.advance(4_999), []);
  assertEquals(wheel.advance(5_000), ["a"]);
  assertEquals(wheel.advance(5_999), []);
  assertEquals(wheel.advance(6_000), ["b"]);
  assertEquals(wheel.size, 0);
});

Deno.test("timer wheel: touching moves the deadline later; cancel removes; earlier deadlines re-file", () => {
  const wheel = new TimerWheel<string>({ tickMs: 1000, horizonMs: 10_000, nowMs: 0 });
  wheel.schedule("a", 3_000);
  wheel.schedule("b", 3_000);
  wheel.schedule("c", 9_000);
  wheel.schedule("a", 8_000); // touched
  wheel.cancel("b");
  wheel.schedule("c", 2_000); // brought forward
  assertEquals(wheel.advance(3_000), ["c"]);
  assertEquals(wheel.advance(7_999), []);
  assertEquals(wheel.advance(8_000), ["a"]);
});

Deno.test("timer wheel: deadlines beyond the horizon and clock jumps past the whole ring", () => {
  const wheel = new TimerWheel<number>({ tickMs: 100, horizonMs: 1_000, nowMs: 0 });
  wheel.schedule(1, 5_000); // five times round the ring
  for (let t = 100; t < 5_000; t += 100) assertEquals(wheel.advance(t), [], `at ${t}`);
  assertEquals(wheel.advance(5_000), [1]);
  for (let i = 0; i < 50; i++) wheel.schedule(i, 6_000 + i * 10);
  assertEquals(wheel.advance(60_000).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("timer wheel: bad options are refused", () => {
  assertThrows(() => new TimerWheel({ tickMs: 0, horizonMs: 10, nowMs: 0 }), RangeError);
});
