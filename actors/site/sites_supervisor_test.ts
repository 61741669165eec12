import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { basicFederation, ReducerHarness } from "../../tests/helpers/inventory.ts";
import { type ActorRef, ActorSystem, TestClock } from "../runtime/mod.ts";
import { InventoryPublication } from "../inventory/publication.ts";
import { type JournalEntry, parseCommand } from "../../registry/inventory/mod.ts";
import type { SiteAdmission, SiteMsg, SiteOccupancy } from "./site_actor.ts";
import { routedSiteRef, type SitesMsg, sitesSupervisor } from "./sites_supervisor.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A /sites tree over a real inventory state, published as the writer does; the clock never moves. */
function start(parallelism: number, options: { loaded?: boolean } = {}) {
  const h = new ReducerHarness();
  basicFederation(h);
  const publication = new InventoryPublication();
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silent });
  system.spawn<SitesMsg>({
    id: "sites",
    restart: "permanent",
    behavior: () => sitesSupervisor({ publication, parallelism }),
  });
  const load = () => publication.publishLoaded(h.state);
  if (options.loaded ?? true) load();
  /** Commits commands as the writer does: a new state published with its journal entry. */
  const commit = (...raw: Record<string, unknown>[]) => {
    h.apply(...raw);
    const entry = {
      seq: h.state.generation,
      atMs: h.nowMs,
      version: 1,
      commands: raw.map((r) => parseCommand(r)),
    };
    publication.publishCommitted(entry as unknown as JournalEntry, h.state);
  };
  const site = (name: string) => system.refFor<SiteMsg>(`/sites/${name}`);
  const occupancy = async (name: string) => {
    let o: SiteOccupancy | undefined;
    site(name).tell({ type: "status", replyTo: { address: "probe", tell: (x) => o = x } });
    await system.runUntilIdle();
    return o!;
  };
  return { system, commit, site, occupancy, load };
}

/** A holder: what the sites told it, in order. */
function holder(address: string) {
  const told: string[] = [];
  const ref: ActorRef<SiteAdmission> = {
    address,
    tell: (m) =>
      told.push(m.type === "site_closed" ? `closed:${m.site}:${m.status}` : `${m.type}:${m.ticket}`),
  };
  return { ref, told };
}

Deno.test("a site actor runs for every site of the inventory from the start and for a site a commit adds", async () => {
  const { system, commit, occupancy } = start(2);
  await system.runUntilIdle();
  const sites = () => system.addresses().filter((a) => a.startsWith("/sites/")).sort();
  assertEquals(sites(), ["/sites/T1_TAPE", "/sites/T2_A", "/sites/T2_B"]);
  const a = await occupancy("T2_A");
  assertEquals(
    [a.status, a.quotaBytes, a.usedBytes, a.running],
    ["ready", 1000, 0, 0],
    "the ledger's figures",
  );
  commit({ op: "site.upsert", name: "T3_NEW", storage_type: "disk", status: "ready" }); // an injection
  await system.runUntilIdle();
  assertEquals(sites(), ["/sites/T1_TAPE", "/sites/T2_A", "/sites/T2_B", "/sites/T3_NEW"]);
  assertEquals((await occupancy("T3_NEW")).status, "ready");
  await system.shutdown();
});

Deno.test("an operator's status change reaches holders and waiting workers at once, by message", async () => {
  const { system, commit, site } = start(1);
  await system.runUntilIdle();
  const link = holder("/dynamo/fileops/link:T2_B:T2_A");
  const other = holder("/dynamo/fileops/link:T1_TAPE:T2_A");
  site("T2_A").tell({ type: "acquire", holder: link.ref, ticket: "1.1", use: "receive" });
  site("T2_A").tell({ type: "acquire", holder: other.ref, ticket: "1.1", use: "receive" }); // waits
  await system.runUntilIdle();
  assertEquals([link.told, other.told], [["admitted:1.1"], []]);
  commit({ op: "site.upsert", name: "T2_A", status: "waitroom" }); // as POST /data/inventory/setstatus does
  await system.runUntilIdle(); // the clock never moves: no interval has to pass
  assertEquals(
    link.told,
    ["admitted:1.1", "closed:T2_A:waitroom"],
    "the holder is told to start nothing new",
  );
  assertEquals(other.told, ["refused:1.1"], "the waiting ask is refused with the status");
  await system.shutdown();
});

Deno.test("a site going to morgue closes it for copies to it, not for reads or deletions", async () => {
  const { system, commit, site } = start(3);
  await system.runUntilIdle();
  const into = holder("/w/into");
  const from = holder("/w/from");
  const del = holder("/w/delete");
  site("T2_B").tell({ type: "acquire", holder: into.ref, ticket: "1", use: "receive" });
  site("T2_B").tell({ type: "acquire", holder: from.ref, ticket: "1", use: "serve" });
  site("T2_B").tell({ type: "acquire", holder: del.ref, ticket: "1", use: "delete" });
  await system.runUntilIdle();
  commit({ op: "site.upsert", name: "T2_B", status: "morgue" });
  await system.runUntilIdle();
  assertEquals([into.told, from.told, del.told], [
    ["admitted:1", "closed:T2_B:morgue"],
    ["admitted:1"],
    ["admitted:1"],
  ]);
  site("T2_B").tell({ type: "acquire", holder: into.ref, ticket: "2", use: "receive" });
  site("T2_B").tell({ type: "acquire", holder: from.ref, ticket: "2", use: "serve" });
  await system.runUntilIdle();
  assertEquals(into.told.at(-1), "refused:2");
  assertEquals(from.told, ["admitted:1"], "a read from a site in morgue is allowed: it waits for a slot");
  site("T2_B").tell({ type: "release", holder: "/w/into", ticket: "1" });
  await system.runUntilIdle();
  assertEquals(from.told, ["admitted:1", "admitted:2"]);
  await system.shutdown();
});

Deno.test("a crashed holder's slots come back to the waiting, and a restarted site actor is told of changes", async () => {
  const { system, commit, site, occupancy } = start(1);
  await system.runUntilIdle();
  const dead = holder("/w/dead");
  const next = holder("/w/next");
  site("T2_A").tell({ type: "acquire", holder: dead.ref, ticket: "1.1", use: "serve" });
  site("T2_A").tell({ type: "acquire", holder: next.ref, ticket: "1.1", use: "serve" });
  await system.runUntilIdle();
  site("T2_A").tell({ type: "release_all", holder: "/w/dead" }); // its new incarnation's init
  await system.runUntilIdle();
  assertEquals(next.told, ["admitted:1.1"]);
  assertEquals((await occupancy("T2_A")).holders, { "/w/next": 1 });
  assert(system.kill("/sites/T2_A", "test"));
  await system.runUntilIdle();
  commit({ op: "site.upsert", name: "T2_A", status: "waitroom" });
  await system.runUntilIdle();
  assertEquals((await occupancy("T2_A")).status, "waitroom");
  await system.shutdown();
});

Deno.test("a worker's ask reaches a site's actor the supervisor has not started yet: at start and for a site just added", async () => {
  const { system, commit, occupancy } = start(1);
  // No turn has run: the supervisor has not synced, /sites/T2_A does not exist yet.
  assert(!system.exists("/sites/T2_A"));
  const w = holder("/w/early");
  routedSiteRef(system, "T2_A").tell({ type: "acquire", holder: w.ref, ticket: "1", use: "receive" });
  // A commit adds a site and a worker asks for it before the supervisor has read the commit.
  commit({ op: "site.upsert", name: "T3_NEW", storage_type: "disk", status: "ready" });
  routedSiteRef(system, "T3_NEW").tell({ type: "acquire", holder: w.ref, ticket: "2", use: "receive" });
  const unknown = holder("/w/unknown");
  routedSiteRef(system, "T9_NOWHERE").tell({ type: "acquire", holder: unknown.ref, ticket: "3" });
  routedSiteRef(system, "T9_NOWHERE").tell({ type: "release_all", holder: "/w/unknown" });
  await system.runUntilIdle();
  assertEquals(w.told, ["admitted:1", "admitted:2"]);
  assertEquals(unknown.told, ["refused:3"], "a site the inventory does not have refuses at once");
  assertEquals(system.deadLetters.count, 0, "nothing dead-lettered");
  assertEquals((await occupancy("T2_A")).holders, { "/w/early": 1 });
  assert(!system.exists("/sites/T9_NOWHERE"), "no actor for a name the inventory does not have");
  // Once the actor runs, a ref made then reaches it straight, the release too.
  routedSiteRef(system, "T2_A").tell({ type: "release", holder: "/w/early", ticket: "1" });
  await system.runUntilIdle();
  assertEquals((await occupancy("T2_A")).running, 0);
  await system.shutdown();
});

Deno.test("asks sent before the inventory is loaded wait for it, in order", async () => {
  const { system, load } = start(1, { loaded: false });
  const a = holder("/w/a");
  const b = holder("/w/b");
  const ref = routedSiteRef(system, "T2_A");
  ref.tell({ type: "acquire", holder: a.ref, ticket: "1", use: "receive" });
  ref.tell({ type: "acquire", holder: b.ref, ticket: "1", use: "receive" });
  ref.tell({ type: "release", holder: "/w/a", ticket: "1" });
  await system.runUntilIdle();
  assertEquals([a.told, b.told], [[], []], "nothing answered before the inventory is there");
  load();
  await system.runUntilIdle();
  assertEquals([a.told, b.told], [["admitted:1"], ["admitted:1"]], "a's release freed the slot for b");
  assertEquals(system.deadLetters.count, 0);
  await system.shutdown();
});

Deno.test("asks held for the inventory are refused when the supervisor stops before it loads", async () => {
  const { system } = start(1, { loaded: false });
  const a = holder("/w/a");
  const ref = routedSiteRef(system, "T2_A");
  ref.tell({ type: "acquire", holder: a.ref, ticket: "1", use: "receive" });
  ref.tell({ type: "release", holder: "/w/a", ticket: "1" });
  await system.runUntilIdle();
  assertEquals(a.told, []);
  await system.shutdown();
  assertEquals(a.told, ["refused:1"], "a held ask is answered, not lost with the supervisor");
});
