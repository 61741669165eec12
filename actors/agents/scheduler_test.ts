import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { ActorSystem, ask, TestClock } from "../runtime/mod.ts";
import type { ActorRef } from "../runtime/mod.ts";
import { parseSequenceFile } from "../../policies/scheduler/sequence_file.ts";
import { SqlSchedulerStore } from "../../adapters/db/scheduler_store.ts";
import { SqlAppLockStore } from "../../adapters/db/app_lock_store.ts";
import type { Database } from "../../adapters/db/database.ts";
import {
  type ApplicationRunner,
  scheduler,
  type SchedulerMsg,
  type SchedulerReply,
  type SequenceView,
} from "./scheduler.ts";

/**
 * Applications whose runs the test ends by hand: the scheduler's decisions
 * (order, one writer, locks, failures, WAIT) are what is checked, against a
 * real database.
 */
class Apps {
  readonly started: string[] = [];
  readonly #pending = new Map<string, PromiseWithResolvers<string>[]>();
  readonly aborted: string[] = [];

  runner(name: string): ApplicationRunner {
    return {
      lockName: name,
      run: (args, signal) => {
        const label = [name, ...args].join(" ");
        this.started.push(label);
        const p = Promise.withResolvers<string>();
        signal.addEventListener("abort", () => {
          this.aborted.push(label);
          p.reject(signal.reason);
        });
        this.#pending.set(label, [...(this.#pending.get(label) ?? []), p]);
        return p.promise;
      },
    };
  }

  /** Ends the oldest run of `label` (the application's title and arguments). */
  end(label: string, outcome: "done" | "failed" = "done"): void {
    const p = this.#pending.get(label)?.shift();
    assert(p, `no run of ${label} is pending`);
    const name = label.split(" ")[0];
    if (outcome === "done") p.resolve(`${name} ok`);
    else p.reject(new Error(`${name} broke`));
  }
}

const FILE = `
<detox> = $(DYNAMO_BASE)/exec/detox
<dealer> = $(DYNAMO_BASE)/exec/dealer
{report} = $(DYNAMO_BASE)/exec/report
[SEQUENCE main]
& <detox> --policy Physics.txt
| {report}
^ <dealer>
WAIT 600
[SEQUENCE side]
| {report} --side
WAIT 60*5
`;

async function start(
  db: Database,
  text = FILE,
  apps = new Apps(),
  clock = new TestClock(Date.UTC(2026, 10, 1)),
  inventoryReady?: Promise<void>,
) {
  const system = new ActorSystem({ clock, logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }) });
  const file = parseSequenceFile(text, "test.seq");
  const store = new SqlSchedulerStore(db);
  const appLocks = new SqlAppLockStore(db);
  const ref = system.spawn<SchedulerMsg>({
    id: "scheduler",
    restart: "permanent",
    behavior: () =>
      scheduler({
        file,
        store,
        appLocks,
        resolve: (app) => app.title === "missing" ? null : apps.runner(app.title),
        tickMs: 10_000,
        retryDelayMs: 30_000,
        defaultTimeoutMs: 3600_000,
        ...(inventoryReady ? { inventoryReady } : {}),
      }),
  });
  const settle = () => system.runUntilIdle();
  await settle();
  const list = () =>
    ask<SchedulerMsg, SequenceView[]>(system, ref, (replyTo) => ({ type: "list", replyTo }), {
      timeoutMs: 1000,
    });
  const status = async () => Object.fromEntries((await list()).map((s) => [s.name, s.status]));
  const askReply = <T>(make: (replyTo: ActorRef<SchedulerReply<T>>) => SchedulerMsg) =>
    ask<SchedulerMsg, SchedulerReply<T>>(system, ref, make, { timeoutMs: 1000 });
  return { system, clock, apps, ref, store, appLocks, settle, list, status, askReply };
}

async function end(s: Awaited<ReturnType<typeof start>>, name: string, outcome: "done" | "failed" = "done") {
  s.apps.end(name, outcome);
  await s.settle();
}

dbTest(
  "sequences run their steps in order, readers beside the writer, and WAIT waits on the clock",
  async ({ db }) => {
    const s = await start(db);
    try {
      assertEquals(s.apps.started, ["detox --policy Physics.txt", "report --side"]);
      assertEquals(await s.status(), { main: "running detox", side: "running report" });
      await end(s, "report --side"); // then WAIT 300 s
      assertEquals((await s.status()).side, "waiting");
      await end(s, "detox --policy Physics.txt");
      assertEquals(s.apps.started.at(-1), "report");
      await end(s, "report");
      await end(s, "dealer");
      assertEquals((await s.status()).main, "waiting");
      await s.clock.advance(299_000);
      await s.settle();
      assertEquals(s.apps.started.length, 4, "nothing before the WAIT is over");
      await s.clock.advance(1_000);
      await s.settle();
      assertEquals(s.apps.started.at(-1), "report --side", "side starts again after 300 s");
      await s.clock.advance(300_000);
      await s.settle();
      assertEquals(
        s.apps.started.at(-1),
        "detox --policy Physics.txt",
        "main rotates to its first step after 600 s",
      );
      const runs = await s.store.runs(10);
      assertEquals(
        runs.filter((r) => r.status === "done").map((r) => r.title).sort(),
        ["dealer", "detox", "report", "report"],
      );
    } finally {
      await s.system.shutdown();
    }
  },
);

dbTest(
  "only one application that writes runs at a time; the other waits as 'writer busy'",
  async ({ db }) => {
    const s = await start(
      db,
      `<detox> = /x/detox
<dealer> = /x/dealer
[SEQUENCE a]
| <detox>
[SEQUENCE b]
| <dealer>
`,
    );
    try {
      assertEquals(s.apps.started, ["detox"]);
      assertEquals(await s.status(), { a: "running detox", b: "writer busy" });
      await end(s, "detox");
      // b's dealer took the writer as soon as detox finished; a's next detox waits for it.
      assertEquals(s.apps.started, ["detox", "dealer"]);
      assertEquals(await s.status(), { a: "writer busy", b: "running dealer" });
    } finally {
      await s.system.shutdown();
    }
  },
);

dbTest("a failed step: & retries after the delay, ^ restarts the sequence, | goes on", async ({ db }) => {
  const s = await start(db);
  try {
    await end(s, "detox --policy Physics.txt", "failed");
    assertEquals((await s.status()).main, "waiting");
    await s.clock.advance(29_000);
    await s.settle();
    assertEquals(s.apps.started.filter((a) => a.startsWith("detox")).length, 1);
    await s.clock.advance(1_000);
    await s.settle();
    assertEquals(s.apps.started.filter((a) => a.startsWith("detox")).length, 2, "retried after 30 s");
    await end(s, "detox --policy Physics.txt");
    await end(s, "report", "failed"); // | : goes on to the dealer
    assertEquals((await s.status()).main, "running dealer");
    await end(s, "dealer", "failed"); // ^ : back to the first step, at once
    assertEquals((await s.status()).main, "running detox");
    const failed = (await s.store.runs(20)).filter((r) => r.status === "failed").map((r) => r.message);
    assertEquals(failed.sort(), ["dealer broke", "detox broke", "report broke"]);
  } finally {
    await s.system.shutdown();
  }
});

dbTest("an application lock pauses the application's steps until it is released", async ({ db }) => {
  const apps = new Apps();
  const locks = new SqlAppLockStore(db);
  await locks.lockApp({ app: "detox", user: "alice", service: null, note: "repairing T2_X", since: 0 });
  const s = await start(db, FILE, apps);
  try {
    assertEquals(apps.started, ["report --side"]);
    assertEquals((await s.status()).main, "locked by alice (repairing T2_X)");
    await s.clock.advance(10_000);
    await s.settle();
    assertEquals(apps.started, ["report --side"], "still locked at the next tick");
    await locks.unlockApp("detox", "alice");
    await s.clock.advance(10_000);
    await s.settle();
    assertEquals(apps.started.at(-1), "detox --policy Physics.txt");
  } finally {
    await s.system.shutdown();
  }
});

dbTest(
  "stop and start are kept; a restarted scheduler resumes where it was and fails the interrupted run",
  async ({ db }) => {
    const s = await start(db);
    try {
      const stopped = await s.askReply<SequenceView>((replyTo) => ({ type: "stop", name: "side", replyTo }));
      assert(!("error" in stopped) && stopped.status === "stopped");
      const unknown = await s.askReply<SequenceView>((replyTo) => ({ type: "stop", name: "nope", replyTo }));
      assertEquals(unknown, { error: 'no sequence "nope" in the sequence file' });
      await end(s, "report --side"); // side's running step finishes; side does not go on
      await end(s, "detox --policy Physics.txt"); // main moves to its report step
      assertEquals(await s.status(), { main: "running report", side: "stopped" });

      // A crash of the scheduler: the run it had going is recorded as interrupted.
      assert(s.system.kill("/scheduler", "test"));
      await s.settle();
      assertEquals(s.system.incarnationOf("/scheduler"), 2);
      const interrupted = (await s.store.runs(10)).find((r) => r.title === "report" && r.status === "failed");
      assert(interrupted?.message?.startsWith("interrupted"), JSON.stringify(interrupted));
      // main starts again at its report step (saved position); side stays stopped.
      assertEquals(await s.status(), { main: "running report", side: "stopped" });
      const started = await s.askReply<SequenceView>((replyTo) => ({ type: "start", name: "side", replyTo }));
      assert(!("error" in started) && started.status === "waiting", JSON.stringify(started));
    } finally {
      await s.system.shutdown();
    }
  },
);

dbTest(
  "applications run by hand: queued behind the writer, killed, unknown titles refused",
  async ({ db }) => {
    const s = await start(db, `<detox> = /x/detox\n<dealer> = /x/dealer\n{missing} = /x/missing\n`);
    try {
      const first = await s.askReply<{ id: number }>((replyTo) => ({
        type: "submit",
        title: "detox",
        args: ["--test-run"],
        user: "alice",
        replyTo,
      }));
      const second = await s.askReply<{ id: number }>((replyTo) => ({
        type: "submit",
        title: "dealer",
        args: [],
        user: "alice",
        replyTo,
      }));
      assert(!("error" in first) && !("error" in second));
      assertEquals(s.apps.started, ["detox --test-run"], "the dealer waits for the writer");
      const killQueued = await s.askReply<{ killed: boolean }>((replyTo) => ({
        type: "kill",
        id: second.id,
        replyTo,
      }));
      assertEquals(killQueued, { killed: true });
      const killRunning = await s.askReply<{ killed: boolean }>((replyTo) => ({
        type: "kill",
        id: first.id,
        replyTo,
      }));
      assertEquals(killRunning, { killed: true });
      await s.settle();
      assertEquals(s.apps.aborted, ["detox --test-run"]);
      const byId = new Map((await s.store.runs(10)).map((r) => [r.id, r]));
      assertEquals([byId.get(first.id)?.status, byId.get(second.id)?.status], ["killed", "killed"]);
      assertEquals(byId.get(first.id)?.user, "alice");

      const unknown = await s.askReply<{ id: number }>((replyTo) => ({
        type: "submit",
        title: "rm -rf /",
        args: [],
        user: "alice",
        replyTo,
      }));
      assert(
        "error" in unknown && unknown.error.startsWith('no application "rm -rf /"'),
        JSON.stringify(unknown),
      );
      const missing = await s.askReply<{ id: number }>((replyTo) => ({
        type: "submit",
        title: "missing",
        args: [],
        user: null,
        replyTo,
      }));
      assert(!("error" in missing));
      await s.settle();
      assertEquals((await s.store.runs(1))[0]?.status, "notfound");
      const gone = await s.askReply<{ killed: boolean }>((replyTo) => ({ type: "kill", id: 999, replyTo }));
      assertEquals(gone, { error: "application run 999 is not queued or running" });
    } finally {
      await s.system.shutdown();
    }
  },
);

dbTest("a step that outlives its [hours] is aborted and handled as a failure", async ({ db }) => {
  const s = await start(db, `<detox> = /x/detox\n[SEQUENCE t]\n| [1] <detox>\nWAIT 60\n`);
  try {
    await s.clock.advance(3600_000);
    await s.settle();
    assertEquals(s.apps.aborted, ["detox"]);
    const run = (await s.store.runs(1))[0]!;
    assertEquals([run.status, run.message], ["failed", "timed out"]);
  } finally {
    await s.system.shutdown();
  }
});

dbTest(
  "nothing starts before the inventory is loaded; the first steps start as soon as it is",
  async ({ db }) => {
    const loaded = Promise.withResolvers<void>();
    const s = await start(db, FILE, new Apps(), undefined, loaded.promise);
    try {
      await s.clock.advance(60_000);
      await s.settle();
      assertEquals(s.apps.started, []);
      assertEquals((await s.status()).main, "waiting for the inventory to load");
      loaded.resolve();
      await s.settle();
      assertEquals(s.apps.started, ["detox --policy Physics.txt", "report --side"]);
    } finally {
      await s.system.shutdown();
    }
  },
);
