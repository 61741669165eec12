import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest, type DbTestContext } from "../../tests/helpers/db.ts";
import { createDynamo, type Dynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import { caller } from "../../tests/helpers/http.ts";

interface Harness {
  dynamo: Dynamo;
  admin: string;
  operator: string;
  call: ReturnType<typeof caller>;
}

async function harness(
  { db }: DbTestContext,
  options: { maxBodyBytes?: number; trustedDnHeader?: string } = {},
): Promise<Harness> {
  const users = new SqlUserStore(db);
  const { token: admin } = await users.addUser({
    name: "admin",
    authorizations: [parseAuthorization("admin:inventory")],
  }, 0);
  const { token: operator } = await users.addUser({
    name: "op",
    dn: "/DC=org/CN=Operator",
    authorizations: [parseAuthorization("operator:registry")],
  }, 0);
  const dynamo = await createDynamo({ database: db, clock: new TestClock(), ...options });
  await dynamo.ready;
  return {
    dynamo,
    admin,
    operator,
    call: caller(dynamo.app),
  };
}

const INJECTION = {
  site: [{ name: "T2_US_MIT", host: "se.mit.edu", storage_type: "disk", status: "ready" }],
  group: [{ name: "AnalysisOps", olevel: "Dataset" }],
  dataset: [{
    name: "/Prim/Proc-v1/AOD",
    status: "valid",
    blocks: [{
      name: "b1",
      files: [{ name: "/store/b1/f1.root", size: 100 }, { name: "/store/b1/f2.root", size: 50 }],
    }],
  }],
  datasetreplica: [{
    dataset: "/Prim/Proc-v1/AOD",
    site: "T2_US_MIT",
    group: "AnalysisOps",
    blockreplicas: [{ block: "b1" }],
  }],
};

dbTest("injectsync applies a document; reads return it in the original formats", async (ctx) => {
  const h = await harness(ctx);
  try {
    const r = await h.call("POST", "/data/inventory/injectsync", { body: INJECTION, token: h.admin });
    assertEquals(r.status, 200);
    assertEquals(r.body.result, "OK");
    const generation = (r.body.data as { generation: number }).generation;
    assertEquals(r.headers.get("X-Inventory-Generation"), String(generation));

    const datasets = await h.call("GET", "/data/inventory/datasets?dataset=/Prim/*");
    assertEquals(datasets.body.data, [{
      name: "/Prim/Proc-v1/AOD",
      size: 150,
      num_files: 2,
      status: "valid",
      type: "unknown",
      software_version: null,
      last_update: (datasets.body.data as { last_update: number }[])[0]!.last_update,
      is_open: true,
      num_blocks: 1,
      num_replicas: 1,
    }]);
    assertEquals((await h.call("GET", "/data/inventory/datasets")).body.data, [], "no pattern, no listing");

    const sites = await h.call("GET", "/data/inventory/sites?site=T2_*");
    const site = (sites.body.data as { name: string; partitions: { name: string; usage: number }[] }[])[0]!;
    assertEquals([site.name, site.partitions[0]!.name, site.partitions[0]!.usage], [
      "T2_US_MIT",
      "Default",
      150,
    ]);

    const groups = await h.call("GET", "/data/inventory/groups");
    assertEquals(groups.body.data, [{ name: "(no group)", olevel: "Block" }, {
      name: "AnalysisOps",
      olevel: "Dataset",
    }]);

    const brs = await h.call(
      "GET",
      "/data/inventory/blockreplicas?dataset=/Prim/Proc-v1/AOD&node=T2_US_*&complete=y",
    );
    const block = (brs.body.data as {
      block: {
        name: string;
        bytes: number;
        replica: { node: string; complete: string; group: string }[];
      }[];
    }).block[0]!;
    assertEquals([
      block.name,
      block.bytes,
      block.replica[0]!.node,
      block.replica[0]!.complete,
      block.replica[0]!.group,
    ], [
      "/Prim/Proc-v1/AOD#b1",
      150,
      "T2_US_MIT",
      "y",
      "AnalysisOps",
    ]);
    const none = await h.call("GET", "/data/inventory/blockreplicas?block=/Prim/Proc-v1/AOD%23b1&complete=n");
    assertEquals(none.body.data, { block: [] });
  } finally {
    await h.dynamo.close();
  }
});

dbTest("inject queues a document that the writer applies; its status can be polled", async (ctx) => {
  const h = await harness(ctx);
  try {
    const r = await h.call("POST", "/data/inventory/inject", { body: INJECTION, token: h.admin });
    assertEquals(r.status, 200);
    const id = (r.body.data as { injection_id: number }).injection_id;
    let status = "queued";
    for (let i = 0; i < 100 && status === "queued"; i++) {
      await h.dynamo.system.runUntilIdle();
      status =
        ((await h.call("GET", `/data/inventory/injection?id=${id}`)).body.data as { status: string }).status;
    }
    assertEquals(status, "applied");
    assert(h.dynamo.port.snapshot().dataset("/Prim/Proc-v1/AOD"));
    assertEquals((await h.call("GET", "/data/inventory/injection?id=999999")).status, 404);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("writes need a token with admin on inventory; reads are anonymous", async (ctx) => {
  const h = await harness(ctx);
  try {
    const anonymous = await h.call("POST", "/data/inventory/injectsync", { body: INJECTION });
    assertEquals([anonymous.status, anonymous.body.result], [401, "Unauthorized"]);
    const wrongRole = await h.call("POST", "/data/inventory/injectsync", {
      body: INJECTION,
      token: h.operator,
    });
    assertEquals([wrongRole.status, wrongRole.body.result], [403, "Forbidden"]);
    const forged = await h.call("POST", "/data/inventory/injectsync", {
      body: INJECTION,
      token: "dyn_forged",
    });
    assertEquals(forged.status, 401);
    const malformed = await h.call("GET", "/data/inventory/datasets?dataset=x", {
      headers: { Authorization: "Basic abc" },
    });
    assertEquals(malformed.status, 401);
    // A DN header is ignored unless a trusted proxy header is configured.
    const dn = await h.call("POST", "/data/inventory/injectsync", {
      body: INJECTION,
      headers: { "X-SSL-Client-S-DN": "/DC=org/CN=Operator" },
    });
    assertEquals(dn.status, 401);
    assertEquals(h.dynamo.port.snapshot().generation, 0);
    assertEquals((await h.call("GET", "/data/inventory/sites")).status, 200);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("a trusted proxy DN header authenticates when configured", async (ctx) => {
  const h = await harness(ctx, { trustedDnHeader: "X-SSL-Client-S-DN" });
  try {
    const who = await h.call("GET", "/data/whoami", {
      headers: { "X-SSL-Client-S-DN": "/DC=org/CN=Operator/CN=proxy" },
    });
    assertEquals((who.body.data as { user: string }).user, "op");
    const stranger = await h.call("GET", "/data/whoami", {
      headers: { "X-SSL-Client-S-DN": "/DC=org/CN=Mallory" },
    });
    assertEquals(stranger.status, 403);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("bad input is a 400 naming the parameter, and nothing is applied", async (ctx) => {
  const h = await harness(ctx, { maxBodyBytes: 4096 });
  try {
    const cases: [
      string,
      string,
      { body?: unknown; raw?: string; headers?: Record<string, string> },
      RegExp,
    ][] = [
      ["POST", "/data/inventory/injectsync", {
        raw: "{not json",
        headers: { "Content-Type": "application/json" },
      }, /"body".*malformed JSON/],
      ["POST", "/data/inventory/injectsync", { body: [1, 2] }, /"body"|expected a JSON object/],
      ["POST", "/data/inventory/injectsync", { body: { datasets: [] } }, /"datasets".*unknown key/],
      ["POST", "/data/inventory/injectsync", {
        body: {
          dataset: [{ name: "/a/b/c", blocks: [{ name: "b", files: [{ name: "/f", size: "big" }] }] }],
        },
      }, /dataset\[0\]\.blocks\[0\]\.files\[0\]\.size/],
      [
        "POST",
        "/data/inventory/injectsync",
        { body: { dataset: [{ name: "/a/../../etc/c" }] } },
        /dataset\[0\]\.name.*"\.\."/,
      ],
      [
        "POST",
        "/data/inventory/injectsync",
        { body: { site: [{ name: "T2\u0000X" }] } },
        /site\[0\]\.name.*control/,
      ],
      ["POST", "/data/inventory/injectsync", {
        body: { site: [{ name: "T2_X", storage_type: "disk", wat: 1 }] },
      }, /site\[0\]\.wat.*unknown field/],
      ["POST", "/data/inventory/injectsync", {
        raw: JSON.stringify({ dataset: [{ name: "/x/y/z".padEnd(5000, "z") }] }),
        headers: { "Content-Type": "application/json" },
      }, /"body".*larger than 4096/],
      ["POST", "/data/inventory/injectsync?dataset=x", { body: INJECTION }, /"dataset".*unknown parameter/],
      ["GET", "/data/inventory/datasets?dataset=a%0Ab", {}, /"dataset".*control/],
      ["GET", "/data/inventory/datasets?dataset=a&dataset=b", {}, /"dataset".*once/],
      [
        "GET",
        "/data/inventory/blockreplicas?dataset=x&update_since=yesterday",
        {},
        /"update_since".*integer/,
      ],
      ["GET", "/data/inventory/blockreplicas?dataset=x&complete=maybe", {}, /"complete".*y or n/],
      ["GET", "/data/inventory/blockreplicas?block=no-hash-here", {}, /"block".*DATASET#BLOCK/],
      ["GET", "/data/inventory/injection?id=1;DROP", {}, /"id".*integer/],
    ];
    for (const [method, path, init, pattern] of cases) {
      const r = await h.call(method, path, { ...init, token: h.admin });
      assertEquals(r.status, 400, `${method} ${path}: ${r.body.message}`);
      assertEquals(r.body.result, "Bad Request");
      assertMatch(r.body.message, pattern);
    }
    // A semantically invalid document (unknown site) is rejected atomically.
    const partial = await h.call("POST", "/data/inventory/injectsync", {
      token: h.admin,
      body: {
        dataset: [{ name: "/ok/ok/ok" }],
        datasetreplica: [{ dataset: "/ok/ok/ok", site: "T9_NOWHERE" }],
      },
    });
    assertEquals(partial.status, 400);
    assertMatch(partial.body.message, /T9_NOWHERE/);
    assertEquals(h.dynamo.port.snapshot().generation, 0, "nothing was applied");
    assertEquals(h.dynamo.port.snapshot().dataset("/ok/ok/ok"), undefined);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("health, metrics, OpenAPI and unknown paths", async (ctx) => {
  const h = await harness(ctx);
  try {
    const health = await h.call("GET", "/health");
    assertEquals(health.body.data, { status: "ready", generation: 0 });
    const metrics = await h.dynamo.app.fetch(new Request("http://dynamo.test/metrics"));
    const text = await metrics.text();
    assertMatch(text, /dynamo_inventory_generation 0/);
    assertMatch(text, /dynamo_actor_mailbox_depth\{actor="\/dynamo\/inventory"\} 0/);
    assertMatch(text, /dynamo_http_requests_total\{route="\/health",method="GET",status="200"\} 1/);
    const openapi = await h.dynamo.app.fetch(new Request("http://dynamo.test/openapi.json"));
    const paths = (await openapi.json()).paths as Record<string, Record<string, unknown>>;
    // Every route the registry serves is documented, with its method.
    const served = h.dynamo.app.routes.filter((r) => r.method !== "ALL");
    assert(served.length > 40, `only ${served.length} routes?`);
    for (const r of served) {
      assert(paths[r.path]?.[r.method.toLowerCase()], `${r.method} ${r.path} is missing from /openapi.json`);
    }
    const missing = await h.call("GET", "/data/nope/nothing");
    assertEquals([missing.status, missing.body.result], [404, "Not Found"]);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("setquota sets a partition quota at a site; bad sizes and names are refused", async (ctx) => {
  const h = await harness(ctx);
  try {
    await h.call("POST", "/data/inventory/injectsync", { body: INJECTION, token: h.admin });
    const set = await h.call(
      "POST",
      "/data/inventory/setquota?site=T2_US_MIT&partition=Default&quota=1.5TB",
      { token: h.admin },
    );
    assertEquals([set.status, (set.body.data as { quota: number }).quota], [200, 1_500_000_000_000]);
    const tape = await h.call(
      "POST",
      "/data/inventory/setquota?site=T2_US_MIT&partition=Default&quota=20PB",
      { token: h.admin },
    );
    assertEquals([tape.status, (tape.body.data as { quota: number }).quota], [200, 2e16]);
    await h.call("POST", "/data/inventory/setquota?site=T2_US_MIT&partition=Default&quota=1.5TB", {
      token: h.admin,
    });
    const sites = await h.call("GET", "/data/inventory/sites?site=T2_US_MIT");
    assertEquals(
      (sites.body.data as { partitions: { quota: number }[] }[])[0]!.partitions[0]!.quota,
      1_500_000_000_000,
    );
    const cases: [string, RegExp][] = [
      ["site=T2_US_MIT&partition=Default&quota=lots", /"quota": expected bytes/],
      ["site=T2_US_MIT&partition=Default&quota=1e999", /"quota"/],
      ["site=T2_US_MIT&partition=Default&quota=10000000PB", /"quota"/],
      ["site=T2_US_MIT&partition=Nope&quota=1TB", /"partition": unknown partition "Nope"/],
      ["site=T9_NONE&partition=Default&quota=1TB", /"site": unknown site "T9_NONE"/],
      ["site=T2_US_MIT&quota=1TB", /"partition": is required/],
    ];
    for (const [query, pattern] of cases) {
      const r = await h.call("POST", `/data/inventory/setquota?${query}`, { token: h.admin });
      assertEquals(r.status, 400, query);
      assertMatch(r.body.message, pattern);
    }
    assertEquals(
      (await h.call("POST", "/data/inventory/setquota?site=T2_US_MIT&partition=Default&quota=1TB")).status,
      401,
    );
  } finally {
    await h.dynamo.close();
  }
});
