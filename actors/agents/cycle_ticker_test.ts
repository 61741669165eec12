import { assertEquals } from "../../tests/helpers/assert.ts";
import { ActorSystem, TestClock } from "../runtime/mod.ts";
import { silentLogger } from "../../tests/helpers/writer.ts";
import { CycleLock, cycleTicker, TICK_MAILBOX, type TickMsg } from "./cycle_ticker.ts";

Deno.test("ticks arriving during a long cycle collapse into one; the cycle lock keeps a requested cycle from overlapping", async () => {
  const clock = new TestClock(0);
  const system = new ActorSystem({ clock, logger: () => silentLogger });
  const lock = new CycleLock();
  const gate = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const log: string[] = [];
  let cycles = 0;
  system.spawn<TickMsg>({
    id: "ticks",
    restart: "permanent",
    mailbox: TICK_MAILBOX,
    behavior: () =>
      cycleTicker({
        intervalMs: 1000,
        lock,
        cycle: async () => {
          const n = ++cycles;
          log.push(`tick cycle ${n} start`);
          if (n === 1) {
            started.resolve();
            await gate.promise;
          }
          log.push(`tick cycle ${n} end`);
        },
      }),
  });
  await system.runUntilIdle();
  await clock.advance(1000);
  await started.promise; // the first scheduled cycle is running and stuck
  // Ten more intervals pass: one tick waits, the older ones are dropped (dead letters, "mailbox full").
  for (let i = 0; i < 10; i++) await clock.advance(1000);
  assertEquals(system.mailboxDepth("/ticks"), 1);
  assertEquals(system.deadLetters.recent.filter((d) => d.reason === "mailbox full").length, 9);
  // A requested cycle waits for the lock rather than running beside the scheduled one.
  const requested = lock.run(() => {
    log.push("requested cycle");
    return Promise.resolve();
  });
  gate.resolve();
  await requested;
  await system.runUntilIdle();
  assertEquals(log, [
    "tick cycle 1 start",
    "tick cycle 1 end",
    "requested cycle",
    "tick cycle 2 start",
    "tick cycle 2 end",
  ]);
  assertEquals(cycles, 2);
  await system.shutdown();
});
