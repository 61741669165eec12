import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { ask, AskTimeoutError } from "./ask.ts";
import { ActorSystem } from "./system.ts";
import { TestClock } from "./test_clock.ts";
import type { ActorRef, Behavior, ChildSpec, SupervisionOptions } from "./types.ts";

type CounterMsg =
  | { type: "add"; n: number }
  | { type: "get"; replyTo: ActorRef<number> }
  | { type: "crash" }
  | { type: "stop" };

/** A counter that records its lifecycle into `log`. */
function counter(name: string, log: string[]): Behavior<CounterMsg, number> {
  return {
    init: () => {
      log.push(`init ${name}`);
      return 0;
    },
    receive: (n, msg, ctx) => {
      switch (msg.type) {
        case "add":
          return n + msg.n;
        case "get":
          msg.replyTo.tell(n);
          return n;
        case "crash":
          throw new Error(`${name} crashed`);
        case "stop":
          ctx.stopSelf();
          return n;
      }
    },
    onStop: (_n, _ctx, reason) => {
      log.push(`stop ${name} ${reason.kind}`);
    },
    onRestart: () => {
      log.push(`restart ${name}`);
    },
  };
}

function newSystem(clock = new TestClock()) {
  return new ActorSystem({ clock, logger: () => silentLogger });
}

const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

function get(system: ActorSystem, ref: ActorRef<CounterMsg>): Promise<number> {
  return ask<CounterMsg, number>(system, ref, (replyTo) => ({ type: "get", replyTo }), { timeoutMs: 1000 });
}

Deno.test("messages are handled one at a time in FIFO order and state threads through", async () => {
  const system = newSystem();
  const seen: number[] = [];
  const ref = system.spawn<number>({
    id: "fifo",
    restart: "permanent",
    behavior: {
      init: () => 0,
      receive: async (count, n) => {
        // An async handler settles before the next message starts.
        await Promise.resolve();
        seen.push(n);
        return count + 1;
      },
    },
  });
  for (let i = 0; i < 50; i++) ref.tell(i);
  await system.runUntilIdle();
  assertEquals(seen, Array.from({ length: 50 }, (_, i) => i));
  await system.shutdown();
});

Deno.test("ask resolves with the reply; a stable address reaches the actor", async () => {
  const system = newSystem();
  const ref = system.spawn({ id: "c", restart: "permanent", behavior: counter("c", []) });
  ref.tell({ type: "add", n: 5 });
  assertEquals(await get(system, ref), 5);
  assertEquals(ref.address, "/c");
  assertEquals(await get(system, system.refFor<CounterMsg>("/c")), 5);
  await system.shutdown();
});

Deno.test("ask times out on the injected clock with a typed error", async () => {
  const clock = new TestClock();
  const system = newSystem(clock);
  const ref = system.spawn<CounterMsg>({
    id: "mute",
    restart: "permanent",
    behavior: { init: () => 0, receive: (s) => s }, // never replies
  });
  const pending = ask<CounterMsg, number>(system, ref, (replyTo) => ({ type: "get", replyTo }), {
    timeoutMs: 250,
  });
  await system.runUntilIdle();
  await clock.advance(249);
  let settled = false;
  pending.then(() => settled = true, () => settled = true);
  await Promise.resolve();
  assertEquals(settled, false);
  await clock.advance(1);
  const error = await assertRejects(() => pending, AskTimeoutError);
  assertEquals(error.target, "/mute");
  assertEquals(error.timeoutMs, 250);
  await system.shutdown();
});

Deno.test("ask is rejected by an AbortSignal", async () => {
  const system = newSystem();
  const ref = system.spawn<CounterMsg>({
    id: "mute",
    restart: "permanent",
    behavior: { init: () => 0, receive: (s) => s },
  });
  const controller = new AbortController();
  const pending = ask<CounterMsg, number>(system, ref, (replyTo) => ({ type: "get", replyTo }), {
    timeoutMs: 10_000,
    signal: controller.signal,
  });
  controller.abort(new Error("caller gave up"));
  await assertRejects(() => pending, Error, "caller gave up");
  await system.shutdown();
});

Deno.test("ask reply addresses come from the system's injected IdGen; a late reply names its ask", async () => {
  const made: string[] = [];
  const ids = {
    next(prefix = "id") {
      made.push(prefix);
      return `${prefix}-x${made.length}`;
    },
  };
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silentLogger, ids });
  let replyTo: ActorRef<number> | null = null;
  const ref = system.spawn<CounterMsg>({
    id: "echo",
    restart: "permanent",
    behavior: {
      init: () => 0,
      receive: (s, msg) => {
        if (msg.type === "get") {
          replyTo = msg.replyTo;
          msg.replyTo.tell(1);
        }
        return s;
      },
    },
  });
  assertEquals(await get(system, ref), 1);
  assertEquals(replyTo!.address, "/temp/ask-x1");
  replyTo!.tell(2); // answered already
  assertEquals(system.deadLetters.recent.at(-1), {
    recipient: "/temp/ask-x1",
    msg: 2,
    reason: "ask already completed",
  });
  assertEquals(await get(system, ref), 1);
  assertEquals([made, replyTo!.address], [["/temp/ask", "/temp/ask"], "/temp/ask-x2"]);
  await system.shutdown();
});

Deno.test("a full mailbox with the reject policy sends new messages to dead letters", async () => {
  const system = newSystem();
  const { promise: gate, resolve: release } = Promise.withResolvers<void>();
  const { promise: started, resolve: markStarted } = Promise.withResolvers<void>();
  const handled: number[] = [];
  const ref = system.spawn<number>({
    id: "slow",
    restart: "permanent",
    mailbox: { capacity: 3, overflow: "reject" },
    behavior: {
      init: () => null,
      receive: async (s, n) => {
        if (n === 0) {
          markStarted();
          await gate;
        }
        handled.push(n);
        return s;
      },
    },
  });
  ref.tell(0);
  await started; // message 0 is now being handled
  for (let i = 1; i <= 5; i++) ref.tell(i);
  assertEquals(system.deadLetters.count, 2);
  assertEquals(system.deadLetters.recent.map((d) => d.msg), [4, 5]);
  assertEquals(system.deadLetters.recent[0]?.reason, "mailbox full");
  release();
  await system.runUntilIdle();
  assertEquals(handled, [0, 1, 2, 3]);
  await system.shutdown();
});

Deno.test("a full mailbox with drop_oldest evicts the oldest queued message", async () => {
  const system = newSystem();
  const { promise: gate, resolve: release } = Promise.withResolvers<void>();
  const { promise: started, resolve: markStarted } = Promise.withResolvers<void>();
  const handled: number[] = [];
  const ref = system.spawn<number>({
    id: "ticks",
    restart: "permanent",
    mailbox: { capacity: 2, overflow: "drop_oldest" },
    behavior: {
      init: () => null,
      receive: async (s, n) => {
        if (n === 0) {
          markStarted();
          await gate;
        }
        handled.push(n);
        return s;
      },
    },
  });
  ref.tell(0);
  await started;
  for (let i = 1; i <= 4; i++) ref.tell(i);
  assertEquals(system.deadLetters.recent.map((d) => d.msg), [1, 2]);
  release();
  await system.runUntilIdle();
  assertEquals(handled, [0, 3, 4]);
  await system.shutdown();
});

Deno.test("stop takes the priority lane: queued user messages go to dead letters", async () => {
  const system = newSystem();
  const log: string[] = [];
  const { promise: gate, resolve: release } = Promise.withResolvers<void>();
  const { promise: started, resolve: markStarted } = Promise.withResolvers<void>();
  const handled: number[] = [];
  const ref = system.spawn<number>({
    id: "busy",
    restart: "permanent",
    behavior: {
      init: () => null,
      receive: async (s, n) => {
        if (n === 0) {
          markStarted();
          await gate;
        }
        handled.push(n);
        return s;
      },
      onStop: (_s, _c, reason) => {
        log.push(reason.kind);
      },
    },
  });
  ref.tell(0);
  await started;
  ref.tell(1);
  ref.tell(2);
  const stopping = system.stop(ref);
  release();
  await stopping;
  assertEquals(handled, [0]);
  assertEquals(log, ["shutdown"]);
  assertEquals(system.deadLetters.recent.map((d) => [d.msg, d.reason]), [[1, "stopped"], [2, "stopped"]]);
  ref.tell(3);
  assertEquals(system.deadLetters.recent.at(-1), { recipient: "/busy", msg: 3, reason: "no such actor" });
  await system.shutdown();
});

Deno.test("keyed timers: single, periodic, replaced by key, cancelled", async () => {
  const clock = new TestClock();
  const system = newSystem(clock);
  const got: string[] = [];
  type M = { t: "arm" } | { t: "tick"; label: string } | { t: "cancel" };
  const ref = system.spawn<M>({
    id: "timers",
    restart: "permanent",
    behavior: {
      init: () => null,
      receive: (s, msg, ctx) => {
        switch (msg.t) {
          case "arm":
            ctx.timers.startSingle("once", 100, { t: "tick", label: "first" });
            ctx.timers.startSingle("once", 150, { t: "tick", label: "replaced" });
            ctx.timers.startPeriodic("every", 40, { t: "tick", label: "periodic" });
            return s;
          case "tick":
            got.push(`${clock.now() - start}:${msg.label}`);
            return s;
          case "cancel":
            ctx.timers.cancel("every");
            return s;
        }
      },
    },
  });
  const start = clock.now();
  ref.tell({ t: "arm" });
  await system.runUntilIdle();
  await clock.advance(160);
  await system.runUntilIdle();
  ref.tell({ t: "cancel" });
  await system.runUntilIdle();
  await clock.advance(200);
  await system.runUntilIdle();
  assertEquals(got, ["40:periodic", "80:periodic", "120:periodic", "150:replaced", "160:periodic"]);
  await system.shutdown();
});

Deno.test("timers of a crashed incarnation are cancelled on restart", async () => {
  const clock = new TestClock();
  const system = newSystem(clock);
  const got: string[] = [];
  type M = { t: "arm" } | { t: "tick" } | { t: "crash" };
  const ref = system.spawn<M>({
    id: "t",
    restart: "permanent",
    behavior: {
      init: () => null,
      receive: (s, msg, ctx) => {
        if (msg.t === "arm") ctx.timers.startSingle("k", 100, { t: "tick" });
        if (msg.t === "tick") got.push(`tick in incarnation ${ctx.incarnation}`);
        if (msg.t === "crash") throw new Error("boom");
        return s;
      },
    },
  });
  ref.tell({ t: "arm" });
  ref.tell({ t: "crash" });
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/t"), 2);
  await clock.advance(500);
  await system.runUntilIdle();
  assertEquals(got, []);
  assertEquals(clock.pendingTimers, 0);
  await system.shutdown();
});

function supervisorSpec(
  id: string,
  supervision: SupervisionOptions,
  children: ChildSpec<CounterMsg>[],
): ChildSpec<never> {
  return {
    id,
    restart: "permanent",
    behavior: {
      supervision,
      init: (ctx) => {
        for (const c of children) ctx.spawn(c);
        return null;
      },
      receive: (s) => s,
    },
  };
}

const lenient: SupervisionOptions["intensity"] = { maxRestarts: 10, withinMs: 1000 };

Deno.test("one_for_one restarts the crashed child and leaves its siblings untouched", async () => {
  const system = newSystem();
  const log: string[] = [];
  system.spawn(supervisorSpec("sup", { strategy: "one_for_one", intensity: lenient }, [
    { id: "a", restart: "permanent", behavior: () => counter("a", log) },
    { id: "b", restart: "permanent", behavior: () => counter("b", log) },
    { id: "c", restart: "permanent", behavior: () => counter("c", log) },
  ]));
  await system.runUntilIdle();
  const a = system.refFor<CounterMsg>("/sup/a");
  const b = system.refFor<CounterMsg>("/sup/b");
  a.tell({ type: "add", n: 1 });
  b.tell({ type: "add", n: 2 });
  b.tell({ type: "crash" });
  b.tell({ type: "add", n: 40 }); // kept in the mailbox across the restart
  await system.runUntilIdle();
  assertEquals(log, ["init a", "init b", "init c", "stop b failure", "restart b", "init b"]);
  assertEquals(await get(system, a), 1);
  assertEquals(await get(system, b), 40);
  assertEquals(system.incarnationOf("/sup/a"), 1);
  assertEquals(system.incarnationOf("/sup/b"), 2);
  assertEquals(system.incarnationOf("/sup/c"), 1);
  await system.shutdown();
});

Deno.test("one_for_all restarts every child after one crashes", async () => {
  const system = newSystem();
  const log: string[] = [];
  system.spawn(supervisorSpec("sup", { strategy: "one_for_all", intensity: lenient }, [
    { id: "a", restart: "permanent", behavior: () => counter("a", log) },
    { id: "b", restart: "permanent", behavior: () => counter("b", log) },
    { id: "c", restart: "permanent", behavior: () => counter("c", log) },
  ]));
  await system.runUntilIdle();
  log.length = 0;
  system.refFor<CounterMsg>("/sup/b").tell({ type: "crash" });
  await system.runUntilIdle();
  assertEquals(log, [
    "stop b failure",
    "stop c restart",
    "stop a restart",
    "restart a",
    "restart b",
    "restart c",
    "init a",
    "init b",
    "init c",
  ]);
  for (const id of ["a", "b", "c"]) assertEquals(system.incarnationOf(`/sup/${id}`), 2);
  await system.shutdown();
});

Deno.test("rest_for_one restarts the crashed child and those started after it, in order", async () => {
  const system = newSystem();
  const log: string[] = [];
  system.spawn(supervisorSpec("sup", { strategy: "rest_for_one", intensity: lenient }, [
    { id: "a", restart: "permanent", behavior: () => counter("a", log) },
    { id: "b", restart: "permanent", behavior: () => counter("b", log) },
    { id: "c", restart: "permanent", behavior: () => counter("c", log) },
    { id: "d", restart: "permanent", behavior: () => counter("d", log) },
  ]));
  await system.runUntilIdle();
  log.length = 0;
  system.refFor<CounterMsg>("/sup/b").tell({ type: "crash" });
  await system.runUntilIdle();
  assertEquals(log.filter((l) => l.startsWith("stop")), [
    "stop b failure",
    "stop d restart",
    "stop c restart",
  ]);
  assertEquals(log.filter((l) => l.startsWith("init")), ["init b", "init c", "init d"]);
  assertEquals(system.incarnationOf("/sup/a"), 1);
  assertEquals(system.incarnationOf("/sup/d"), 2);
  await system.shutdown();
});

Deno.test("restart types: permanent, transient and temporary children", async () => {
  const system = newSystem();
  const log: string[] = [];
  system.spawn(supervisorSpec("sup", { strategy: "one_for_one", intensity: lenient }, [
    { id: "perm", restart: "permanent", behavior: () => counter("perm", log) },
    { id: "trans", restart: "transient", behavior: () => counter("trans", log) },
    { id: "temp", restart: "temporary", behavior: () => counter("temp", log) },
    { id: "trans2", restart: "transient", behavior: () => counter("trans2", log) },
  ]));
  await system.runUntilIdle();
  // A normal exit: permanent comes back, transient does not.
  system.refFor<CounterMsg>("/sup/perm").tell({ type: "stop" });
  system.refFor<CounterMsg>("/sup/trans").tell({ type: "stop" });
  // A crash: transient comes back, temporary does not.
  system.refFor<CounterMsg>("/sup/trans2").tell({ type: "crash" });
  system.refFor<CounterMsg>("/sup/temp").tell({ type: "crash" });
  await system.runUntilIdle();
  assertEquals(system.exists("/sup/perm"), true);
  assertEquals(system.incarnationOf("/sup/perm"), 2);
  assertEquals(system.exists("/sup/trans"), false);
  assertEquals(system.exists("/sup/trans2"), true);
  assertEquals(system.incarnationOf("/sup/trans2"), 2);
  assertEquals(system.exists("/sup/temp"), false);
  await system.shutdown();
});

Deno.test("intensity exceeded: children stop in reverse start order and the failure goes upward", async () => {
  const system = newSystem();
  const log: string[] = [];
  const parentFailures: string[] = [];
  const inner = supervisorSpec("inner", {
    strategy: "one_for_one",
    intensity: { maxRestarts: 2, withinMs: 10_000 },
  }, [
    { id: "a", restart: "permanent", behavior: () => counter("a", log) },
    { id: "b", restart: "permanent", behavior: () => counter("b", log) },
    { id: "c", restart: "permanent", behavior: () => counter("c", log) },
  ]);
  system.spawn<never>({
    id: "outer",
    restart: "permanent",
    behavior: {
      supervision: { strategy: "one_for_one", intensity: { maxRestarts: 0, withinMs: 1 } },
      init: (ctx) => {
        ctx.spawn(inner);
        return null;
      },
      receive: (s) => s,
      onStop: (_s, _c, reason) => {
        parentFailures.push(reason.kind);
      },
    },
  });
  system.inspection.subscribe((e) => {
    if (e.type === "escalate") log.push(`escalate ${e.address}`);
  });
  await system.runUntilIdle();
  const b = system.refFor<CounterMsg>("/outer/inner/b");
  for (let i = 0; i < 3; i++) {
    b.tell({ type: "crash" });
    await system.runUntilIdle();
  }
  const start = log.indexOf("escalate /outer/inner");
  assertEquals(log.slice(start, start + 4), [
    "escalate /outer/inner",
    "stop c shutdown",
    "stop a shutdown",
    "escalate /outer",
  ]);
  // The outer supervisor could not restart inner either, so it failed to the root and then the root gave up.
  assertEquals(parentFailures, ["failure"]);
  assert(system.fatalError === undefined, "the root allows 3 restarts, so it restarted /outer");
  assertEquals(system.incarnationOf("/outer"), 2);
  await system.shutdown();
});

Deno.test("the root giving up makes the system fatal", async () => {
  const system = new ActorSystem({
    clock: new TestClock(),
    logger: () => silentLogger,
    supervision: { strategy: "one_for_one", intensity: { maxRestarts: 1, withinMs: 10_000 } },
  });
  const ref = system.spawn({ id: "x", restart: "permanent", behavior: () => counter("x", []) });
  await system.runUntilIdle();
  ref.tell({ type: "crash" });
  await system.runUntilIdle();
  assertEquals(system.fatalError, undefined);
  ref.tell({ type: "crash" });
  await system.runUntilIdle();
  const error = await system.fatal;
  assert(error instanceof Error && error.name === "RestartIntensityExceeded");
  await system.shutdown();
});

Deno.test("exponential backoff delays restarts on the injected clock", async () => {
  const clock = new TestClock();
  const system = newSystem(clock);
  const log: string[] = [];
  system.spawn(supervisorSpec("sup", {
    strategy: "one_for_one",
    intensity: lenient,
    backoff: { initialMs: 100, maxMs: 1000, factor: 2 },
  }, [{ id: "a", restart: "permanent", behavior: () => counter("a", log) }]));
  await system.runUntilIdle();
  const a = system.refFor<CounterMsg>("/sup/a");
  a.tell({ type: "crash" });
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/sup/a"), 1);
  await clock.advance(99);
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/sup/a"), 1);
  await clock.advance(1);
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/sup/a"), 2);
  a.tell({ type: "crash" });
  await system.runUntilIdle();
  await clock.advance(199);
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/sup/a"), 2, "second restart waits 200 ms");
  await clock.advance(1);
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/sup/a"), 3);
  await system.shutdown();
});

Deno.test("a failing init is a failure and is restarted like any other", async () => {
  const system = newSystem();
  let attempts = 0;
  system.spawn(supervisorSpec("sup", { strategy: "one_for_one", intensity: lenient }, [{
    id: "flaky",
    restart: "permanent",
    behavior: () => ({
      init: () => {
        attempts += 1;
        if (attempts < 3) throw new Error("database not ready");
        return 0;
      },
      receive: (s: number) => s,
    }),
  }]));
  await system.runUntilIdle();
  assertEquals(attempts, 3);
  assertEquals(system.incarnationOf("/sup/flaky"), 3);
  await system.shutdown();
});

Deno.test("inspection events report spawn, failure, restart, stop and dead letters", async () => {
  const system = newSystem();
  const events: string[] = [];
  system.inspection.subscribe((e) => {
    events.push(`${e.type} ${"address" in e ? e.address : e.recipient}`);
  });
  const ref = system.spawn({ id: "x", restart: "permanent", behavior: () => counter("x", []) });
  await system.runUntilIdle();
  ref.tell({ type: "crash" });
  await system.runUntilIdle();
  await system.stop(ref);
  ref.tell({ type: "add", n: 1 });
  // The message it crashed on is a dead letter too (reason "crashed"), reported before the failure.
  assertEquals(events, [
    "spawn /x",
    "dead_letter /x",
    "failure /x",
    "restart /x",
    "stop /x",
    "dead_letter /x",
  ]);
  await system.shutdown();
});

Deno.test("a child that does not stop within shutdownMs is abandoned", async () => {
  const clock = new TestClock();
  const system = newSystem(clock);
  const ref = system.spawn<string>({
    id: "stuck",
    restart: "permanent",
    shutdownMs: 1000,
    behavior: {
      init: () => null,
      receive: () => {
        markStarted();
        return new Promise(() => {});
      },
    },
  });
  const { promise: started, resolve: markStarted } = Promise.withResolvers<void>();
  ref.tell("hang");
  await started;
  let stopped = false;
  const stopping = system.stop(ref).then(() => stopped = true);
  await clock.advance(999);
  assertEquals(stopped, false);
  await clock.advance(1);
  await stopping;
  assertEquals(system.exists("/stuck"), false);
});

Deno.test("kill fails the live incarnation, even in the middle of a handler; the supervisor restarts it", async () => {
  const system = newSystem();
  const log: string[] = [];
  const gate = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  type M = CounterMsg | { type: "slow" };
  system.spawn(supervisorSpec("sup", { strategy: "one_for_one", intensity: lenient }, [
    {
      id: "w",
      restart: "permanent",
      behavior: () => {
        const base = counter("w", log);
        return {
          ...base,
          receive: async (n: number, msg: M, ctx) => {
            if (msg.type !== "slow") return base.receive(n, msg, ctx);
            started.resolve();
            await gate.promise;
            log.push("slow finished");
            return n + 1000; // dropped: the incarnation that began it was killed
          },
        } as Behavior<M, number>;
      },
    },
  ]));
  await system.runUntilIdle();
  const w = system.refFor<M>("/sup/w");
  w.tell({ type: "add", n: 5 });
  w.tell({ type: "slow" });
  await started.promise;
  assert(system.kill("/sup/w", "test"), "a live actor is killed");
  gate.resolve();
  await system.runUntilIdle();
  assertEquals(system.incarnationOf("/sup/w"), 2);
  assertEquals(log.filter((l) => l.startsWith("stop") || l.startsWith("restart")), [
    "stop w failure",
    "restart w",
  ]);
  assertEquals(await get(system, w as ActorRef<CounterMsg>), 0, "the new incarnation starts from init");
  assertEquals(system.kill("/nobody"), false);
  await system.shutdown();
});

Deno.test("a stop aborts ctx.stopping in the whole subtree, so a handler waiting on a child winds down", async () => {
  const system = newSystem();
  const seen: string[] = [];
  const working = Promise.withResolvers<void>();
  type M = { type: "work"; replyTo: ActorRef<string> };
  // The child works until it is told the tree is stopping; the parent waits for it inside a handler.
  const child: Behavior<M, null> = {
    init: () => null,
    receive: async (s, msg, ctx) => {
      working.resolve();
      await new Promise<void>((resolve) => ctx.stopping.addEventListener("abort", () => resolve()));
      seen.push("child wound down");
      msg.replyTo.tell("partial");
      return s;
    },
  };
  system.spawn<{ type: "go" }>({
    id: "parent",
    restart: "permanent",
    shutdownMs: 3_600_000, // a stop that had to wait for this would never end in the test
    behavior: {
      init: (ctx) => {
        ctx.spawn({ id: "child", restart: "permanent", behavior: child });
        return null;
      },
      receive: async (s, _msg, ctx) => {
        const answer = await ask<M, string>(
          system,
          system.refFor<M>("/parent/child"),
          (replyTo) => ({ type: "work", replyTo }),
          { timeoutMs: 3_600_000 },
        );
        seen.push(`parent got ${answer}, stopping=${ctx.stopping.aborted}`);
        return s;
      },
    },
  }).tell({ type: "go" });
  await working.promise;
  assertEquals(seen, [], "both are busy");
  await system.shutdown();
  assertEquals(seen, ["child wound down", "parent got partial, stopping=true"]);
});

Deno.test("the message an actor crashed on goes to dead letters with the reason crashed and the error", async () => {
  const system = newSystem();
  const log: string[] = [];
  const ref = system.spawn({ id: "c", restart: "permanent", behavior: () => counter("c", log) });
  ref.tell({ type: "add", n: 2 });
  ref.tell({ type: "crash" });
  ref.tell({ type: "add", n: 3 });
  await system.runUntilIdle();
  assertEquals(system.deadLetters.recent, [
    { recipient: "/c", msg: { type: "crash" }, reason: "crashed", error: "Error: c crashed" },
  ]);
  // The next incarnation handles what came after, not the message it crashed on.
  assertEquals(
    await ask<CounterMsg, number>(system, ref, (replyTo) => ({ type: "get", replyTo }), { timeoutMs: 1000 }),
    3,
  );
  await system.shutdown();
});

Deno.test("stopping leaves no timer behind: the stop timeout is cleared once the actors stopped", async () => {
  // The stop timeout's timer, left running, kept a process that had shut everything down alive for
  // up to shutdownMs (bench/inject.ts exited 12–30 s after its last line).
  const clock = new TestClock();
  const system = newSystem(clock);
  const log: string[] = [];
  system.spawn(supervisorSpec("sup", { strategy: "one_for_one", intensity: lenient }, [
    { id: "w", restart: "permanent", shutdownMs: 30_000, behavior: () => counter("w", log) },
  ]));
  const alone = system.spawn({ id: "alone", restart: "permanent", behavior: () => counter("alone", log) });
  alone.tell({ type: "add", n: 1 });
  await system.stop(alone);
  assertEquals(system.exists("/alone"), false);
  assertEquals(clock.pendingTimers, 0);
  await system.shutdown();
  assert(log.includes("stop w shutdown"), log.join(", "));
  assertEquals(clock.pendingTimers, 0);
});
