/**
 * Each call the original Dynamo clients make, sent exactly as they send it,
 * and checked for what they read back. The clients (SmartDataProjects/dynamo):
 * `bin/dynamo-request` with `lib/client/request.py` (form POSTs built by
 * `urllib.urlencode` of `item[]`… pairs), `bin/dynamo-inject` with
 * `lib/client/inject.py` (a JSON POST, groups under the misspelt `gruop`),
 * `test/test_web.py` (GETs), and the web monitor's jQuery calls in
 * `web/js/inventory/stats.js`, `web/js/transfers/activity.js` and
 * `web/js/deletions/activity.js` and `web/js/detox/monitor.js` (`$.ajax` GETs: arrays as `key[]`).
 * The request bodies below are what those functions produce, written out.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest, type DbTestContext } from "../../tests/helpers/db.ts";
import { createDynamo, type Dynamo } from "../../service/create_dynamo.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import { caller } from "../../tests/helpers/http.ts";
import { analysisFederation } from "../../tests/helpers/analysis_federation.ts";
import { parsePartitions } from "../../policies/partitions.ts";

interface Harness {
  dynamo: Dynamo;
  admin: string;
  alice: string;
  call: ReturnType<typeof caller>;
  /** A form POST as Python's urllib2 sends it (`Content-Type: application/x-www-form-urlencoded`). */
  form: (path: string, body: string, token?: string) => ReturnType<ReturnType<typeof caller>>;
  /** What the original client does with an answer: `data` when `result` is OK, else null (it prints `message`). */
  clientData: (r: { body: { result: string; data: unknown } }) => unknown;
}

async function harness({ db }: DbTestContext): Promise<Harness> {
  const users = new SqlUserStore(db);
  const { token: admin } = await users.addUser(
    { name: "admin", authorizations: [parseAuthorization("admin:inventory")] },
    0,
  );
  const { token: alice } = await users.addUser({ name: "alice", authorizations: [] }, 0);
  const dynamo = await createDynamo({ database: db, clock: new TestClock(), fileops: null });
  await dynamo.ready;
  const call = caller(dynamo.app);
  return {
    dynamo,
    admin,
    alice,
    call,
    form: (path, body, token) =>
      call("POST", path, {
        raw: body,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        ...(token ? { token } : {}),
      }),
    clientData: (r) => (r.body.result === "OK" ? r.body.data : null),
  };
}

// `dynamo-inject --site T2_US_MIT,se.mit.edu,disk T1_US_FNAL_MSS --group AnalysisOps
//   --dataset /Prim/Proc-v1/AOD,valid --block b1 --file /store/b1/f1.root,100 /store/b1/f2.root,50`
const INJECT_DATA = {
  dataset: [{
    name: "/Prim/Proc-v1/AOD",
    status: "valid",
    data_type: "unknown",
    blocks: [{
      name: "b1",
      files: [{ name: "/store/b1/f1.root", size: 100 }, { name: "/store/b1/f2.root", size: 50 }],
    }],
  }],
  site: [
    { name: "T2_US_MIT", host: "se.mit.edu", storage_type: "disk", backend: "", status: "unknown" },
    { name: "T1_US_FNAL_MSS", host: "", storage_type: "unknown", backend: "", status: "unknown" },
  ],
  gruop: [{ name: "AnalysisOps", olevel: "block" }],
};
// `dynamo-inject --dataset-replica T2_US_MIT:/Prim/Proc-v1/AOD --block-replica b1` (no owner given)
const INJECT_UNOWNED_REPLICA = {
  datasetreplica: [{ site: "T2_US_MIT", dataset: "/Prim/Proc-v1/AOD", blockreplicas: [{ block: "b1" }] }],
};
// `dynamo-inject --dataset-replica T1_US_FNAL_MSS:/Prim/Proc-v1/AOD,AnalysisOps`
const INJECT_OWNED_REPLICA = {
  datasetreplica: [{
    site: "T1_US_FNAL_MSS",
    dataset: "/Prim/Proc-v1/AOD",
    growing: true,
    group: "AnalysisOps",
  }],
};

async function injectLikeDynamoInject(h: Harness, doc: unknown): Promise<Record<string, number>> {
  const r = await h.call("POST", "/data/inventory/inject", { body: doc, token: h.admin });
  assertEquals(r.status, 200, r.body.message);
  const data = h.clientData(r) as Record<string, number>;
  // dynamo-inject prints `'%s: %d' % (key, response[key])` for every key: all must be numbers.
  for (const value of Object.values(data)) assertEquals(typeof value, "number");
  let status = "queued";
  for (let i = 0; i < 100 && status === "queued"; i++) {
    await h.dynamo.system.runUntilIdle();
    status = (await h.call("GET", `/data/inventory/injection?id=${data.injection_id}`)).body.data.status;
  }
  assertEquals(status, "applied");
  return data;
}

async function federation(h: Harness): Promise<void> {
  await injectLikeDynamoInject(h, INJECT_DATA);
  await injectLikeDynamoInject(h, INJECT_UNOWNED_REPLICA);
  await injectLikeDynamoInject(h, INJECT_OWNED_REPLICA);
}

dbTest(
  "dynamo-inject: the misspelt gruop key, a lowercase olevel and an unowned dataset replica",
  async (ctx) => {
    const h = await harness(ctx);
    try {
      await federation(h);
      const snap = h.dynamo.port.snapshot();
      assertEquals(snap.group("AnalysisOps")?.olevel, "Block");
      const d = snap.dataset("/Prim/Proc-v1/AOD")!;
      const mit = snap.replica(d.id, snap.site("T2_US_MIT")!.id)!;
      assertEquals(
        [mit.groupId, mit.blockReplicas.map((br) => br.groupId)],
        [0, [0]],
        "the null group, as the original",
      );
      const fnal = snap.replica(d.id, snap.site("T1_US_FNAL_MSS")!.id)!;
      assertEquals(snap.groupById(fnal.groupId)?.name, "AnalysisOps");

      // `dynamo-inject --delete --group AnalysisOps` sends the same key; both spellings at once are refused.
      const both = await h.call("POST", "/data/inventory/injectsync", {
        token: h.admin,
        body: { group: [{ name: "A" }], gruop: [{ name: "B" }] },
      });
      assertEquals(both.status, 400);
      assertMatch(both.body.message, /"gruop": give the list once, under "group"/);
      assertEquals(h.dynamo.port.snapshot().group("A"), undefined, "nothing changed");
    } finally {
      await h.dynamo.close();
    }
  },
);

dbTest(
  "dynamo-request: copy, poll, cancel and delete as form POSTs; data[0] and data.request_id",
  async (ctx) => {
    const h = await harness(ctx);
    try {
      await federation(h);
      // dynamo-request --dataset /Prim/Proc-v1/AOD --site T2_US_MIT 'T2_*'
      const copy = await h.form(
        "/data/request/copy",
        "item%5B%5D=%2FPrim%2FProc-v1%2FAOD&site%5B%5D=T2_US_MIT&site%5B%5D=T2_%2A&n=1",
        h.alice,
      );
      assertEquals(copy.status, 200, copy.body.message);
      // "Response is a single-element list": it prints request_id, then site × item.
      const [made] = h.clientData(copy) as { request_id: number; site: string[]; item: string[] }[];
      assertEquals([made!.site, made!.item], [["T2_*", "T2_US_MIT"], ["/Prim/Proc-v1/AOD"]]);
      const id = made!.request_id;

      // dynamo-request --poll ID, and --poll with items, sites, statuses and users (repeated keys).
      for (
        const body of [
          `request_id=${id}`,
          "item%5B%5D=%2FPrim%2FProc-v1%2FAOD&item%5B%5D=%2FOther%2FDS%2FAOD&site%5B%5D=T2_US_MIT&status%5B%5D=new" +
          "&status%5B%5D=activated&user%5B%5D=alice&user%5B%5D=bob",
        ]
      ) {
        const poll = await h.form("/data/request/pollcopy", body);
        assertEquals(poll.status, 200, poll.body.message);
        const rows = h.clientData(poll) as { request_id: number; status: string; active: unknown[] }[];
        assertEquals(rows.map((r) => [r.request_id, r.status]), [[id, "new"]], body);
      }
      const nobody = await h.form("/data/request/pollcopy", "user%5B%5D=carol&user%5B%5D=dave");
      assertEquals([nobody.body.data, nobody.body.message], [[], "Request not found"]);

      // dynamo-request --cancel ID: the request made above, in the same session.
      const cancel = await h.form("/data/request/cancelcopy", `request_id=${id}`, h.alice);
      assertEquals(cancel.status, 200, cancel.body.message);
      assertEquals((h.clientData(cancel) as { request_id: number }).request_id, id);

      // dynamo-request --delete --dataset /Prim/Proc-v1/AOD --site T2_US_MIT, then --delete --poll.
      const del = await h.form(
        "/data/request/delete",
        "item%5B%5D=%2FPrim%2FProc-v1%2FAOD&site%5B%5D=T2_US_MIT",
        h.alice,
      );
      assertEquals(del.status, 200, del.body.message);
      const deletionId = (h.clientData(del) as { request_id: number }[])[0]!.request_id;
      const polled = await h.form(
        "/data/request/polldelete",
        "item%5B%5D=%2FPrim%2FProc-v1%2FAOD&site%5B%5D=T2_US_MIT",
      );
      assertEquals((h.clientData(polled) as { request_id: number }[]).map((r) => r.request_id), [deletionId]);

      // A copy of data that does not exist is refused with the reason (the original: "Invalid item name").
      for (
        const [body, pattern] of [
          [
            "item%5B%5D=%2FNo%2FSuch%2FAOD&site%5B%5D=T2_US_MIT&n=1",
            /"item": invalid item name: unknown dataset/,
          ],
          [
            "item%5B%5D=%2FPrim%2FProc-v1%2FAOD%23nope&site%5B%5D=T2_US_MIT&n=1",
            /"item": invalid item name: unknown block/,
          ],
          ["item%5B%5D=%2FPrim%2FProc-v1%2FAOD&site%5B%5D=T9_NOWHERE&n=1", /"site": invalid site name/],
        ] as const
      ) {
        const r = await h.form("/data/request/copy", body, h.alice);
        assertEquals([r.status, h.clientData(r)], [400, null], body);
        assertMatch(r.body.message, pattern);
      }
      const groupless = await h.call(
        "POST",
        "/data/request/copy?item=/Prim/Proc-v1/AOD&site=T2_US_MIT&group=Nobody",
        {
          token: h.alice,
        },
      );
      assertMatch(groupless.body.message, /"group": invalid group name/);
      const pending = await h.form("/data/request/pollcopy", "item%5B%5D=%2FNo%2FSuch%2FAOD");
      assertEquals(pending.body.data, [], "nothing was recorded");
    } finally {
      await h.dynamo.close();
    }
  },
);

dbTest("test_web.py: sites, blockreplicas, requestlist and subscriptions answer with data", async (ctx) => {
  const h = await harness(ctx);
  try {
    await federation(h);
    await h.form(
      "/data/request/copy",
      "item%5B%5D=%2FPrim%2FProc-v1%2FAOD&site%5B%5D=T2_US_MIT&n=1",
      h.alice,
    );
    for (
      const path of [
        "/data/inventory/sites",
        "/data/inventory/blockreplicas",
        "/data/inventory/requestlist",
        "/data/inventory/subscriptions",
      ]
    ) {
      const r = await h.call("GET", path);
      assertEquals([r.status, "data" in r.body], [200, true], path);
    }
    const sites = (await h.call("GET", "/data/inventory/sites")).body.data as { name: string }[];
    assert(sites.some((s) => s.name === "T2_US_MIT"));

    const list = (await h.call("GET", "/data/inventory/requestlist?node=T2_*&dataset=/Prim/*")).body.data;
    assertEquals(
      list.request.map((r: { type: string; approval: string; requested_by: string }) => [
        r.type,
        r.approval,
        r.requested_by,
      ]),
      [["xfer", "pending", "alice"]],
    );
    assertEquals(list.request[0].node.map((n: { name: string }) => n.name), ["T2_US_MIT"]);
    assertEquals((await h.call("GET", "/data/inventory/requestlist?decision=approved")).body.data, {
      request: [],
    });

    const subs = (await h.call("GET", "/data/inventory/subscriptions?dataset=/Prim/Proc-v1/AOD")).body.data;
    assertEquals(subs.dataset.length, 1);
    assertEquals(
      subs.dataset[0].subscription.map((
        s: { node: string; level: string; group: string | null; percent_bytes: number },
      ) => [
        s.node,
        s.level,
        s.group,
        s.percent_bytes,
      ]),
      [["T2_US_MIT", "DATASET", null, 100], ["T1_US_FNAL_MSS", "DATASET", "AnalysisOps", 0]],
    );
    const blocks =
      (await h.call("GET", "/data/inventory/subscriptions?block=/Prim/Proc-v1/AOD%23b*&node=T2_*"))
        .body.data;
    assertEquals(
      blocks.dataset[0].block.map((
        b: { name: string; subscription: { level: string }[] },
      ) => [b.name, b.subscription.map((s) => s.level)]),
      [["/Prim/Proc-v1/AOD#b1", ["BLOCK"]]],
    );
  } finally {
    await h.dynamo.close();
  }
});

dbTest(
  "the web monitor's inventory statistics: list_by, physical, regex constraints, group[]",
  async (ctx) => {
    const h = await harness(ctx);
    try {
      await federation(h);
      // loadData(): `$.ajax({data: {list_by, physical, group: [...], data_type: "", …}})`.
      const empty = "data_type=&dataset_status=&dataset_software_version=&dataset=&site=&site_status=";
      const size = await h.call("GET", `/data/inventory/stats/size?list_by=site&physical=y&${empty}`);
      assertEquals(size.status, 200, size.body.message);
      // T2_US_MIT holds b1 complete (150 bytes); the FNAL replica has no block replicas.
      assertEquals(size.body.data, { statistic: "size", content: [{ key: "T2_US_MIT", size: 150e-12 }] });

      const byGroup = await h.call(
        "GET",
        `/data/inventory/stats/size?list_by=group&physical=n&${empty}&group%5B%5D=None&group%5B%5D=AnalysisOps`,
      );
      assertEquals(byGroup.body.data.content, [{ key: "None", size: 150e-12 }]);
      const onlyOwned = await h.call(
        "GET",
        `/data/inventory/stats/size?list_by=group&physical=n&group%5B%5D=AnalysisOps`,
      );
      assertEquals(onlyOwned.body.data.content, []);

      const replication = await h.call(
        "GET",
        `/data/inventory/stats/replication?list_by=dataset_status&physical=y&${empty}`,
      );
      assertEquals(replication.body.data, {
        statistic: "replication",
        content: [{ key: "valid", mean: 1, rms: 0 }],
      });

      // The regex constraints are matched from the start, as Python's re.match; the JSON link joins groups with ",".
      const usage = await h.call(
        "GET",
        "/data/inventory/stats/usage?list_by=data_type&physical=y&site=T2_&group=None,AnalysisOps",
      );
      assertEquals(usage.body.data, {
        statistic: "usage",
        content: [{ site: "T2_US_MIT", usage: [{ key: "unknown", size: 150e-12 }] }],
        keys: ["unknown"],
      });
      const noMatch = await h.call("GET", "/data/inventory/stats/usage?list_by=site&dataset=/Other/");
      assertEquals(noMatch.body.data, { statistic: "usage", content: [], keys: [] });
      // A null software version is selected by "None".
      const none = await h.call(
        "GET",
        "/data/inventory/stats/size?list_by=dataset&dataset_software_version=None",
      );
      assertEquals(none.body.data.content, [{ key: "/Prim/Proc-v1/AOD", size: 150e-12 }]);
    } finally {
      await h.dynamo.close();
    }
  },
);

dbTest("the web monitor's transfer and deletion histograms", async (ctx) => {
  const h = await harness(ctx);
  try {
    const now = h.dynamo.port.now();
    const hour = 3_600_000;
    const transfers: [string, string, number, number, number][] = [
      ["T1_US_FNAL_Disk", "T2_US_MIT", 2e9, 0, now - 1.5 * hour],
      ["T1_US_FNAL_Disk", "T2_US_MIT", 1e9, 0, now - 0.5 * hour],
      ["T1_US_FNAL_MSS", "T2_US_MIT", 4e9, 0, now - 0.5 * hour],
      ["T2_CH_CERN", "T2_US_MIT", 8e9, 5, now - 0.5 * hour],
      ["T2_CH_CERN", "T2_DE_DESY", 1e9, 0, now - 30 * hour],
    ];
    for (const [source, destination, size, exit, finished] of transfers) {
      await h.dynamo.db.queryArrays(
        `INSERT INTO file_transfers (lfn, source, destination, size, exit_code, started_ms, finished_ms)
         VALUES ('/store/x.root', $1, $2, $3, $4, $5, $5)`,
        [source, destination, size, exit, finished],
      );
    }
    await h.dynamo.db.queryArrays(
      `INSERT INTO file_deletions (lfn, site, size, exit_code, started_ms, finished_ms)
       VALUES ('/store/x.root', 'T2_US_MIT', 3000000000, 0, $1, $1)`,
      [now - 2 * hour],
    );
    // initPage(graph, entity, src_filter, dest_filter, no_mss, period, upto, exit_code) as the page sends it.
    const volume = await h.call(
      "GET",
      "/data/transfers/history?graph=volume&entity=dest&src_filter=&dest_filter=&no_mss=true&period=24h&upto=0h&exit_code=0",
    );
    assertEquals(volume.status, 200, volume.body.message);
    const series = volume.body.data as {
      name: string;
      data: { time: number; y_value: number }[];
      summary_string: string;
    }[];
    assertEquals(series.map((s) => s.name), ["T2_US_MIT"]);
    assertEquals(series[0]!.data.length, 24, "hour bins over 24 hours");
    assertEquals(
      series[0]!.data.slice(-2).map((p) => p.y_value),
      [2, 1],
      "GB per hour; MSS and failures left out",
    );
    assertEquals(series[0]!.data[1]!.time - series[0]!.data[0]!.time, 3600);
    assertMatch(series[0]!.summary_string, /Max: 2\.000 GB, .*Last: 1\.000 GB/);
    assertEquals(
      (volume.body.data[0] as { yaxis_label: string }).yaxis_label,
      "Transfered Volume [GB] / hour",
    );

    const links = await h.call(
      "GET",
      "/data/transfers/history?graph=number&entity=link&no_mss=false&exit_code=*&period=2h",
    );
    assertEquals(links.body.data.map((s: { name: string }) => s.name), [
      "T1_US_FNAL_Disk->T2_US_MIT",
      "T1_US_FNAL_MSS->T2_US_MIT",
      "T2_CH_CERN->T2_US_MIT",
    ]);
    const failed = await h.call(
      "GET",
      "/data/transfers/history?graph=cumulative&entity=src&exit_code=!0&src_filter=T2_CH%25",
    );
    assertEquals(failed.body.data.map((s: { name: string }) => s.name), ["T2_CH_CERN"]);
    const filtered = await h.call(
      "GET",
      "/data/transfers/history?graph=rate&dest_filter=T2_DE_*&period=2d&upto=1d",
    );
    assertEquals(filtered.body.data[0].name, "T2_DE_DESY");
    const nothing = await h.call("GET", "/data/transfers/history?graph=volume&period=1h&upto=52w");
    assertEquals(Object.keys(nothing.body.data[0]).sort(), [
      "subtitle",
      "summary_string",
      "timing_string",
      "title",
      "yaxis_label",
    ]);

    const deletions = await h.call(
      "GET",
      "/data/deletions/history?graph=volume&src_filter=&no_mss=true&period=24h&upto=0h&exit_code=0",
    );
    assertEquals(deletions.body.data.map((s: { name: string }) => s.name), ["T2_US_MIT"]);
    assertEquals(deletions.body.data[0].title, "Dynamo Deletions (volume)");
    // Without the monitor's parameters: the listing, as before.
    assertEquals((await h.call("GET", "/data/transfers/history?limit=2")).body.data.length, 2);
  } finally {
    await h.dynamo.close();
  }
});

dbTest("lfn2pfn as the original was called (node, protocol, lfn) and as ours (site, lfn)", async (ctx) => {
  const h = await harness(ctx);
  const root = await Deno.makeTempDir();
  try {
    const r = await h.call("POST", "/data/inventory/injectsync", {
      token: h.admin,
      body: {
        site: [{
          name: "T2_US_MIT",
          backend: `file://${root}`,
          filename_mappings: { srmv2: [[["/store/(.*)", "/data/{0}"]]] },
        }, { name: "T2_US_Purdue", backend: `file://${root}` }],
      },
    });
    assertEquals(r.status, 200, r.body.message);
    const mapping = await h.call(
      "GET",
      "/data/inventory/lfn2pfn?node=T2_US_*&protocol=srmv2&lfn=/store/a/b.root",
    );
    assertEquals(mapping.status, 200, mapping.body.message);
    assertEquals(
      mapping.body.data.mapping.map((
        m: { node: string; pfn: string; protocol: string },
      ) => [m.node, m.pfn, m.protocol]),
      [
        ["T2_US_MIT", `file://${root}/data/a/b.root`, "srmv2"],
        ["T2_US_Purdue", `file://${root}/store/a/b.root`, "srmv2"],
      ],
    );
    assertEquals((await h.call("GET", "/data/inventory/lfn2pfn?node=T2_US_MIT&lfn=/store/a")).body.data, {
      mapping: [],
    });
    const ours = await h.call("GET", "/data/inventory/lfn2pfn?site=T2_US_MIT&lfn=/store/a/b.root");
    assertEquals(ours.body.data.pfn, `file://${root}/store/a/b.root`);
    const both = await h.call(
      "GET",
      "/data/inventory/lfn2pfn?site=T2_US_MIT&node=T2_US_MIT&protocol=x&lfn=/store/a",
    );
    assertEquals(both.status, 400);
  } finally {
    await h.dynamo.close();
    await Deno.remove(root, { recursive: true });
  }
});

dbTest(
  "garbage and hostile values of the original clients' parameters are 400s naming them; nothing changes",
  async (ctx) => {
    const h = await harness(ctx);
    try {
      await federation(h);
      const generation = h.dynamo.port.snapshot().generation;
      const cases: [string, string, RegExp][] = [
        ["GET", "/data/inventory/stats/size?list_by=nope", /"list_by": expected one of data_type/],
        ["GET", "/data/inventory/stats/size?list_by=%3Cscript%3E", /"list_by"/],
        ["GET", "/data/inventory/stats/usage?physical=maybe", /"physical": expected y or n/],
        ["GET", "/data/inventory/stats/size?dataset=(", /"dataset": not a regular expression/],
        ["GET", "/data/inventory/stats/size?site=*", /"site": not a regular expression/],
        [
          "GET",
          "/data/inventory/stats/replication?group%5B%5D=%00",
          /"group": must not contain control characters/,
        ],
        [
          "GET",
          `/data/inventory/stats/size?data_type=${"x".repeat(1001)}`,
          /"data_type": values must be at most/,
        ],
        ["GET", "/data/inventory/stats/size?list_by=site&list_by=group", /"list_by": must be given once/],
        [
          "GET",
          "/data/transfers/history?graph=pie",
          /"graph": expected one of number, volume, rate, cumulative/,
        ],
        ["GET", "/data/transfers/history?entity=moon", /"entity": expected one of dest, src, link/],
        ["GET", "/data/transfers/history?period=0h", /"period": .*not 0/],
        ["GET", "/data/transfers/history?period=24", /"period": expected a whole number/],
        ["GET", "/data/transfers/history?period=-1h", /"period"/],
        ["GET", "/data/transfers/history?period=9999999h", /"period"/],
        ["GET", "/data/transfers/history?upto=yesterday", /"upto"/],
        ["GET", "/data/transfers/history?exit_code=abc", /"exit_code": expected a code/],
        ["GET", "/data/transfers/history?exit_code=0%20or%201=1", /"exit_code"/],
        ["GET", "/data/transfers/history?no_mss=maybe", /"no_mss": expected true or false/],
        ["GET", "/data/transfers/history?src_filter=%0A", /"src_filter": must not contain control/],
        ["GET", "/data/transfers/history?graph=volume&limit=5", /"limit": a listing parameter/],
        ["GET", "/data/deletions/history?entity=src", /"entity": unknown parameter/],
        ["GET", "/data/deletions/history?dest_filter=T2_*", /"dest_filter": unknown parameter/],
        [
          "GET",
          "/data/inventory/lfn2pfn?node=%07&protocol=srm&lfn=/store/a",
          /"node": must not contain control/,
        ],
        ["GET", "/data/inventory/lfn2pfn?site=T2_US_MIT", /"lfn": is required/],
        ["GET", "/data/inventory/requestlist?decision=maybe", /"decision": expected one of approved/],
        ["GET", "/data/inventory/subscriptions?dataset=/A&suspended=perhaps", /"suspended": expected y or n/],
        ["POST", "/data/request/pollcopy?status=bogus", /"status": expected new, activated/],
        ["POST", "/data/request/polldelete?request_id=1%3BDROP", /"request_id": expected an integer/],
        ["POST", "/data/request/pollcopy?user=%1B%5B31m", /"user": must not contain control/],
      ];
      for (const [method, path, pattern] of cases) {
        const r = await h.call(method, path);
        assertEquals([r.status, r.body.result], [400, "Bad Request"], `${method} ${path}: ${r.body.message}`);
        assertMatch(r.body.message, pattern);
      }
      // A filter is a name pattern, not SQL: the original's injection finds nothing here.
      const sql = await h.call("GET", "/data/transfers/history?graph=number&src_filter=%25'%20OR%201=1%20--");
      assertEquals([sql.status, sql.body.data.length, "name" in sql.body.data[0]], [200, 1, false]);
      // Injections with a misspelt key that is not a list, or garbage under it, change nothing.
      for (
        const gruop of ["AnalysisOps", [{ name: 5, olevel: "block" }], [{
          name: "X",
          olevel: "team",
        }]]
      ) {
        const r = await h.call("POST", "/data/inventory/injectsync", { token: h.admin, body: { gruop } });
        assertEquals(r.status, 400, JSON.stringify(gruop));
        assertMatch(r.body.message, /^Parameter "group/);
      }
      assertEquals(h.dynamo.port.snapshot().generation, generation, "nothing changed");
      assertEquals(
        (await h.form("/data/request/pollcopy", "item%5B%5D=%2FPrim%2FProc-v1%2FAOD")).body.data,
        [],
      );
    } finally {
      await h.dynamo.close();
    }
  },
);

// ---- The Detox monitor page: `web/js/detox/monitor.js` (jQuery GETs, arrays as `datasets[]`). ----

const DETOX_NOW = Date.UTC(2026, 10, 25);
const DETOX_POLICY = `Partition Analysis
On site.name == T2_*
When site.occupancy > 0.9
Until site.occupancy < 0.85
Protect replica.num_full_other_copy_common_owner == 0
Dismiss
`;

/** Two sites at 96 % of a 1000-byte quota; /S/one and /S/two are at both, so one copy of each may go. */
async function detoxHarness({ db }: DbTestContext) {
  const users = new SqlUserStore(db);
  const { token: admin } = await users.addUser({
    name: "ops",
    authorizations: ["admin:inventory", "admin:application"].map(parseAuthorization),
  }, 0);
  const dynamo = await createDynamo({
    database: db,
    clock: new TestClock(DETOX_NOW),
    fileops: null,
    partitions: parsePartitions("Analysis: blockreplica.owner == AnalysisOps\n"),
    detox: {
      policies: [{ file: "analysis.txt", text: DETOX_POLICY }],
      intervalMs: 0,
      deletionPerIteration: 1,
      protectedSites: [],
      enforcer: null,
    },
  });
  await dynamo.ready;
  const reply = await dynamo.port.submit({ commands: analysisFederation(DETOX_NOW), atomic: true });
  assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"));
  const analysis = dynamo.port.snapshot().partitions().find((p) => p.name === "Analysis")!.id;
  return { dynamo, admin, call: caller(dynamo.app), analysis };
}

dbTest("monitor.js (Detox): every call as the page sends it, every field it reads", async (ctx) => {
  const h = await detoxHarness(ctx);
  try {
    const { analysis } = h;
    // initPage(0, partitionId) before any cycle: cycle 0, and the page says none was recorded.
    const none = await h.call("GET", `/data/detox/cycles?partition_id=${analysis}&cycle=0`);
    assertEquals(none.status, 200, none.body.message);
    assertEquals(none.body.data, [{ cycle: 0, partition_id: analysis, comment: "", timestamp: 0 }]);

    const dry = await h.call("POST", "/data/detox/run?mode=dry-run", { token: h.admin });
    assertEquals(dry.status, 200, dry.body.message);
    const first =
      (await h.call("POST", "/data/detox/run?comment=first", { token: h.admin })).body.data[0].cycle;
    const second = (await h.call("POST", "/data/detox/run", { token: h.admin })).body.data[0].cycle;
    assert(second > first);

    // initPage / checkUpdates: cycleData[0].cycle and .timestamp; a dry run is not shown.
    const latest = await h.call("GET", `/data/detox/cycles?partition_id=${analysis}&cycle=0`);
    assertEquals(latest.body.data, [{
      cycle: second,
      partition_id: analysis,
      comment: "",
      timestamp: DETOX_NOW / 1000,
    }]);
    const named = await h.call("GET", `/data/detox/cycles?partition_id=${analysis}&cycle=${first}`);
    assertEquals(named.body.data[0].cycle, first);
    assertEquals(named.body.data[0].comment, "first");
    // A cycle of another partition (none here with id 0 → any) or none at all: cycle 0.
    const missing = await h.call("GET", `/data/detox/cycles?partition_id=${analysis}&cycle=99999`);
    assertEquals(missing.body.data[0].cycle, 0);

    // setPartitions: id, name, monitored; our own fields beside them.
    const partitions = await h.call("GET", "/data/detox/partitions");
    const tab = partitions.body.data.find((p: { id: number }) => p.id === analysis);
    assertEquals(
      [tab.name, tab.monitored, tab.partition, tab.cycles, tab.latest_cycle],
      ["Analysis", true, "Analysis", 3, second],
    );

    // loadSummary(cycle): cycle, cycle_timestamp, comment, previous/next (0 = none), site_data in TB, Total first.
    const s1 = (await h.call("GET", `/data/detox/summary?cycle=${first}`)).body.data;
    assertEquals(
      [s1.cycle, s1.cycle_timestamp, s1.comment, s1.previous_cycle, s1.next_cycle],
      [first, DETOX_NOW / 1000, "first", dry.body.data[0].cycle, second],
      "previous and next as our summary counts them: any cycle of the partition, a dry run too",
    );
    assertEquals(s1.site_data.map((d: { name: string }) => d.name), ["Total", "T2_A", "T2_B"]);
    for (const d of s1.site_data.slice(1)) {
      assertEquals([d.quota, d.status], [1000 / 1e12, 1]);
      assertEquals(d.protect + d.keep + d.delete, 960 / 1e12, `${d.name}: four 240-byte replicas`);
      assertEquals(d.delete, 240 / 1e12, `${d.name}: one shared copy deleted`);
      assertEquals(d.protect_prev + d.keep_prev, 720 / 1e12, `${d.name}: what the dry run kept`);
    }
    const total = s1.site_data[0];
    assertEquals([total.quota, total.delete], [2000 / 1e12, 480 / 1e12]);
    assertEquals(s1.cycle_record.cycle, first, "our full record");
    assertEquals(s1.sites.map((x: { site: string }) => x.site).sort(), ["T2_A", "T2_B"], "our own list");
    const s2 = (await h.call("GET", `/data/detox/summary?cycle=${second}`)).body.data;
    assertEquals([s2.previous_cycle, s2.next_cycle], [first, 0]);
    const a2 = s2.site_data.find((d: { name: string }) => d.name === "T2_A");
    const a1 = s1.site_data.find((d: { name: string }) => d.name === "T2_A");
    assertEquals([a2.protect_prev, a2.keep_prev], [a1.protect, a1.keep]);

    // loadSiteTable(name): content.name, content.datasets [{name, size (GB), decision, condition_id}], conditions.
    const detail = (await h.call("GET", `/data/detox/sitedetail?cycle=${first}&site=T2_A`)).body.data;
    assertEquals(detail.content.name, "T2_A");
    assertEquals(detail.content.datasets.length, 4);
    for (const d of detail.content.datasets) {
      assertEquals(d.size, 240 / 1e9);
      assert(["protect", "keep", "delete"].includes(d.decision), d.decision);
      assertEquals(typeof detail.conditions[d.condition_id], "string");
    }
    assertEquals(detail.conditions[0], "No policy match");
    const deleted = detail.content.datasets.find((d: { decision: string }) => d.decision === "delete");
    assertEquals(detail.conditions[deleted.condition_id], "Dismiss");
    assertEquals(detail.datasets.length, 4, "our own rows beside");

    // findDataset: datasets[] as jQuery sends an array; results[i].pattern and .site_data, Total last.
    const search = await h.call(
      "GET",
      `/data/detox/datasets?cycle=${first}&datasets%5B%5D=%2FS%2F*&datasets%5B%5D=%2FA%2Fthree%2FAOD`,
    );
    assertEquals(search.status, 200, search.body.message);
    const [shared, three] = search.body.data.results;
    assertEquals(shared.pattern, "/S/*");
    assertEquals(shared.site_data.map((x: { name: string }) => x.name), ["T2_A", "T2_B", "Total"]);
    assertEquals(shared.site_data[0].datasets.map((d: { name: string }) => d.name), [
      "/S/one/AOD",
      "/S/two/AOD",
    ]);
    const sharedTotal = shared.site_data[2];
    assertEquals(sharedTotal.protect + sharedTotal.keep + sharedTotal.delete, 960 / 1e9);
    assertEquals(sharedTotal.delete, 480 / 1e9);
    assertEquals(three.site_data.map((x: { name: string }) => x.name), ["T2_A", "Total"]);
    assertEquals(three.site_data[0].datasets[0].size, 240 / 1e9);
    for (const d of three.site_data[0].datasets) {
      assertEquals(typeof search.body.data.conditions[d.condition_id], "string");
    }

    // downloadList: a text download of the deletions.
    const dump = await h.dynamo.app.fetch(new Request(`http://dynamo.test/data/detox/dump?cycle=${first}`));
    assertEquals(dump.status, 200);
    assertMatch(
      dump.headers.get("Content-Disposition")!,
      new RegExp(`attachment; filename="deletions_${first}\\.txt"`),
    );
    const lines = (await dump.text()).trimEnd().split("\n");
    assertEquals(lines.length, 2);
    for (const line of lines) assertMatch(line, /^T2_[AB]\t\/S\/(one|two)\/AOD\t0\.00$/);

    // Our own clients' calls, unchanged.
    const ours = await h.call("GET", "/data/detox/cycles?partition=Analysis");
    assertEquals(ours.body.data.map((c: { mode: string }) => c.mode), ["normal", "normal", "dry-run"]);
    const why = await h.call("GET", `/data/detox/datasets?dataset=/S/one/*&cycle=${first}`);
    assertEquals(why.body.data.decisions.length, 2);
  } finally {
    await h.dynamo.close();
  }
});

dbTest(
  "monitor.js (Detox): garbage and hostile partition_id, cycle and datasets[] are 400s naming them",
  async (ctx) => {
    const h = await detoxHarness(ctx);
    try {
      await h.call("POST", "/data/detox/run", { token: h.admin });
      const count = async () => (await h.dynamo.db.queryArrays("SELECT count(*) FROM detox_cycles"))[0]![0];
      const before = await count();
      const many = Array.from({ length: 21 }, (_, i) => `datasets%5B%5D=%2FS${i}%2F*`).join("&");
      const cases: [string, number, string][] = [
        ["/data/detox/cycles?partition_id=abc&cycle=0", 400, "partition_id"],
        ["/data/detox/cycles?partition_id=1%3B%20DROP%20TABLE%20detox_cycles&cycle=0", 400, "partition_id"],
        ["/data/detox/cycles?partition_id=-1&cycle=0", 400, "partition_id"],
        ["/data/detox/cycles?partition_id=99999999&cycle=0", 404, "partition with id 99999999"],
        ["/data/detox/cycles?partition_id=1&cycle=-3", 400, "cycle"],
        ["/data/detox/cycles?partition_id=1&cycle=1e9", 400, "cycle"],
        ["/data/detox/cycles?partition_id=1&partition_id=2", 400, "partition_id"],
        ["/data/detox/datasets?cycle=1&datasets%5B%5D=", 400, "datasets"],
        ["/data/detox/datasets?cycle=1&datasets%5B%5D=%2FS%2F*&dataset=%2FS%2F*", 400, "datasets"],
        [`/data/detox/datasets?cycle=1&${many}`, 400, "datasets"],
        [`/data/detox/datasets?cycle=1&datasets%5B%5D=${"*a".repeat(501)}`, 400, "datasets"],
        ["/data/detox/datasets?cycle=1&datasets%5B%5D=%2FS%0A", 400, "datasets"],
        ["/data/detox/datasets?cycle=1", 400, "dataset"],
        ["/data/detox/dump?cycle=abc", 400, "cycle"],
        ["/data/detox/dump?cycle=1&site=T2_A", 400, "site"],
      ];
      for (const [path, status, names] of cases) {
        const r = await h.call("GET", path);
        assertEquals(r.status, status, `${path}: ${r.body.message}`);
        assert(r.body.message.includes(names), `${path}: ${r.body.message}`);
      }
      // A pathological glob is matched in linear time and finds nothing.
      const slow = await h.call("GET", `/data/detox/datasets?cycle=1&datasets%5B%5D=${"*a".repeat(100)}b`);
      assertEquals(slow.status, 200, slow.body.message);
      assertEquals(slow.body.data.results[0].site_data, [{ name: "Total", protect: 0, keep: 0, delete: 0 }]);
      assertEquals(await count(), before, "nothing changed");
    } finally {
      await h.dynamo.close();
    }
  },
);
