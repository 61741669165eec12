/**
 * The cluster front in one process, over a real PostgreSQL schema: one node
 * that leads. What it promises a client: reads carry their generation and wait
 * for `min_generation` (bounded), bad values are 400, writes get an
 * `Idempotency-Key` and a repeated key gets the recorded answer, applied once.
 * Needs DYNAMO_TEST_DATABASE_URL (ignored, saying so, without it).
 */
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { freshDatabase, TEST_DATABASE_URL } from "../../tests/helpers/db.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { createDynamo } from "../create_dynamo.ts";
import { ClusterNode } from "./cluster_node.ts";
import { clusterFetch } from "./cluster_http.ts";

const ignore = !TEST_DATABASE_URL;

Deno.test({
  name: `cluster front: generations, bounded min_generation, idempotency keys${
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
      const call = clusterFetch(node, { minGenerationWaitMs: 300 });
      const get = (path: string, headers: Record<string, string> = {}) =>
        call(new Request(`http://node${path}`, { headers }));
      const inject = (name: string, key?: string) =>
        call(
          new Request("http://node/data/inventory/injectsync", {
            method: "POST",
            headers: {
              Authorization: `Bearer ${token}`,
              "Content-Type": "application/json",
              ...(key ? { "Idempotency-Key": key } : {}),
            },
            body: JSON.stringify({ dataset: [{ name }] }),
          }),
        );

      const first = await inject("/Front/One/RAW");
      assertEquals(first.status, 200);
      const generation = (await first.json()).data.generation;
      assert((first.headers.get("Idempotency-Key") ?? "").length >= 21, "a key was made for the write");

      const read = await get(`/data/inventory/datasets?dataset=/Front/*/RAW&min_generation=${generation}`);
      assertEquals(read.status, 200);
      assertEquals(read.headers.get("X-Inventory-Generation"), String(generation));
      assertEquals((await read.json()).data.map((d: { name: string }) => d.name), ["/Front/One/RAW"]);

      // A generation not reached: the wait is bounded, then 503 with Retry-After.
      for (
        const res of [
          await get(`/data/inventory/datasets?dataset=x&min_generation=${generation + 100}`),
          await get("/data/inventory/datasets?dataset=x", { "X-Min-Generation": String(generation + 100) }),
        ]
      ) {
        assertEquals(res.status, 503);
        assertEquals(res.headers.get("Retry-After"), "1");
        assert((await res.json()).message.includes(String(generation + 100)));
      }
      for (const bad of ["-1", "1.5", "abc", "9".repeat(20)]) {
        const res = await get(`/data/inventory/datasets?dataset=x&min_generation=${encodeURIComponent(bad)}`);
        assertEquals(res.status, 400, bad);
        await res.body?.cancel();
      }

      const keyed = await inject("/Front/Two/RAW", "client-key-1");
      assertEquals(keyed.status, 200);
      const keyedBody = await keyed.text();
      const replay = await inject("/Front/Two/RAW", "client-key-1");
      assertEquals(replay.status, 200);
      assertEquals(replay.headers.get("Idempotent-Replayed"), "true");
      assertEquals(await replay.text(), keyedBody);
      const journal = await db.queryArrays(
        "SELECT count(*) FROM inventory_journal WHERE commands::text LIKE '%/Front/Two/RAW%'",
      );
      assertEquals(Number(journal[0]![0]), 1, "the repeated write was applied once");
      const badKey = await inject("/Front/Three/RAW", "x".repeat(201));
      assertEquals(badKey.status, 400);
      await badKey.body?.cancel();
      const unauthorized = await call(
        new Request("http://node/data/inventory/injectsync", { method: "POST", body: "{}" }),
      );
      assertEquals(unauthorized.status, 401);
      await unauthorized.body?.cancel();

      const status = await (await get("/data/cluster/status")).json();
      assertEquals(status.data.node, node.id);
      assertEquals(status.data.nodes.map((n: { role: string }) => n.role), ["leader"]);
      assertEquals(status.data.lease.holder, node.id);
      const metrics = await (await get("/metrics")).text();
      assert(metrics.includes('dynamo_cluster_role{role="leader"} 1'), metrics);
      assert(metrics.includes("dynamo_cluster_lease_changes_total 1"), metrics);
    } finally {
      await node.stop();
      await cleanup();
    }
  },
});
