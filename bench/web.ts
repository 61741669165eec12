/**
 * `deno task bench:web [--scale small|medium|cms] [--seed N]`: server time of
 * the web monitor's heaviest pages on the benchmark inventory, after one Detox
 * cycle (the budget is under 1 s at `--scale cms`). Each figure
 * is the median of five renders, beside its limit: the one REST read the page
 * cannot do without, timed the same way. Never used by tests.
 */
import { parseArgs } from "node:util";
import { openDatabase } from "../adapters/db/database.ts";
import { SqlInventoryStore } from "../adapters/db/inventory_store.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { createDynamo } from "../service/create_dynamo.ts";
import { parsePartitions } from "../policies/partitions.ts";
import { SystemClock } from "../actors/runtime/mod.ts";
import { SqlUserStore } from "../adapters/db/user_store.ts";
import { parseAuthorization } from "../adapters/db/user_store_port.ts";
import { BENCH_PARTITIONS, generateInventory, SCALES } from "./generate.ts";
import { PHYSICS_POLICY } from "./physics_policy.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { scale: { type: "string", default: "small" }, seed: { type: "string", default: "1" } },
});
const scale = SCALES[values.scale!];
if (!scale) {
  throw new TypeError(`--scale must be one of ${Object.keys(SCALES).join(", ")}, got "${values.scale}"`);
}
const log = (msg: string) => console.error(`bench:web: ${msg}`);

const partitions = parsePartitions(BENCH_PARTITIONS, "bench partitions");
const db = await openDatabase({});
await migrate(db, Date.now());
await new SqlInventoryStore(db).loadTables(partitions);
log(`generating the ${scale.name} inventory`);
await generateInventory(db, scale, Number(values.seed));
const { token } = await new SqlUserStore(db).addUser({
  name: "bench",
  authorizations: [parseAuthorization("admin:application")],
}, Date.now());
log("loading it into the service");
const dynamo = await createDynamo({
  database: db,
  clock: new SystemClock(),
  partitions,
  detox: {
    policies: [{ file: "Physics.txt", text: PHYSICS_POLICY }],
    intervalMs: 0,
    deletionPerIteration: 0.02,
    protectedSites: [],
    enforcer: null,
  },
  dealer: null,
  fileops: null,
  scheduler: null,
  // A Detox cycle over HTTP under load may take longer than the registry's default 60 s request deadline.
  requestDeadlineMs: 30 * 60_000,
});
await dynamo.ready;
log("one Detox cycle");
const run = await dynamo.app.fetch(
  new Request("http://bench/data/detox/run", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
  }),
);
if (!run.ok) throw new Error(`detox run: ${run.status} ${await run.text()}`);
const [cycle] = (await run.json()).data as { cycle: number }[];

/** Median milliseconds of five GETs (after one to warm up), each checked for a 200. */
async function median(path: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    const res = await dynamo.app.fetch(new Request(`http://bench${path}`));
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    if (i > 0) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[2]! * 10) / 10;
}

const summary =
  (await (await dynamo.app.fetch(new Request(`http://bench/data/detox/summary?cycle=${cycle!.cycle}`)))
    .json()).data as { sites: { site: string; keep: number; protect: number; delete: number }[] };
const busiest = [...summary.sites].sort((a, b) =>
  b.keep + b.protect + b.delete - (a.keep + a.protect + a.delete)
)[0]!;
log("timing the pages");
const figures = {
  scale: scale.name,
  "web.overview_ms": await median("/web/"),
  "web.overview_limit_rest_sites_ms": await median("/data/inventory/sites"),
  "web.detox_monitor_ms": await median("/web/detox/monitor"),
  "web.detox_monitor_limit_rest_summary_ms": await median(`/data/detox/summary?cycle=${cycle!.cycle}`),
  "web.detox_site_page_ms": await median(`/web/detox/monitor?cycle=${cycle!.cycle}&site=${busiest.site}`),
  "web.detox_site_limit_rest_replicas_ms": await median(
    `/data/detox/replicas?cycle=${cycle!.cycle}&site=${busiest.site}&limit=100`,
  ),
  "web.budget_ms": 1000,
};
console.log(JSON.stringify(figures, null, 2));
await dynamo.close();
await db.close();
