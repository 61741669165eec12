import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { caller } from "../../tests/helpers/http.ts";
import { dealerConfig, oneFileFederation } from "../../tests/helpers/dealer.ts";
import { createDynamo, type Dynamo } from "../../service/create_dynamo.ts";
import { addOperator, addPlainUser } from "../../tests/helpers/users.ts";
import { ask, TestClock } from "../runtime/mod.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";
import type { TrackerMsg, TrackerPassSummary } from "./request_tracker.ts";

const NOW = Date.UTC(2026, 10, 25);

async function setUp(db: Dynamo["db"]) {
  const ops = await addOperator(db);
  const alice = await addPlainUser(db, "alice");
  const bob = await addPlainUser(db, "bob");
  const dynamo = await createDynamo({
    database: db,
    clock: new TestClock(NOW),
    dealer: { config: dealerConfig(), enforcer: null, intervalMs: 0 },
    requestIntervalMs: 0,
  });
  await dynamo.ready;
  const commands = oneFileFederation(["T2_A", "T2_B", "T2_C"], [
    ["/Copy/Me/AOD", "T2_A"],
    ["/Delete/Me/AOD", "T2_A"],
    ["/Delete/Me/AOD", "T2_C"],
  ]);
  const reply = await dynamo.port.submit({ commands, atomic: true });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
  const trackerPass = () =>
    ask<TrackerMsg, TrackerPassSummary>(
      dynamo.system,
      dynamo.tree.tracker!,
      (replyTo) => ({ type: "pass", replyTo }),
      { timeoutMs: 60_000 },
    );
  return { dynamo, ops, alice, bob, call: caller(dynamo.app), trackerPass };
}

dbTest(
  "copy requests over HTTP: created, run by the Dealer, queued, completed; dry runs change nothing",
  async ({ db }) => {
    const { dynamo, ops, alice, call, trackerPass } = await setUp(db);
    try {
      const made = await call("POST", "/data/request/copy?item=/Copy/Me/AOD&site=T2_B", { token: alice });
      assertEquals(made.status, 200, made.body.message);
      const id = made.body.data[0].request_id;
      assertEquals([made.body.data[0].status, made.body.data[0].n, made.body.message], [
        "new",
        1,
        "Request created",
      ]);
      // The same request again is the same request, touched.
      const again = await call("POST", "/registry/request/copy", {
        token: alice,
        body: { item: ["/Copy/Me/AOD"], site: ["T2_B"] },
      });
      assertEquals([again.body.data[0].request_id, again.body.data[0].request_count], [id, 2]);
      // Data nobody has is refused at once, with the reason (as the original).
      const ghost = await call("POST", "/data/request/copy?item=/No/Such/AOD", { token: alice });
      assertEquals(ghost.status, 400);
      assertMatch(ghost.body.message, /"item": invalid item name: unknown dataset "\/No\/Such\/AOD"/);

      const dry = await call("POST", "/data/dealer/run?mode=dry-run", { token: ops });
      assertEquals(dry.status, 200, dry.body.message);
      assertEquals([dry.body.data.accepted, dry.body.data.committed_generation], [1, null]);
      assertEquals(await db.queryArrays("SELECT count(*) FROM replica_operations"), [[0]]);
      assertEquals((await call("GET", `/data/request/pollcopy?request_id=${id}`)).body.data[0].status, "new");

      const run = await call("POST", "/data/dealer/run", { token: ops });
      assert(run.body.data.committed_generation > dry.body.data.generation, "the copy was committed");
      assertEquals(
        await db.queryArrays("SELECT kind, site, dataset, request_id, status FROM replica_operations"),
        [["copy", "T2_B", "/Copy/Me/AOD", id, "new"]],
      );
      const polled = (await call("GET", `/data/request/pollcopy?request_id=${id}`)).body.data[0];
      assertEquals([polled.status, polled.active], [
        "activated",
        [{ item: "/Copy/Me/AOD", site: "T2_B", status: "queued", updated: NOW / 1000 }],
      ]);
      const why = await call("GET", "/data/dealer/decisions?dataset=/Copy/Me/AOD");
      assertEquals(
        why.body.data.map((
          d: { plugin: string; site: string; accepted: boolean },
        ) => [d.plugin, d.site, d.accepted]),
        [["requests", "T2_B", true], ["requests", "T2_B", true]],
        "the dry run and the real run, newest first",
      );
      assertEquals(
        (await call("GET", "/data/dealer/cycles")).body.data.map((c: { mode: string }) => c.mode),
        [
          "normal",
          "dry-run",
        ],
      );

      // The file-operations layer reports the files at T2_B: the tracker completes the request.
      assertEquals((await trackerPass()).copyRequestsChanged, 0);
      const done = await dynamo.port.submit({
        commands: [parseCommand({
          op: "block_replica.upsert",
          dataset: "/Copy/Me/AOD",
          block: "b1",
          site: "T2_B",
          files: ["/store/copy/me/aod/f1"],
        })],
        atomic: true,
      });
      assert(done.ok);
      assertEquals((await trackerPass()).copyRequestsChanged, 1);
      assertEquals(
        (await call("GET", `/data/request/pollcopy?request_id=${id}`)).body.data[0].status,
        "completed",
      );
    } finally {
      await dynamo.close();
    }
  },
);

dbTest("deletion requests, cancellations and application locks over HTTP", async ({ db }) => {
  const { dynamo, ops, alice, bob, call, trackerPass } = await setUp(db);
  try {
    const del = await call("POST", "/data/request/delete", {
      token: alice,
      body: { item: "/Delete/Me/AOD", site: "T2_*" },
    });
    assertEquals(del.status, 200, del.body.message);
    await trackerPass();
    const polled =
      (await call("GET", `/data/request/polldelete?request_id=${del.body.data[0].request_id}`)).body
        .data[0];
    assertEquals(polled.status, "activated");
    assertEquals(polled.active.map((a: { site: string; status: string }) => [a.site, a.status]), [
      ["T2_A", "queued"],
      ["T2_C", "failed"],
    ]);
    assertMatch(polled.active[1].reason, /last complete copy/);
    assertEquals(
      await db.queryArrays("SELECT kind, site, request_id FROM replica_operations"),
      [["deletion", "T2_A", del.body.data[0].request_id]],
    );

    // Cancel: only the owner (or an admin), only while new.
    const req =
      (await call("POST", "/data/request/copy?item=/Copy/Me/AOD&site=T2_C&n=1", { token: alice })).body
        .data[0].request_id;
    assertEquals((await call("POST", `/data/request/cancelcopy?request_id=${req}`)).status, 401);
    const notYours = await call("POST", `/data/request/cancelcopy?request_id=${req}`, { token: bob });
    assertEquals(notYours.status, 409);
    assertMatch(notYours.body.message, /belongs to alice/);
    const cancelled = await call("POST", `/data/request/cancelcopy?request_id=${req}`, { token: alice });
    assertEquals([cancelled.status, cancelled.body.data.status], [200, "cancelled"]);
    const twice = await call("POST", `/data/request/cancelcopy?request_id=${req}`, { token: alice });
    assertEquals(twice.status, 409);
    assertMatch(twice.body.message, /only new requests can be cancelled/);
    assertEquals(
      (await call("POST", "/data/request/cancelcopy?request_id=999", { token: alice })).status,
      404,
    );

    // An application lock pauses the Dealer until released.
    const locked = await call("POST", "/data/applock/lock?app=dealer&note=migrating", { token: ops });
    assertEquals(locked.status, 200, locked.body.message);
    assertEquals((await call("GET", "/data/applock/check?app=dealer")).body.data.locked, true);
    const refused = await call("POST", "/data/dealer/run", { token: ops });
    assertEquals(refused.status, 409);
    assertMatch(refused.body.message, /locked by ops \(migrating\)/);
    assertEquals((await call("POST", "/data/applock/unlock?app=dealer", { token: ops })).status, 200);
    assertEquals((await call("POST", "/data/dealer/run", { token: ops })).status, 200);
    assertEquals((await call("GET", "/data/applock/current")).body.data, []);
  } finally {
    await dynamo.close();
  }
});

dbTest(
  "request, lock, demand and Dealer endpoints refuse bad input and missing rights, changing nothing",
  async ({ db }) => {
    const { dynamo, ops, alice, call } = await setUp(db);
    try {
      const cases: [string, string, string | undefined, unknown, number, RegExp][] = [
        ["POST", "/data/request/copy?item=/Copy/Me/AOD", undefined, undefined, 401, /authentication/],
        ["POST", "/data/request/copy", alice, undefined, 400, /"item": is required/],
        ["POST", "/data/request/copy?item=/Copy/Me/AOD&n=-1", alice, undefined, 400, /"n"/],
        [
          "POST",
          "/data/request/copy?item=/Copy/Me/AOD&n=lots",
          alice,
          undefined,
          400,
          /"n": expected an integer/,
        ],
        ["POST", "/data/request/copy?item=/a/../b", alice, undefined, 400, /"item"/],
        ["POST", "/data/request/copy?item=/Copy/Me/AOD&site=T2%20A", alice, undefined, 400, /"site"/],
        [
          "POST",
          "/data/request/copy?item=/Copy/Me/AOD&colour=red",
          alice,
          undefined,
          400,
          /"colour": unknown/,
        ],
        ["POST", "/data/request/copy", alice, { item: [{ x: 1 }] }, 400, /"item": expected text/],
        ["POST", "/data/request/delete?item=/Delete/Me/AOD", alice, undefined, 400, /"site": is required/],
        ["GET", "/data/request/pollcopy?request_id=abc", undefined, undefined, 400, /"request_id"/],
        ["POST", "/data/request/cancelcopy?request_id=x", alice, undefined, 400, /"request_id"/],
        ["GET", "/data/applock/check?app=rm-rf", undefined, undefined, 400, /"app": expected one of/],
        [
          "POST",
          "/data/applock/lock?app=dealer",
          alice,
          undefined,
          403,
          /role admin or operator on "application"/,
        ],
        ["POST", "/data/applock/unlock?app=dealer", ops, undefined, 409, /not locked by ops/],
        ["POST", "/data/dealer/run?mode=yolo", ops, undefined, 400, /"mode"/],
        ["POST", "/data/dealer/run", alice, undefined, 403, /application/],
        ["GET", "/data/dealer/decisions", undefined, undefined, 400, /give dataset or cycle/],
        ["POST", "/data/demand/jobs", alice, [], 403, /registry/],
        ["POST", "/data/demand/jobs", ops, { jobs: 1 }, 400, /"jobs": expected a list/],
        [
          "POST",
          "/data/demand/jobs",
          ops,
          [{ dataset: "/Copy/Me/AOD", queued: "yesterday", jobs: 3 }],
          400,
          /"jobs\[0\]\.queued"/,
        ],
        [
          "POST",
          "/data/demand/jobs",
          ops,
          [{ dataset: "/Copy/Me/AOD", queued: NOW / 1000 + 3600, jobs: 3 }],
          400,
          /in the future/,
        ],
        [
          "POST",
          "/data/demand/jobs",
          ops,
          [{ dataset: "/Copy/Me/AOD", queued: NOW / 1000, jobs: 0 }],
          400,
          /jobs/,
        ],
      ];
      for (const [method, path, token, body, status, pattern] of cases) {
        const r = await call(method, path, {
          ...(token ? { token } : {}),
          ...(body !== undefined ? { body } : {}),
        });
        assertEquals(r.status, status, `${method} ${path}: ${r.body.message}`);
        assertMatch(r.body.message, pattern, path);
      }
      assertEquals(await db.queryArrays("SELECT count(*) FROM copy_requests"), [[0]]);
      assertEquals(await db.queryArrays("SELECT count(*) FROM deletion_requests"), [[0]]);
      assertEquals(await db.queryArrays("SELECT count(*) FROM job_demand"), [[0]]);
      assertEquals(await db.queryArrays("SELECT count(*) FROM app_locks"), [[0]]);
      const jobs = await call("POST", "/data/demand/jobs", {
        token: ops,
        body: [{ dataset: "/Copy/Me/AOD", queued: "2026-11-24T10:00:00Z", jobs: 30 }],
      });
      assertEquals([jobs.status, jobs.body.data.recorded], [200, 1]);
    } finally {
      await dynamo.close();
    }
  },
);
