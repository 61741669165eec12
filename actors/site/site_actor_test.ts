import { assertEquals } from "../../tests/helpers/assert.ts";
import { type ActorRef, ActorSystem, TestClock } from "../runtime/mod.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { siteActor, type SiteAdmission, type SiteMsg, type SiteOccupancy } from "./site_actor.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function siteStatus(status: { current: string }) {
  return () => ({ site: () => ({ status: status.current }) }) as unknown as Snapshot;
}

/** A holder: an address whose admissions are recorded by ticket. */
function holder(address: string) {
  const answers = new Map<string, string>();
  const ref: ActorRef<SiteAdmission> = {
    address,
    tell: (m) =>
      m.type === "site_closed"
        ? answers.set(`closed:${m.site}`, m.status)
        : answers.set(m.ticket, m.type === "admitted" ? "admitted" : `refused:${m.status}`),
  };
  return { ref, answers };
}

function start(status: { current: string }, parallelism = 2) {
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silent });
  const site = system.spawn<SiteMsg>({
    id: "site:T2_A",
    restart: "permanent",
    behavior: siteActor({ site: "T2_A", parallelism, snapshot: siteStatus(status) }),
  });
  const occupancy = async () => {
    let o: SiteOccupancy | undefined;
    site.tell({ type: "status", replyTo: { address: "probe", tell: (x) => o = x } });
    await system.runUntilIdle();
    return o!;
  };
  return { system, site, occupancy };
}

Deno.test("a site actor admits at most its parallelism by message, queues the rest in order, refuses when down", async () => {
  const status = { current: "ready" };
  const { system, site, occupancy } = start(status);
  const a = holder("/w/a");
  for (const t of ["1", "2", "3", "4"]) site.tell({ type: "acquire", holder: a.ref, ticket: t });
  await system.runUntilIdle();
  assertEquals([...a.answers], [["1", "admitted"], ["2", "admitted"]]);
  site.tell({ type: "release", holder: "/w/a", ticket: "1" });
  await system.runUntilIdle();
  assertEquals(a.answers.get("3"), "admitted", "the first waiter gets the freed slot");
  assertEquals(a.answers.get("4"), undefined);
  site.tell({ type: "release", holder: "/w/a", ticket: "1" }); // again: not held, changes nothing
  await system.runUntilIdle();
  assertEquals((await occupancy()).running, 2);
  status.current = "waitroom"; // downtime: the waiting holder and new ones are refused
  site.tell({ type: "release", holder: "/w/a", ticket: "2" });
  site.tell({ type: "acquire", holder: a.ref, ticket: "5" });
  await system.runUntilIdle();
  assertEquals([a.answers.get("4"), a.answers.get("5")], ["refused:waitroom", "refused:waitroom"]);
  await system.shutdown();
});

Deno.test("a crashed holder's slots and queued asks come back when its new incarnation says release_all", async () => {
  const { system, site, occupancy } = start({ current: "ready" }, 2);
  const dead = holder("/w/link");
  const other = holder("/w/other");
  site.tell({ type: "acquire", holder: dead.ref, ticket: "1.1" });
  site.tell({ type: "acquire", holder: dead.ref, ticket: "1.2" });
  site.tell({ type: "acquire", holder: dead.ref, ticket: "1.3" }); // queued
  site.tell({ type: "acquire", holder: other.ref, ticket: "x" }); // queued behind it
  await system.runUntilIdle();
  assertEquals((await occupancy()).holders, { "/w/link": 2 });
  site.tell({ type: "release_all", holder: "/w/link" });
  await system.runUntilIdle();
  const o = await occupancy();
  assertEquals([o.running, o.waiting, o.holders], [1, 0, { "/w/other": 1 }]);
  assertEquals(other.answers.get("x"), "admitted");
  assertEquals(
    dead.answers.get("1.3"),
    undefined,
    "the dead incarnation's queued ask is dropped, not granted",
  );
  await system.shutdown();
});
