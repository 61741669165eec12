/**
 * The supervision tree under fire: every kind of actor of the service (the
 * writer, the drainer, the agents, a site actor, a link worker, the scheduler) is
 * killed in turn, comes back (a new incarnation at the same address) and does
 * its job again; repeated crashes escalate until the root gives up, which is
 * what makes the process exit non-zero.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { dbTest } from "../helpers/db.ts";
import { fileopsFederation } from "../helpers/fileops.ts";
import { parseSequenceFile } from "../../policies/scheduler/sequence_file.ts";
import { parseDealerConfig } from "../../policies/dealer/dealer_config.ts";
import type { Database } from "../../adapters/db/database.ts";
import { RestartIntensityExceeded } from "../../actors/runtime/mod.ts";

const examples = new URL("../../examples/", import.meta.url);
const SEQUENCES =
  "<updater> = /x/exec/updater\n<detox> = /x/exec/detox\n[SEQUENCE ops]\n| <updater>\nWAIT 3600\n";

async function service(db: Database, onFatal?: (e: unknown) => void) {
  return await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }], {
    detox: {
      policies: [{
        file: "default.txt",
        text: await Deno.readTextFile(new URL("detox/default.txt", examples)),
      }],
      intervalMs: 0,
      deletionPerIteration: 0.01,
      protectedSites: [],
      enforcer: null,
    },
    dealer: {
      config: parseDealerConfig(await Deno.readTextFile(new URL("dealer/dealer.json", examples))),
      enforcer: null,
      intervalMs: 0,
    },
    scheduler: { file: parseSequenceFile(SEQUENCES, "test.seq"), tickMs: 10_000 },
    ...(onFatal ? { onFatal } : {}),
  });
}

dbTest("every kind of actor, killed, comes back at its address and works again", async ({ db }) => {
  const f = await service(db);
  const system = f.dynamo.system;
  const auth = { token: f.token };
  try {
    await system.runUntilIdle();
    // One site actor per site of the inventory from the start, before any work (issue 15).
    assertEquals(system.addresses().filter((a) => a.startsWith("/sites/")).sort(), [
      "/sites/T2_A",
      "/sites/T2_B",
    ]);
    let n = 0;
    const checks: [string, () => Promise<void>][] = [
      ["/dynamo/inventory", async () => {
        await f.dataset(`/After/Writer${n}/AOD`, 1, ["T2_A"]);
        assert(
          f.dynamo.port.snapshot().dataset(`/After/Writer${n}/AOD`),
          "the reloaded writer accepts writes",
        );
      }],
      ["/dynamo/injections", async () => {
        const r = await f.call("POST", "/data/inventory/inject", {
          ...auth,
          body: { dataset: [{ name: "/After/Drainer/AOD", status: "valid" }] },
        });
        assertEquals(r.status, 200, JSON.stringify(r.body));
        await system.runUntilIdle();
        assert(f.dynamo.port.snapshot().dataset("/After/Drainer/AOD"), "the queued injection was applied");
      }],
      ["/dynamo/replica", async () => {
        // A fresh Worker, built from the tables, decides the next Detox cycle.
        const replica = await f.dynamo.tree.replicas!.whenReady();
        const r = await f.call("POST", "/data/detox/run?mode=dry-run", auth);
        assertEquals(r.status, 200, JSON.stringify(r.body));
        assertEquals(replica.error, null);
        assertEquals(replica.applied, f.dynamo.port.snapshot().generation);
      }],
      ["/dynamo/detox", async () => {
        const r = await f.call("POST", "/data/detox/run?mode=dry-run", auth);
        assertEquals(r.status, 200, JSON.stringify(r.body));
      }],
      ["/dynamo/dealer", async () => {
        const r = await f.call("POST", "/data/dealer/run?mode=dry-run", auth);
        assertEquals(r.status, 200, JSON.stringify(r.body));
      }],
      ["/dynamo/requests", async () => {
        const r = await f.call("POST", `/data/request/copy?item=/After/Writer0/AOD&site=T2_B`, auth);
        assertEquals(r.status, 200, JSON.stringify(r.body));
        await system.runUntilIdle(); // the tracker is nudged by the request
        const poll = await f.call("GET", `/data/request/pollcopy?request_id=${r.body.data[0].request_id}`);
        assertEquals(poll.status, 200);
      }],
      ["/dynamo/fileops", async () => {
        await f.dataset("/After/Fileops/AOD", 2, ["T2_A"]);
        await f.scheduleCopy("/After/Fileops/AOD", "T2_B");
        const pass = await f.pass();
        assertEquals(pass.transfers_done, 2);
      }],
      // The site actors exist from the start (one per site); the link worker once a pass has had work for it.
      ["/sites/T2_B", async () => {
        await f.dataset("/After/Site/AOD", 1, ["T2_A"]);
        await f.scheduleCopy("/After/Site/AOD", "T2_B");
        assertEquals((await f.pass()).transfers_done, 1, "the site actor grants slots again");
      }],
      ["/dynamo/fileops/link:T2_A:T2_B", async () => {
        await f.dataset("/After/Link/AOD", 1, ["T2_A"]);
        await f.scheduleCopy("/After/Link/AOD", "T2_B");
        assertEquals((await f.pass()).transfers_done, 1, "the link worker copies again");
      }],
      ["/dynamo/scheduler", async () => {
        const r = await f.call("POST", "/data/scheduler/application/run?app=updater", auth);
        assertEquals(r.status, 200, JSON.stringify(r.body));
        await system.runUntilIdle();
        const runs = await f.call("GET", "/data/scheduler/applications?limit=1");
        assertEquals(runs.body.data[0].status, "done");
      }],
    ];
    for (const [address, works] of checks) {
      const before = system.incarnationOf(address);
      assert(before >= 1, `${address} is running`);
      // Past the supervisor's restart window, so that each kill is a first offence.
      await f.clock.advance(61_000);
      await system.runUntilIdle();
      assert(system.kill(address, "supervision test"), `${address} was killed`);
      await system.runUntilIdle();
      await f.clock.advance(1_000); // the restart backoff
      await system.runUntilIdle();
      assertEquals(system.incarnationOf(address), before + 1, `${address} restarted`);
      await works();
      n++;
    }
    assertEquals(system.fatalError, undefined, "no crash escalated");
    assertEquals(
      [...f.dynamo.metrics.restarts.keys()].sort(),
      checks.map(([a]) => a).sort(),
      "each restart is counted",
    );
  } finally {
    await f.close();
  }
});

dbTest(
  "an agent that keeps crashing escalates: the tree gives up and the root fails the process",
  async ({ db }) => {
    let fatal: unknown = undefined;
    const f = await service(db, (e) => fatal = e);
    const system = f.dynamo.system;
    try {
      await system.runUntilIdle();
      // /dynamo allows 5 restarts in 60 s, with a backoff of 1, 2, 4, 8, 16 s.
      for (let i = 0; i < 5; i++) {
        assert(system.kill("/dynamo/detox", `crash ${i + 1}`));
        await system.runUntilIdle();
        await f.clock.advance(1_000 * 2 ** i);
        await system.runUntilIdle();
        assert(system.exists("/dynamo/detox"), `restarted after crash ${i + 1}`);
      }
      assertEquals(fatal, undefined);
      assert(system.kill("/dynamo/detox", "crash 6"));
      await system.runUntilIdle();
      assert(fatal !== undefined, "the root gave up");
      assert(fatal instanceof RestartIntensityExceeded, String(fatal));
      // The root allows no restart of /dynamo: it gives up on the tree's own giving up.
      assertEquals(fatal.supervisor, "/");
      assert(fatal.lastError instanceof RestartIntensityExceeded);
      assertEquals(fatal.lastError.supervisor, "/dynamo");
      assert(!system.exists("/dynamo/scheduler"), "the tree's children were stopped");
    } finally {
      await f.close();
    }
  },
);
