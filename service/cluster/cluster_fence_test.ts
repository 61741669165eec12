/**
 * Registry writes (requests, Detox locks) through the cluster front of a real
 * leader node on PostgreSQL: a repeated `Idempotency-Key` applies once, also
 * when the first attempt committed and its answer was lost; a leader whose
 * fencing generation moved on between its lease check and the write's SQL
 * commits nothing and answers 503 with `Retry-After`.
 * Needs DYNAMO_TEST_DATABASE_URL (ignored, saying so, without it).
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { freshDatabase, TEST_DATABASE_URL } from "../../tests/helpers/db.ts";
import { SqlClusterStore } from "../../adapters/db/cluster_store.ts";
import type { Database } from "../../adapters/db/database.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { createDynamo } from "../create_dynamo.ts";
import { ClusterNode } from "./cluster_node.ts";
import { clusterFetch } from "./cluster_http.ts";
import { withIdempotencyKey } from "./idempotency_context.ts";

const ignore = !TEST_DATABASE_URL;

async function rows(db: Database, table: string): Promise<string[]> {
  return (await db.queryArrays(`SELECT t::text FROM ${table} t ORDER BY 1`)).map((r) => r[0] as string);
}

Deno.test({
  name: `cluster front: registry writes are fenced and applied once per key${
    ignore ? " [ignored: needs DYNAMO_TEST_DATABASE_URL]" : ""
  }`,
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { db, cleanup } = await freshDatabase("postgres");
    const node = new ClusterNode({
      db,
      url: TEST_DATABASE_URL!,
      schema: db.schema,
      advertiseUrl: "http://127.0.0.1:9",
      version: "test",
      create: (role) => createDynamo({ database: db, fileops: null, requestIntervalMs: 0, ...role }),
    });
    try {
      const { token } = await new SqlUserStore(db).addUser({
        name: "ops",
        authorizations: [parseAuthorization("admin:inventory")],
      }, 0);
      await node.start();
      assertEquals(node.role, "leader");
      const call = clusterFetch(node, { forwardWaitMs: 300 });
      const request = (path: string, key?: string, body?: unknown) =>
        new Request(`http://node${path}`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${token}`,
            ...(body ? { "Content-Type": "application/json" } : {}),
            ...(key ? { "Idempotency-Key": key } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      const injected = await call(request("/data/inventory/injectsync", undefined, {
        site: [{ name: "T2_TEST", storage_type: "disk", status: "ready" }],
        dataset: [{ name: "/Fence/Data/RAW" }],
      }));
      assertEquals(injected.status, 200, await injected.text());
      const copy = "/data/request/copy?item=/Fence/Data/RAW&site=T2_TEST";
      const requestCount = async () =>
        (await db.queryArrays("SELECT request_count FROM copy_requests")).map((r) => Number(r[0]));

      // A repeated key gets the first answer; the request is made once (a new one would count 2).
      const first = await call(request(copy, "copy-1"));
      assertEquals(first.status, 200);
      const firstBody = await first.text();
      const again = await call(request(copy, "copy-1"));
      assertEquals(again.headers.get("Idempotent-Replayed"), "true");
      assertEquals(await again.text(), firstBody);
      assertEquals(await requestCount(), [1]);

      // The leader applied a write and died before answering (nor remembering the answer): it ran
      // under its key, straight on the service, as the front does. The retry does not apply it again.
      const cluster = new SqlClusterStore(db);
      await cluster.claimKey("copy-2", node.id, Date.now());
      const lost = await withIdempotencyKey("copy-2", () => node.current!.app.fetch(request(copy)));
      assertEquals(lost.status, 200);
      await lost.body?.cancel();
      assertEquals(await requestCount(), [2]);
      const retried = await call(request(copy, "copy-2"));
      assertEquals(retried.status, 200);
      assertEquals(retried.headers.get("Idempotent-Replayed"), "true");
      assert((await retried.json()).message.includes("Already applied"));
      assertEquals(await requestCount(), [2], "the retried request was applied once");

      // Another node took the lease after this leader's check (a pause): its writes roll back.
      const lock = "/data/detox/lock/lock?item=/Fence/Data/RAW&expires=2000000000";
      const before = { requests: await rows(db, "copy_requests"), locks: await rows(db, "detox_locks") };
      await cluster.takeLease("another-node", Date.now());
      for (const [path, key] of [[lock, "lock-1"], [copy, "copy-3"]] as const) {
        const res = await call(request(path, key));
        assertEquals(res.status, 503, path);
        assertEquals(res.headers.get("Retry-After"), "1");
        await res.body?.cancel();
        assertEquals((await cluster.recall(key))?.answer ?? null, null, "no answer was recorded");
      }
      assertEquals(
        { requests: await rows(db, "copy_requests"), locks: await rows(db, "detox_locks") },
        before,
      );
    } finally {
      await node.stop();
      await cleanup();
    }
  },
});
