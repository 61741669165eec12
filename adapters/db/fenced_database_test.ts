/**
 * A cluster leader's registry writes (requests, Detox locks, application locks,
 * popularity and demand, users, the injection queue) on the fenced database:
 * a deposed leader's transaction rolls back and changes nothing; the write's
 * idempotency key is committed with it (or not at all).
 */
import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import type { Database } from "./database.ts";
import { FencedError, SqlClusterStore } from "./cluster_store.ts";
import { fencedDatabase, LOST_ANSWER } from "./fenced_database.ts";
import { SqlRequestStore } from "./request_store.ts";
import { SqlLockStore } from "./lock_store.ts";
import { SqlAppLockStore } from "./app_lock_store.ts";
import { SqlAccessStore } from "./access_store.ts";
import { SqlDemandStore } from "./demand_store.ts";
import { SqlUserStore } from "./user_store.ts";
import { SqlInjectionQueue } from "./injection_queue.ts";

const NOW = 1_800_000_000_000;
const TABLES = [
  "copy_requests",
  "deletion_requests",
  "detox_locks",
  "app_locks",
  "dataset_accesses",
  "job_demand",
  "users",
  "user_tokens",
  "data_injections",
  "cluster_idempotency",
];

/** Every row of the registry tables, as text: what "nothing changed" compares. */
async function registryRows(db: Database): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) {
    out[t] = (await db.queryArrays(`SELECT t::text FROM ${t} t ORDER BY 1`)).map((r) => r[0] as string);
  }
  return out;
}

function stores(db: Database) {
  return {
    requests: new SqlRequestStore(db),
    locks: new SqlLockStore(db),
    appLocks: new SqlAppLockStore(db),
    accesses: new SqlAccessStore(db),
    demand: new SqlDemandStore(db),
    users: new SqlUserStore(db),
    injections: new SqlInjectionQueue(db),
  };
}

const lockRequest = {
  item: "/A/B/RAW",
  expiresAt: 1_900_000_000,
  sites: [],
  groups: [],
  service: null,
  comment: null,
};

dbTest(
  "a deposed leader's registry writes are rolled back by the fence and change nothing",
  async ({ db }) => {
    const cluster = new SqlClusterStore(db);
    const first = await cluster.takeLease("node-a", 1000);
    let key: string | undefined = "old-leader-key";
    const old = stores(
      fencedDatabase(db, { fence: SqlClusterStore.fence(() => first), idempotencyKey: () => key }),
    );
    // While it leads, its writes go through (one of each kind, to have something to undo later).
    const copy = await old.requests.submitCopy("alice", {
      items: ["/A/B/RAW"],
      sites: ["T2_X"],
      group: null,
      n: 1,
    }, NOW);
    const lock = await old.locks.lock("alice", lockRequest, NOW);
    assert(
      (await old.appLocks.lockApp({ app: "detox", user: "alice", service: null, note: null, since: 1 })).ok,
    );
    const queued = await old.injections.enqueue("inject", { dataset: [] }, "alice", NOW);
    key = undefined;

    const second = await cluster.takeLease("node-b", 2000);
    assertEquals(second, first + 1);
    const before = await registryRows(db);
    key = "deposed-key";
    const attempts: [string, () => Promise<unknown>][] = [
      [
        "copy request",
        () =>
          old.requests.submitCopy("bob", { items: ["/C/D/RAW"], sites: ["T2_Y"], group: null, n: 1 }, NOW),
      ],
      [
        "repeated copy request",
        () =>
          old.requests.submitCopy("alice", { items: ["/A/B/RAW"], sites: ["T2_X"], group: null, n: 1 }, NOW),
      ],
      [
        "deletion request",
        () => old.requests.submitDeletion("bob", { items: ["/C/D/RAW"], sites: ["T2_Y"] }, NOW),
      ],
      ["cancel", () => old.requests.cancelCopy(copy.request.id, null, NOW)],
      ["tracker save", () =>
        old.requests.saveCopyRequests([{
          before: copy.request,
          after: { ...copy.request, status: "activated" },
        }])],
      ["detox lock", () => old.locks.lock("bob", { ...lockRequest, item: "/C/D/RAW" }, NOW)],
      ["detox unlock", () => old.locks.unlock(null, [lock.id], NOW)],
      ["detox set", () => old.locks.setLocks("alice", [], NOW)],
      [
        "app lock",
        () => old.appLocks.lockApp({ app: "dealer", user: "bob", service: null, note: null, since: 1 }),
      ],
      ["app unlock", () => old.appLocks.unlockApp("detox", null)],
      [
        "popularity",
        () => old.accesses.recordAccesses([{ dataset: "/A/B/RAW", site: "T2_X", day: 20000, accesses: 3 }]),
      ],
      ["demand", () => old.demand.recordJobs([{ dataset: "/A/B/RAW", queued: 1000, jobs: 4 }])],
      ["user", () => old.users.addUser({ name: "mallory", authorizations: [] }, NOW)],
      ["user revoked", () => old.users.revokeUser("alice", NOW)],
      ["injection", () => old.injections.enqueue("inject", { dataset: [] }, "bob", NOW)],
      ["injection attempt", () => old.injections.beginAttempt(queued, NOW)],
      ["injection failure", () => old.injections.recordFailure(queued, "boom", true, NOW)],
    ];
    for (const [what, write] of attempts) {
      const error = await write().then(() => null, (e) => e);
      assert(error instanceof FencedError, `${what}: ${error}`);
    }
    assertEquals(await registryRows(db), before, "nothing of the deposed leader's writes was committed");
    assertEquals(await cluster.recall("deposed-key"), null, "nor its idempotency key");

    // The new leader writes as usual.
    const now = stores(fencedDatabase(db, {
      fence: SqlClusterStore.fence(() => second),
    }));
    assertEquals(await now.locks.unlock(null, [lock.id], NOW), 1);
    assert(await now.appLocks.unlockApp("detox", null));
  },
);

dbTest(
  "a registry write's idempotency key is committed in its transaction, and a given answer is kept",
  async ({ db }) => {
    const cluster = new SqlClusterStore(db);
    const generation = await cluster.takeLease("node-a", 1000);
    let key: string | undefined;
    const fenced = fencedDatabase(db, {
      fence: SqlClusterStore.fence(() => generation),
      idempotencyKey: () => key,
      nowMs: () => NOW,
    });
    const leader = stores(fenced);

    await cluster.claimKey("k1", "node-a", NOW);
    key = "k1";
    await leader.locks.lock("alice", lockRequest, NOW);
    key = undefined;
    // The leader died before answering: a retry finds the write applied.
    assertEquals((await cluster.recall("k1"))?.answer, LOST_ANSWER);

    // Once the real answer is remembered, later transactions under the same key do not replace it.
    const answer = { status: 200, contentType: "application/json", body: '{"data":[1]}', generation: null };
    await cluster.remember("k1", answer);
    key = "k1";
    await leader.appLocks.lockApp({ app: "detox", user: "alice", service: null, note: null, since: 1 });
    key = undefined;
    assertEquals((await cluster.recall("k1"))?.answer, answer);

    // A write that fails after its statements (here: a constraint) rolls back with its key.
    key = "k2";
    await assertRejects(() =>
      fenced.transaction(async (tx) => {
        await tx.insertInto("app_locks").values({
          app: "dealer",
          user_name: "bob",
          service: null,
          note: null,
          since_ms: 0,
        }).execute();
        await tx.insertInto("app_locks").values({
          app: "dealer",
          user_name: "bob",
          service: null,
          note: null,
          since_ms: 0,
        }).execute();
      })
    );
    key = undefined;
    assertEquals(await cluster.recall("k2"), null);
    assertEquals((await db.queryArrays("SELECT count(*) FROM app_locks WHERE app = 'dealer'"))[0]![0], 0);
  },
);
