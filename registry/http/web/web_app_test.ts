/**
 * The web monitor in process (no browser): pages answer, what they show is
 * escaped, bad parameters are refused, and actions need a sign-in, a CSRF
 * token and the same origin. The browser tests are in browser_test.ts.
 */
import { assert, assertEquals, assertMatch } from "../../../tests/helpers/assert.ts";
import { dbTest, type DbTestContext } from "../../../tests/helpers/db.ts";
import { createDynamo, type Dynamo } from "../../../service/create_dynamo.ts";
import { SqlUserStore } from "../../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../../adapters/db/user_store_port.ts";
import { TestClock } from "../../../actors/runtime/mod.ts";
import { ASSETS } from "./assets.ts";
import { SqlConsistencyStore } from "../../../adapters/db/consistency_store.ts";
import type { FindingRecord, RunRecord } from "../../../adapters/db/consistency_store_port.ts";

const HOSTILE = "/<script>alert(1)</script>/x/RAW";

async function harness({ db }: DbTestContext) {
  const users = new SqlUserStore(db);
  const { token: operator } = await users.addUser({
    name: "op",
    authorizations: [parseAuthorization("operator:application"), parseAuthorization("admin:inventory")],
  }, 0);
  const { token: reader } = await users.addUser({ name: "reader", authorizations: [] }, 0);
  const clock = new TestClock(Date.UTC(2026, 0, 5));
  const dynamo = await createDynamo({ database: db, clock, web: { sessionMs: 3600_000 } });
  await dynamo.ready;
  return { dynamo, operator, reader, clock };
}

async function get(dynamo: Dynamo, path: string, cookie?: string) {
  const res = await dynamo.app.fetch(
    new Request(`http://dynamo.test${path}`, { headers: cookie ? { Cookie: cookie } : {} }),
  );
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function post(dynamo: Dynamo, path: string, form: Record<string, string>, headers: HeadersInit = {}) {
  const res = await dynamo.app.fetch(
    new Request(`http://dynamo.test${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
      redirect: "manual",
    }),
  );
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function signIn(dynamo: Dynamo, token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await post(dynamo, "/web/signin", { token, next: "/web/transfers/held" });
  assertEquals(res.status, 303, res.text);
  const cookie = res.headers.get("Set-Cookie")!.split(";")[0]!;
  const page = await get(dynamo, "/web/transfers/held", cookie);
  const csrf = page.text.match(/name="csrf" value="([^"]+)"/)![1]!;
  return { cookie, csrf };
}

dbTest(
  "every page answers with security headers; the chart library is served from its npm package",
  async (ctx) => {
    const { dynamo } = await harness(ctx);
    try {
      for (
        const path of [
          "/web/",
          "/web/detox/monitor",
          "/web/dealer/monitor",
          "/web/requests",
          "/web/transfers/monitor",
          "/web/transfers/held",
          "/web/transfers/activity",
          "/web/deletions/activity",
          "/web/detox/locks",
          "/web/scheduler",
          "/web/consistency",
        ]
      ) {
        const page = await get(dynamo, path);
        assertEquals(page.status, 200, `${path}: ${page.text.slice(0, 500)}`);
        assertMatch(page.headers.get("Content-Type")!, /text\/html/);
        assertMatch(page.headers.get("Content-Security-Policy")!, /script-src 'self'/);
        assert(page.text.includes(`src="${ASSETS.chart}"`), path);
      }
      const chart = await get(dynamo, ASSETS.chart);
      assertEquals(chart.status, 200);
      assertMatch(chart.headers.get("Content-Type")!, /javascript/);
      assert(chart.text.length > 100_000 && chart.text.includes("Chart"), "the UMD build of Chart.js");
      assertEquals((await get(dynamo, "/web/assets/nope.js")).status, 404);
      assertEquals((await get(dynamo, "/web/nowhere")).status, 404);
      const redirect = await dynamo.app.fetch(new Request("http://dynamo.test/web"), {});
      assertEquals([redirect.status, redirect.headers.get("Location")], [301, "/web/"]);
    } finally {
      await dynamo.close();
    }
  },
);

dbTest("what the pages show is escaped: hostile names and query values appear as text", async (ctx) => {
  const { dynamo, operator } = await harness(ctx);
  try {
    const inject = await dynamo.app.fetch(
      new Request("http://dynamo.test/data/inventory/injectsync", {
        method: "POST",
        headers: { Authorization: `Bearer ${operator}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          site: [{ name: "T2_A", storage_type: "disk", status: "ready" }],
          dataset: [{
            name: HOSTILE,
            status: "valid",
            blocks: [{ name: "b1", files: [{ name: "/s/f1", size: 10 }] }],
          }],
        }),
      }),
    );
    assertEquals(inject.status, 200, await inject.text());
    const copy = await dynamo.app.fetch(
      new Request(`http://dynamo.test/data/request/copy?item=${encodeURIComponent(HOSTILE)}&site=T2_A`, {
        method: "POST",
        headers: { Authorization: `Bearer ${operator}` },
      }),
    );
    assertEquals(copy.status, 200, await copy.text());
    const id =
      (await (await dynamo.app.fetch(new Request("http://dynamo.test/data/request/pollcopy?all=y"))).json())
        .data[0].request_id;
    for (
      const path of [
        `/web/requests/copy/${id}`,
        "/web/requests",
        `/web/requests?user=${encodeURIComponent("<script>alert(1)</script>")}`,
        `/web/detox/locks?item=${encodeURIComponent('"><script>alert(1)</script>')}`,
      ]
    ) {
      const page = await get(dynamo, path);
      assertEquals(page.status, 200, path);
      assert(!page.text.includes("<script>alert"), `${path} has a raw <script>`);
      assert(page.text.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), `${path} shows the name as text`);
    }
  } finally {
    await dynamo.close();
  }
});

dbTest("bad page parameters get a 400 naming them; the paged REST reads refuse garbage", async (ctx) => {
  const { dynamo } = await harness(ctx);
  try {
    for (
      const [path, message] of [
        ["/web/requests?kind=bogus", 'Parameter "kind"'],
        ["/web/transfers/activity?period=1y", 'Parameter "period"'],
        ["/web/deletions/activity?graph=pie", 'Parameter "graph"'],
        ["/web/requests?offset=-1", 'Parameter "offset"'],
        ["/web/requests?offset=1e9", 'Parameter "offset"'],
        ["/web/requests/copy/12abc", "Not a request id"],
        ["/web/requests/moves/1", "No such kind of request"],
        ["/web/detox/monitor?cycle=x", 'Parameter "cycle"'],
        [`/web/requests?user=${"x".repeat(1001)}`, 'Parameter "user"'],
        ["/web/requests?user=a%00b", 'Parameter "user"'],
        ["/web/detox/deletions.txt", 'Parameter "cycle"'],
      ] as const
    ) {
      const page = await get(dynamo, path);
      assertEquals(page.status, 400, path);
      if (!path.includes(".txt")) {
        assertMatch(page.text, /data-refresh-ms="0"/, "an error page does not poll itself");
      }
      assert(page.text.includes(message.replaceAll('"', "&quot;")) || page.text.includes(message), path);
    }
    for (
      const [path, param] of [
        ["/data/transfers/files?site=T2_A", "dataset"],
        ["/data/transfers/files?dataset=/a/b/c&site=T2_A&kind=move", "kind"],
        ["/data/transfers/files?dataset=/a/b/c&site=T2_A&limit=0", "limit"],
        ["/data/transfers/files?dataset=/a/b/c&site=T2_A&limit=1001", "limit"],
        ["/data/transfers/files?dataset=/a/b/c&site=T2_A&offset=-5", "offset"],
        ["/data/detox/replicas?cycle=1", "site"],
        ["/data/detox/replicas?cycle=abc&site=T2_A", "cycle"],
      ]
    ) {
      const res = await dynamo.app.fetch(new Request(`http://dynamo.test${path}`));
      const body = await res.json();
      assertEquals(res.status, 400, path);
      assert(body.message.includes(param), `${path}: ${body.message}`);
    }
    const none = await dynamo.app.fetch(
      new Request("http://dynamo.test/data/detox/replicas?cycle=99&site=T2_A"),
    );
    assertEquals(none.status, 404);
    const files = await dynamo.app.fetch(
      new Request("http://dynamo.test/data/transfers/files?dataset=/a/b/c&site=T2_A"),
    );
    assertEquals((await files.json()).data, { offset: 0, more: false, files: [] });
  } finally {
    await dynamo.close();
  }
});

dbTest(
  "sign-in checks the token and sets an HttpOnly SameSite=Strict cookie; it only redirects within /web/",
  async (ctx) => {
    const { dynamo, operator } = await harness(ctx);
    try {
      for (const token of ["wrong-token", "", "a b", "x\r\nSet-Cookie: y=1", "é".repeat(10)]) {
        const bad = await post(dynamo, "/web/signin", { token, next: "/web/" });
        assertEquals(bad.status, 401, JSON.stringify(token));
        assertEquals(bad.headers.get("Set-Cookie"), null);
      }
      const ok = await post(dynamo, "/web/signin", { token: operator, next: "/web/requests?kind=copy" });
      assertEquals([ok.status, ok.headers.get("Location")], [303, "/web/requests?kind=copy"]);
      const cookie = ok.headers.get("Set-Cookie")!;
      assertMatch(cookie, /HttpOnly/);
      assertMatch(cookie, /SameSite=Strict/);
      assertMatch(cookie, /Path=\/web/);
      assert(!cookie.includes(operator), "the token itself never goes to the browser");
      const page = await get(dynamo, "/web/", cookie.split(";")[0]);
      assertMatch(page.text, /id="signed-in-user">op</);
      for (const next of ["https://evil.example/", "//evil.example/web/", "/data/whoami", "/web/\\evil"]) {
        const r = await post(dynamo, "/web/signin", { token: operator, next });
        assertEquals(r.headers.get("Location"), "/web/", next);
      }
      const cross = await post(dynamo, "/web/signin", { token: operator }, {
        Origin: "https://evil.example",
      });
      assertEquals(cross.status, 403);
    } finally {
      await dynamo.close();
    }
  },
);

dbTest(
  "releasing held transfers needs a session, its CSRF token, the same origin and the REST role",
  async (ctx) => {
    const { dynamo, operator, reader } = await harness(ctx);
    try {
      const anonymous = await post(dynamo, "/web/transfers/held/release", { id: "1" });
      assertEquals(anonymous.status, 401);
      assertMatch(anonymous.text, /Sign in/);
      assertMatch(anonymous.text, /data-refresh-ms="0"/, "the answer to a POST does not poll itself");
      assertMatch(
        anonymous.text,
        /name="next" value="\/web\/transfers\/held"/,
        "signing in leads back to the page",
      );
      const { cookie, csrf } = await signIn(dynamo, operator);
      const noToken = await post(dynamo, "/web/transfers/held/release", { id: "1" }, { Cookie: cookie });
      assertEquals(noToken.status, 403);
      const forged = await post(
        dynamo,
        "/web/transfers/held/release",
        { id: "1", csrf: csrf.slice(1) + "x" },
        {
          Cookie: cookie,
        },
      );
      assertEquals(forged.status, 403);
      const cross = await post(dynamo, "/web/transfers/held/release", { id: "1", csrf }, {
        Cookie: cookie,
        Origin: "https://evil.example",
      });
      assertEquals(cross.status, 403);
      const garbage = await post(dynamo, "/web/transfers/held/release", { id: "1 OR 1=1", csrf }, {
        Cookie: cookie,
      });
      assertEquals(garbage.status, 400);
      const done = await post(dynamo, "/web/transfers/held/release", { id: "1", csrf }, {
        Cookie: cookie,
        Origin: "http://dynamo.test",
      });
      assertEquals([done.status, done.headers.get("Location")], [303, "/web/transfers/held?released=0"]);
      // A user without the operator role is refused by the REST API, and the page says so.
      const other = await signIn(dynamo, reader);
      const refused = await post(dynamo, "/web/transfers/held/release", { id: "1", csrf: other.csrf }, {
        Cookie: other.cookie,
      });
      assertEquals(refused.status, 403);
      assertMatch(refused.text, /needs role/);
      // Signing out ends the session: its cookie no longer acts.
      await post(dynamo, "/web/signout", { csrf }, { Cookie: cookie });
      const after = await post(dynamo, "/web/transfers/held/release", { id: "1", csrf }, { Cookie: cookie });
      assertEquals(after.status, 401);
    } finally {
      await dynamo.close();
    }
  },
);

dbTest("a sign-in lasts sessionMs on the service clock", async (ctx) => {
  const { dynamo, operator, clock } = await harness(ctx);
  try {
    const { cookie, csrf } = await signIn(dynamo, operator);
    await clock.advance(3599_000);
    const fresh = await post(dynamo, "/web/transfers/held/release", { id: "1", csrf }, { Cookie: cookie });
    assertEquals(fresh.status, 303);
    await clock.advance(1000);
    const stale = await post(dynamo, "/web/transfers/held/release", { id: "1", csrf }, { Cookie: cookie });
    assertEquals(stale.status, 401);
    assert(!(await get(dynamo, "/web/", cookie)).text.includes("signed-in-user"), "signed out");
  } finally {
    await dynamo.close();
  }
});

async function inject(dynamo: Dynamo, token: string, dataset: string) {
  const res = await dynamo.app.fetch(
    new Request("http://dynamo.test/data/inventory/injectsync", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        site: [{ name: "T2_A", storage_type: "disk", status: "ready" }],
        dataset: [{
          name: dataset,
          status: "valid",
          blocks: [{ name: "b1", files: [{ name: "/s/f1", size: 10 }] }],
        }],
      }),
    }),
  );
  assertEquals(res.status, 200, await res.text());
}

async function rest<T>(dynamo: Dynamo, path: string): Promise<T> {
  return (await (await dynamo.app.fetch(new Request(`http://dynamo.test${path}`))).json()).data as T;
}

/** The refusals every action shares: no session 401; no or forged CSRF token, another origin 403. */
async function assertGuarded(
  dynamo: Dynamo,
  path: string,
  form: Record<string, string>,
  s: { cookie: string; csrf: string },
) {
  const anonymous = await post(dynamo, path, { ...form, csrf: s.csrf });
  assertEquals(anonymous.status, 401, path);
  assertMatch(anonymous.text, /Sign in/);
  assertEquals((await post(dynamo, path, form, { Cookie: s.cookie })).status, 403, `${path} without CSRF`);
  const forged = await post(dynamo, path, { ...form, csrf: s.csrf.slice(1) + "x" }, { Cookie: s.cookie });
  assertEquals(forged.status, 403, `${path} forged CSRF`);
  const cross = await post(dynamo, path, { ...form, csrf: s.csrf }, {
    Cookie: s.cookie,
    Origin: "https://evil.example",
  });
  assertEquals(cross.status, 403, `${path} cross-origin`);
}

const SCRIPT = "<script>alert(1)</script>";

/** A refusal shows REST's message as text: the hostile value escaped, never raw. */
function assertEscapedRefusal(res: { status: number; text: string }, status: number, message: RegExp) {
  assertEquals(res.status, status, res.text.slice(0, 2000));
  assertMatch(res.text, message);
  assert(!res.text.includes("<script>alert"), "a raw <script> in the refusal");
}

dbTest("locks are made and removed from /web/detox/locks after sign-in, as REST allows", async (ctx) => {
  const { dynamo, operator, reader } = await harness(ctx);
  try {
    await inject(dynamo, operator, "/A/B/C");
    const op = await signIn(dynamo, operator);
    const form = { item: "/A/B/C", sites: "T2_A", expires: "2027-01-31", comment: "keep it" };
    await assertGuarded(dynamo, "/web/detox/locks/lock", form, op);
    assertEquals(await rest<unknown[]>(dynamo, "/data/detox/lock/list"), [], "the refusals changed nothing");

    const page = await get(dynamo, "/web/detox/locks", op.cookie);
    assertMatch(page.text, /id="lock-form"/);
    assert(
      !(await get(dynamo, "/web/detox/locks")).text.includes('id="lock-form"'),
      "no form when anonymous",
    );

    // Hostile and garbage values: REST's 400 message, escaped, and nothing locked.
    for (
      const [bad, message] of [
        [{ ...form, expires: SCRIPT }, /expires.*expected a date.*&lt;script&gt;alert\(1\)&lt;\/script&gt;/],
        [{ ...form, expires: "" }, /Give the expires/],
        [{ ...form, item: "" }, /Give the item/],
      ] as const
    ) {
      const res = await post(dynamo, "/web/detox/locks/lock", { ...bad, csrf: op.csrf }, {
        Cookie: op.cookie,
      });
      assertEscapedRefusal(res, 400, message);
    }
    assertEquals(await rest<unknown[]>(dynamo, "/data/detox/lock/list"), []);

    const made = await post(
      dynamo,
      "/web/detox/locks/lock",
      { ...form, sites: "T2_A, T2_B", csrf: op.csrf },
      {
        Cookie: op.cookie,
        Origin: "http://dynamo.test",
      },
    );
    assertEquals(made.status, 303, made.text);
    const [lock] = await rest<
      { lockid: number; item: string; sites: string[]; comment: string; user: string }[]
    >(
      dynamo,
      "/data/detox/lock/list",
    );
    assertEquals(made.headers.get("Location"), `/web/detox/locks?locked=${lock!.lockid}`);
    assertEquals([lock!.item, lock!.sites, lock!.comment, lock!.user], [
      "/A/B/C",
      ["T2_A", "T2_B"],
      "keep it",
      "op",
    ]);
    const shown = await get(dynamo, made.headers.get("Location")!, op.cookie);
    assertMatch(shown.text, new RegExp(`Lock ${lock!.lockid} made`));
    assertMatch(shown.text, new RegExp(`<option value="${lock!.lockid}">`));

    // Removing: the same guards; another user (not admin on registry) removes none of op's locks.
    const unlock = { lockid: String(lock!.lockid) };
    await assertGuarded(dynamo, "/web/detox/locks/unlock", unlock, op);
    const other = await signIn(dynamo, reader);
    const notTheirs = await post(dynamo, "/web/detox/locks/unlock", { ...unlock, csrf: other.csrf }, {
      Cookie: other.cookie,
    });
    assertEquals([notTheirs.status, notTheirs.headers.get("Location")], [303, "/web/detox/locks?unlocked=0"]);
    const garbage = await post(dynamo, "/web/detox/locks/unlock", { lockid: `1 ${SCRIPT}`, csrf: op.csrf }, {
      Cookie: op.cookie,
    });
    assertEscapedRefusal(garbage, 400, /Not an id/);
    assertEquals((await rest<unknown[]>(dynamo, "/data/detox/lock/list")).length, 1, "still locked");
    const removed = await post(dynamo, "/web/detox/locks/unlock", { ...unlock, csrf: op.csrf }, {
      Cookie: op.cookie,
    });
    assertEquals([removed.status, removed.headers.get("Location")], [303, "/web/detox/locks?unlocked=1"]);
    assertEquals(await rest<unknown[]>(dynamo, "/data/detox/lock/list"), []);
  } finally {
    await dynamo.close();
  }
});

dbTest("copy and deletion requests are made and a copy request cancelled from the pages", async (ctx) => {
  const { dynamo, operator, reader } = await harness(ctx);
  try {
    await inject(dynamo, operator, "/A/B/C");
    const op = await signIn(dynamo, operator);
    await assertGuarded(dynamo, "/web/requests/new/copy", { item: "/A/B/C", site: "T2_A" }, op);
    await assertGuarded(dynamo, "/web/requests/new/deletion", { item: "/A/B/C", site: "T2_A" }, op);
    assertMatch((await get(dynamo, "/web/requests", op.cookie)).text, /id="new-copy"/);

    for (
      const [path, form, message] of [
        ["/web/requests/new/copy", { item: `/A/B/C${SCRIPT}`, site: "T2_A" }, /item.*&lt;script&gt;/],
        ["/web/requests/new/copy", { item: "/A/B/C", site: SCRIPT }, /site.*&lt;script&gt;/],
        ["/web/requests/new/deletion", { item: SCRIPT, site: "T2_A" }, /item.*&lt;script&gt;/],
        ["/web/requests/new/deletion", { item: "/A/B/C", site: "" }, /Give the site/],
      ] as const
    ) {
      const res = await post(dynamo, path, { ...form, csrf: op.csrf }, { Cookie: op.cookie });
      assertEscapedRefusal(res, 400, message);
    }
    assertEquals(await rest<unknown[]>(dynamo, "/data/request/pollcopy?all=y"), [], "nothing requested");
    assertEquals(await rest<unknown[]>(dynamo, "/data/request/polldelete?all=y"), []);

    const copy = await post(
      dynamo,
      "/web/requests/new/copy",
      { item: "/A/B/C", site: "T2_A", csrf: op.csrf },
      {
        Cookie: op.cookie,
      },
    );
    assertEquals(copy.status, 303, copy.text);
    const [c] = await rest<{ request_id: number; user: string; status: string }[]>(
      dynamo,
      "/data/request/pollcopy?all=y",
    );
    assertEquals([copy.headers.get("Location"), c!.user], [`/web/requests/copy/${c!.request_id}`, "op"]);
    const del = await post(dynamo, "/web/requests/new/deletion", {
      item: "/A/B/C",
      site: "T2_A",
      csrf: op.csrf,
    }, {
      Cookie: op.cookie,
    });
    const [d] = await rest<{ request_id: number }[]>(dynamo, "/data/request/polldelete?all=y");
    assertEquals([del.status, del.headers.get("Location")], [303, `/web/requests/deletion/${d!.request_id}`]);

    // Cancelling: on the request's page; another user is refused with REST's message; the requester may.
    const cancel = { request_id: String(c!.request_id) };
    assertMatch(
      (await get(dynamo, `/web/requests/copy/${c!.request_id}`, op.cookie)).text,
      /id="cancel-form"/,
    );
    await assertGuarded(dynamo, "/web/requests/cancelcopy", cancel, op);
    const other = await signIn(dynamo, reader);
    const notTheirs = await post(dynamo, "/web/requests/cancelcopy", { ...cancel, csrf: other.csrf }, {
      Cookie: other.cookie,
    });
    assertEscapedRefusal(notTheirs, 409, /belongs to op/);
    const garbage = await post(dynamo, "/web/requests/cancelcopy", { request_id: SCRIPT, csrf: op.csrf }, {
      Cookie: op.cookie,
    });
    assertEscapedRefusal(garbage, 400, /Not an id/);
    assertEquals(
      (await rest<{ status: string }[]>(dynamo, "/data/request/pollcopy?all=y"))[0]!.status,
      "new",
    );
    const done = await post(dynamo, "/web/requests/cancelcopy", { ...cancel, csrf: op.csrf }, {
      Cookie: op.cookie,
    });
    assertEquals([done.status, done.headers.get("Location")], [303, `/web/requests/copy/${c!.request_id}`]);
    const after = await get(dynamo, `/web/requests/copy/${c!.request_id}`, op.cookie);
    assertMatch(after.text, /id="request-status">cancelled</);
    assert(!after.text.includes('id="cancel-form"'), "a cancelled request has no cancel button");
  } finally {
    await dynamo.close();
  }
});

function run(site: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    site,
    startedMs: Date.UTC(2026, 0, 5),
    finishedMs: Date.UTC(2026, 0, 5) + 90_000,
    complete: true,
    dryRun: false,
    flagged: false,
    flagReasons: [],
    withheld: null,
    filesListed: 1234,
    dirsListed: 10,
    expected: 1235,
    missing: 1,
    orphan: 1,
    corrupt: 0,
    unmanaged: 0,
    emptyDirs: 0,
    hostile: 1,
    young: 0,
    unlisted: 0,
    beingDeleted: 0,
    unrecoverable: 0,
    confirmed: 0,
    acted: 0,
    failedDirs: [],
    ...over,
  };
}

function finding(kind: FindingRecord["kind"], path: string, detail: string | null = null): FindingRecord {
  return {
    kind,
    path,
    size: 10,
    listedSize: null,
    lfn: null,
    dataset: null,
    block: null,
    detail,
    confirmed: false,
    action: null,
    outcome: null,
  };
}

dbTest(
  "/web/consistency shows each site's last run, its findings paged and escaped, and flags on the overview",
  async (ctx) => {
    const { dynamo, operator } = await harness(ctx);
    try {
      await inject(dynamo, operator, "/A/B/C");
      assertMatch((await get(dynamo, "/web/consistency")).text, /No site has been checked yet/);
      assertMatch((await get(dynamo, "/web/")).text, /class="ok">None\./, "no alarm before a flagged run");
      const store = new SqlConsistencyStore(ctx.db);
      const findings = [
        finding("missing", `/store/a/${SCRIPT}`),
        finding("hostile", "/store/x\\n", `name ${SCRIPT}`),
        ...Array.from({ length: 250 }, (_, i) => finding("orphan", `/store/o/${String(i).padStart(3, "0")}`)),
      ];
      await store.recordRun(
        run("T2_A", {
          complete: false,
          failedDirs: [{ dir: `/store/${SCRIPT}`, reason: "timeout", attempts: 3 }],
        }),
        findings,
        Date.UTC(2026, 0, 5),
      );
      await store.recordRun(
        run(`T2_${SCRIPT}`, { flagged: true, flagReasons: [`missing 900 > 1 % ${SCRIPT}`], missing: 900 }),
        [],
        Date.UTC(2026, 0, 5),
      );

      const summary = await get(dynamo, "/web/consistency");
      assertEquals(summary.status, 200);
      assert(!summary.text.includes("<script>alert"), "a raw <script> on the summary");
      assertMatch(summary.text, /data-site="T2_A"/);
      assertMatch(summary.text, /no: 1 directory unlisted/);
      assertMatch(summary.text, /90\.0 s/);
      assertMatch(summary.text, /<td class="num">1234<\/td>/);
      assertMatch(summary.text, /yes: missing 900 &gt; 1 % &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assertMatch(summary.text, /href="\/web\/consistency\?site=T2_A"/);
      assertMatch(summary.text, /href="\/web\/consistency">Consistency</, "a nav link");

      const site = await get(dynamo, "/web/consistency?site=T2_A");
      assertEquals(site.status, 200, site.text.slice(0, 2000));
      assert(!site.text.includes("<script>alert"), "a raw <script> on the site's page");
      assertMatch(site.text, /252 finding\(s\)/);
      assertMatch(site.text, /\/store\/a\/&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assertMatch(site.text, /name &lt;script&gt;/);
      assertMatch(site.text, /\/store\/&lt;script&gt;alert\(1\)&lt;\/script&gt;: timeout \(3 attempt\(s\)\)/);
      assertEquals(site.text.match(/<tr data-kind=/g)?.length, 200, "a page of 200");
      assertMatch(site.text, /rel="next"/);
      const second = await get(dynamo, "/web/consistency?site=T2_A&offset=200");
      assertEquals(second.text.match(/<tr data-kind=/g)?.length, 52);
      const orphans = await get(dynamo, "/web/consistency?site=T2_A&kind=missing");
      assertEquals(orphans.text.match(/<tr data-kind="missing"/g)?.length, 1);

      // Bad parameters: refused with the page's or REST's message, escaped.
      for (
        const [path, status, message] of [
          [`/web/consistency?site=${encodeURIComponent(SCRIPT)}`, 400, /Not a site name/],
          ["/web/consistency?site=T2_A&kind=bogus", 400, /Parameter &quot;kind&quot;/],
          ["/web/consistency?site=T2_A&offset=-1", 400, /offset/],
          ["/web/consistency?site=T2_NOPE", 400, /unknown site/],
        ] as const
      ) {
        const page = await get(dynamo, path);
        assertEscapedRefusal(page, status, message);
      }

      const overview = await get(dynamo, "/web/");
      assertMatch(overview.text, /Consistency run flagged/);
      assertMatch(overview.text, /T2_&lt;script&gt;alert\(1\)&lt;\/script&gt; \(run 2\)/);
      assert(!overview.text.includes("<script>alert"), "a raw <script> on the overview");
    } finally {
      await dynamo.close();
    }
  },
);
