import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import { Snapshot } from "../inventory/mod.ts";
import { createRegistryApp } from "./app.ts";
import type { InventoryAccess } from "./inventory_access.ts";
import type { DetoxRegistry } from "./detox_registry.ts";
import { parseDeadlineSeconds } from "./request_budget.ts";

const DATASETS = 3000;

function snapshot(): Snapshot {
  const h = new ReducerHarness();
  const commands: Record<string, unknown>[] = [];
  for (let i = 0; i < DATASETS; i++) commands.push({ op: "dataset.upsert", name: `/P${i}/Q/RAW` });
  h.apply(...commands);
  return new Snapshot(h.state);
}

const SNAPSHOT = snapshot();

/** A port over a fixed snapshot whose clock is `now` (the budget reads time only through it). */
function port(now: () => number): InventoryAccess {
  const unused = () => {
    throw new Error("not used in this test");
  };
  return {
    isReady: () => true,
    snapshot: () => SNAPSHOT,
    submit: unused,
    enqueueInjection: unused,
    injection: unused,
    injections: unused,
    authenticateToken: () => Promise.resolve(null),
    authenticateDn: () => Promise.resolve(null),
    metrics: () => "",
    now,
  };
}

async function get(app: ReturnType<typeof createRegistryApp>, path: string, signal?: AbortSignal) {
  const res = await app.fetch(new Request(`http://dynamo.test${path}`, signal ? { signal } : {}));
  return { status: res.status, headers: res.headers, body: await res.json() };
}

Deno.test("a scan that outlives the request deadline stops with a 503 and Retry-After", async () => {
  // Each look at the clock advances it by a millisecond; the scan looks every 256 datasets.
  let t = 0;
  const ticking = () => (t += 1);
  const tight = createRegistryApp(port(ticking), { requestDeadlineMs: 5 });
  const r = await get(tight, "/data/inventory/datasets?dataset=*");
  assertEquals(r.status, 503);
  assertEquals(r.headers.get("Retry-After"), "5");
  assertMatch(r.body.message, /did not finish within its deadline of 0\.005 s/);
  // An exact name needs no scan and answers within the same deadline.
  const exact = await get(tight, "/data/inventory/datasets?dataset=/P7/Q/RAW");
  assertEquals(exact.status, 200);
  assertEquals(exact.body.data.length, 1);

  const roomy = createRegistryApp(port(ticking), { requestDeadlineMs: 60_000 });
  const all = await get(roomy, "/data/inventory/datasets?dataset=*");
  assertEquals(all.status, 200);
  assertEquals(all.body.data.length, DATASETS);
  const blocks = await get(roomy, "/data/inventory/blockreplicas?dataset=/P1*");
  assertEquals(blocks.status, 200);
});

Deno.test("work for a client that has gone away stops", async () => {
  const client = new AbortController();
  let looks = 0;
  let looksAfterAbort = 0;
  // The client leaves during the scan (at the clock's third look).
  const now = () => {
    looks += 1;
    if (client.signal.aborted) looksAfterAbort += 1;
    if (looks === 3) client.abort();
    return 0;
  };
  const app = createRegistryApp(port(now), { requestDeadlineMs: 60_000 });
  const r = await get(app, "/data/inventory/datasets?dataset=*", client.signal);
  assertEquals(r.status, 503);
  assertMatch(r.body.message, /client closed the connection/);
  // The scan noticed at its next check, long before the 3,000 datasets were done.
  assert(looksAfterAbort <= 2, `the scan went on after the client left (${looksAfterAbort} more looks)`);
});

Deno.test("a handler waiting on something slow is answered at the deadline by the timer", async () => {
  const clock = new TestClock();
  const never = new Promise<never>(() => {});
  const detox = { listLocks: () => never } as unknown as DetoxRegistry;
  const app = createRegistryApp(port(() => clock.now()), {
    requestDeadlineMs: 30_000,
    timers: clock,
    detox,
  });
  // lock/list awaits a store that never answers: only the deadline can end it.
  const pending = app.fetch(new Request("http://dynamo.test/data/detox/lock/list"));
  while (clock.pendingTimers === 0) await Promise.resolve();
  await clock.advance(30_000);
  const res = await pending;
  assertEquals(res.status, 503);
  assertMatch((await res.json()).message, /deadline of 30 s/);
});

Deno.test("DYNAMO_REQUEST_DEADLINE: seconds, garbage refused", () => {
  assertEquals(parseDeadlineSeconds(undefined, "D"), undefined);
  assertEquals(parseDeadlineSeconds("60", "D"), 60_000);
  assertEquals(parseDeadlineSeconds("0.5", "D"), 500);
  for (const bad of ["", "0", "-1", "1e9", "soon", "NaN", "86401", " "]) {
    let message = "";
    try {
      parseDeadlineSeconds(bad, "DYNAMO_REQUEST_DEADLINE");
    } catch (e) {
      message = (e as Error).message;
    }
    assertMatch(message, /^DYNAMO_REQUEST_DEADLINE must be a number of seconds from 0\.1 to 86400/, bad);
  }
});

Deno.test("list parameters count comma-separated values against the list limit", async () => {
  const app = createRegistryApp(port(() => 0));
  const many = Array.from({ length: 10_001 }, (_, i) => `T${i}*`).join(",");
  // 101 values of ~150 comma-separated patterns each: few values, but over 10,000 patterns.
  const q = await get(app, `/data/inventory/sites?site=${encodeURIComponent(many.slice(0, 990))}`);
  assertEquals(q.status, 200);
  const items = Array.from({ length: 101 }, () => `site=${encodeURIComponent(many.slice(0, 990))}`).join("&");
  const refused = await get(app, `/data/inventory/sites?${items}`);
  assertEquals(refused.status, 400);
  assertMatch(refused.body.message, /^Parameter "site": at most 10000 values$/);
});
