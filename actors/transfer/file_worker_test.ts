import { assertEquals } from "../../tests/helpers/assert.ts";
import { type ActorRef, ActorSystem, TestClock } from "../runtime/mod.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { siteActor, type SiteAdmission, type SiteMsg, type SiteOccupancy } from "../site/site_actor.ts";
import { type DrainReply, type FileWorkerMsg, transferActor } from "./file_worker.ts";
import type { FileTaskDeps } from "./file_task.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("a transfer actor waiting for site admission is not blocked, and its slots come back after a crash", async () => {
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silent });
  const snapshot = () => ({ site: () => ({ status: "ready" }) }) as unknown as Snapshot;
  const site = (name: string) =>
    system.spawn<SiteMsg>({
      id: `site:${name}`,
      restart: "permanent",
      behavior: siteActor({ site: name, parallelism: 1, snapshot }),
    });
  const [a, b] = [site("T2_A"), site("T2_B")];
  // Another link holds T2_B's only slot.
  const other: ActorRef<SiteAdmission> = { address: "/other", tell: () => {} };
  b.tell({ type: "acquire", holder: other, ticket: "o" });
  let claims = 0;
  const tasks = {
    store: {
      claim: () => {
        claims++;
        return Promise.resolve([]);
      },
      recoverTasks: () => Promise.resolve(0),
    },
    nowMs: () => 0,
  } as unknown as FileTaskDeps;
  const link = system.spawn<FileWorkerMsg>({
    id: "link:T2_A:T2_B",
    restart: "permanent",
    behavior: () =>
      transferActor("T2_A", "T2_B", {
        tasks,
        workerPrefix: "n:",
        lanes: 2,
        batch: 1,
        leaseMs: 1,
        sites: [a, b],
      }),
  });
  const replies: DrainReply[] = [];
  link.tell({ type: "drain", replyTo: { address: "/t", tell: (r) => replies.push(r) } });
  link.tell({ type: "drain", replyTo: { address: "/t2", tell: (r) => replies.push(r) } });
  // Idle while waiting: no handler is parked on an await (it would keep the system busy).
  await system.runUntilIdle();
  assertEquals([replies, claims], [[], 0]);
  const occupancy = async (ref: ActorRef<SiteMsg>) => {
    let o: SiteOccupancy | undefined;
    ref.tell({ type: "status", replyTo: { address: "probe", tell: (x) => o = x } });
    await system.runUntilIdle();
    return o!;
  };
  assertEquals((await occupancy(a)).holders, { [link.address]: 1 }, "one lane holds T2_A, waits for T2_B");
  assertEquals((await occupancy(b)).waiting, 1);
  b.tell({ type: "release", holder: "/other", ticket: "o" });
  await system.runUntilIdle();
  for (let i = 0; i < 20 && replies.length < 2; i++) await system.runUntilIdle();
  assertEquals(
    replies,
    [{ done: 0, failed: 0, staging: 0 }, { done: 0, failed: 0, staging: 0 }],
    "both drains answered",
  );
  assertEquals([(await occupancy(a)).running, (await occupancy(b)).running], [0, 0], "every slot given back");
  await system.shutdown();
});

Deno.test("a transfer actor killed while holding and waiting for slots gets none left behind", async () => {
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silent });
  const snapshot = () => ({ site: () => ({ status: "ready" }) }) as unknown as Snapshot;
  const tasks = {
    store: { claim: () => Promise.resolve([]), recoverTasks: () => Promise.resolve(0) },
    nowMs: () => 0,
  } as unknown as FileTaskDeps;
  const refs: { a?: ActorRef<SiteMsg>; b?: ActorRef<SiteMsg>; link?: ActorRef<FileWorkerMsg> } = {};
  system.spawn<never>({
    id: "fileops",
    restart: "permanent",
    behavior: {
      init(ctx) {
        refs.a = ctx.spawn<SiteMsg>({
          id: "site:T2_A",
          restart: "permanent",
          behavior: siteActor({ site: "T2_A", parallelism: 1, snapshot }),
        });
        refs.b = ctx.spawn<SiteMsg>({
          id: "site:T2_B",
          restart: "permanent",
          behavior: siteActor({ site: "T2_B", parallelism: 1, snapshot }),
        });
        refs.link = ctx.spawn<FileWorkerMsg>({
          id: "link:T2_A:T2_B",
          restart: "permanent",
          behavior: () =>
            transferActor("T2_A", "T2_B", {
              tasks,
              workerPrefix: "n:",
              lanes: 1,
              batch: 1,
              leaseMs: 1,
              sites: [refs.a!, refs.b!],
            }),
        });
        return null;
      },
      receive: (s) => s,
    },
  });
  await system.runUntilIdle();
  const { a, b, link } = refs as Required<typeof refs>;
  b.tell({ type: "acquire", holder: { address: "/other", tell: () => {} }, ticket: "o" });
  const replies: DrainReply[] = [];
  link.tell({ type: "drain", replyTo: { address: "/t", tell: (r) => replies.push(r) } });
  await system.runUntilIdle();
  const occupancy = async (ref: ActorRef<SiteMsg>) => {
    let o: SiteOccupancy | undefined;
    ref.tell({ type: "status", replyTo: { address: "probe", tell: (x) => o = x } });
    await system.runUntilIdle();
    return o!;
  };
  assertEquals([(await occupancy(a)).running, (await occupancy(b)).waiting], [1, 1]);
  system.kill(link.address, "fault injection");
  await system.runUntilIdle();
  assertEquals(replies.length, 1);
  assertEquals("error" in replies[0]!, true, "the waiting drain hears of the crash");
  const [oa, ob] = [await occupancy(a), await occupancy(b)];
  assertEquals(
    [oa.running, oa.holders, ob.running, ob.waiting],
    [0, {}, 1, 0],
    "only the other holder's slot",
  );
  await system.shutdown();
});

Deno.test("a transfer actor waiting for a site that goes down is refused at once and its drain says why", async () => {
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silent });
  const status: Record<string, string> = { T2_A: "ready", T2_B: "ready" };
  const snapshot = () => ({ site: (name: string) => ({ status: status[name] }) }) as unknown as Snapshot;
  const site = (name: string) =>
    system.spawn<SiteMsg>({
      id: name,
      restart: "permanent",
      behavior: siteActor({ site: name, parallelism: 1, snapshot }),
    });
  const [a, b] = [site("T2_A"), site("T2_B")];
  b.tell({ type: "acquire", holder: { address: "/other", tell: () => {} }, ticket: "o", use: "delete" });
  let claims = 0;
  const tasks = {
    store: {
      claim: () => {
        claims++;
        return Promise.resolve([]);
      },
      recoverTasks: () => Promise.resolve(0),
    },
    nowMs: () => 0,
  } as unknown as FileTaskDeps;
  const link = system.spawn<FileWorkerMsg>({
    id: "link:T2_A:T2_B",
    restart: "permanent",
    behavior: () =>
      transferActor("T2_A", "T2_B", {
        tasks,
        workerPrefix: "n:",
        lanes: 1,
        batch: 1,
        leaseMs: 1,
        sites: [a, b],
        uses: ["serve", "receive"],
      }),
  });
  const replies: DrainReply[] = [];
  link.tell({ type: "drain", replyTo: { address: "/t", tell: (r) => replies.push(r) } });
  await system.runUntilIdle();
  assertEquals(replies, [], "waiting for T2_B's slot");
  status.T2_B = "morgue"; // an operator's change, told by the /sites supervisor as it is committed
  b.tell({ type: "inventory" });
  await system.runUntilIdle(); // the clock never moves
  assertEquals(replies, [{ done: 0, failed: 0, staging: 0, closed: "T2_B is morgue" }]);
  assertEquals(claims, 0, "nothing was claimed for a destination that receives no copy");
  let held: SiteOccupancy | undefined;
  a.tell({ type: "status", replyTo: { address: "probe", tell: (x) => held = x } });
  await system.runUntilIdle();
  assertEquals(held!.running, 0, "the slot at the source was given back");
  await system.shutdown();
});
