/**
 * Issue 21's input defects, reproduced through a real HTTP server: each is a
 * clear 400 (or 503 with Retry-After), the database's text never reaches the
 * client, and nothing changes.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { type ServedDynamo, serveDynamo } from "../../tests/helpers/served_dynamo.ts";
import { sql } from "kysely";

const MAX = Number.MAX_SAFE_INTEGER;

const SITE = { name: "T2_A", storage_type: "disk", status: "ready" };

/** A document with one block of the given files, as JSON text. */
function doc(dataset: string, files: unknown[], block = "b1"): string {
  return JSON.stringify({ site: [SITE], dataset: [{ name: dataset, blocks: [{ name: block, files }] }] });
}

async function nothingChanged(s: ServedDynamo, generation: number): Promise<void> {
  assertEquals(s.dynamo.port.snapshot().generation, generation, "the inventory is unchanged");
  assertEquals((await s.dynamo.port.injections({ limit: 10 })).length, 0, "nothing was queued");
}

/** POSTs the body to both the queued and the synchronous path and expects a 400 naming `parameter`. */
async function refusedOnBothPaths(
  s: ServedDynamo,
  body: string | Uint8Array<ArrayBuffer>,
  parameter: RegExp,
) {
  const generation = s.dynamo.port.snapshot().generation;
  for (const path of ["/data/inventory/inject", "/data/inventory/injectsync"]) {
    const r = await s.send("POST", path, { body, token: s.admin });
    assertEquals(r.status, 400, `${path}: ${r.text}`);
    assertMatch(r.json.message, parameter, path);
    assert(!/bigint|int8|violates|constraint|duplicate key|sql/i.test(r.text), `no database text: ${r.text}`);
  }
  await nothingChanged(s, generation);
}

dbTest(
  "the int8-overflowing block (1,100 files of 2^53-1 bytes) is a 400 on both paths, before it is queued",
  async ({ db }) => {
    const s = await serveDynamo(db);
    try {
      const files = Array.from({ length: 1100 }, (_, i) => ({ name: `/store/p/${i}.root`, size: MAX }));
      await refusedOnBothPaths(
        s,
        doc("/P/Q/R", files),
        /"dataset\[0\]\.blocks\[0\]\.files": the files add up to/,
      );
      // Negative and fractional sizes, too.
      await refusedOnBothPaths(s, doc("/P/Q/R", [{ name: "/store/n.root", size: -1 }]), /files\[0\]\.size/);
      await refusedOnBothPaths(s, doc("/P/Q/R", [{ name: "/store/n.root", size: 1.5 }]), /files\[0\]\.size/);
      await refusedOnBothPaths(
        s,
        doc("/P/Q/R", [{ name: "/store/n.root", size: 2 ** 63 }]),
        /files\[0\]\.size/,
      );

      // A block already at the limit: one more byte is refused (synchronously: 400; queued: rejected, named).
      const full = await s.send("POST", "/data/inventory/injectsync", {
        body: doc("/P/Q/R", [{ name: "/store/full.root", size: MAX }]),
        token: s.admin,
      });
      assertEquals(full.status, 200, full.text);
      const one = doc("/P/Q/R", [{ name: "/store/one.root", size: 1 }]);
      const sync = await s.send("POST", "/data/inventory/injectsync", { body: one, token: s.admin });
      assertEquals(sync.status, 400, sync.text);
      assertStringIncludes(sync.json.message, "the block would hold");
      const queued = await s.send("POST", "/data/inventory/inject", { body: one, token: s.admin });
      assertEquals(queued.status, 200, queued.text);
      const id = (queued.json.data as { injection_id: number }).injection_id;
      const status = await settled(s, id);
      assertEquals(status.status, "rejected");
      assertStringIncludes(JSON.stringify(status.result), "the block would hold");
      assertEquals(s.fatal, []);
    } finally {
      await s.close();
    }
  },
);

/** Polls an injection until the writer settles it (the drainer is nudged when it is queued). */
async function settled(s: ServedDynamo, id: number) {
  // No runUntilIdle: the drainer may be waiting for the writer's restart, which needs the clock to move.
  for (let i = 0; i < 600; i++) {
    const r = await s.send("GET", `/data/inventory/injection?id=${id}`);
    const data = r.json.data as { status: string; result: unknown; attempts: number; error: string | null };
    if (data.status !== "queued") return data;
    await s.clock.advance(1_000);
  }
  throw new Error(`injection ${id} stayed queued`);
}

dbTest("names must be well-formed NFC Unicode, on both paths", async ({ db }) => {
  const s = await serveDynamo(db);
  try {
    // JSON escapes reach us as a lone surrogate: the exact reported name.
    const lone = `{"dataset":[{"name":"/S\\ud800/B/C"}]}`;
    await refusedOnBothPaths(s, lone, /"dataset\[0\]\.name": must be well-formed Unicode/);
    await refusedOnBothPaths(
      s,
      doc("/A/B/C", [{ name: "/store/\\udc00.root", size: 1 }]).replace("\\\\udc00", "\\udc00"),
      /files\[0\]\.name": must be well-formed/,
    );
    await refusedOnBothPaths(
      s,
      JSON.stringify({ dataset: [{ name: "/Cafe\u0301/B/C" }] }),
      /normalization form C/,
    );
    // Every JSON body, not only injections: setquota's site.
    const quota = await s.send("POST", "/data/inventory/setquota", {
      body: `{"site":"T2_\\ud800","partition":"Default","quota":"1TB"}`,
      token: s.admin,
    });
    assertEquals(quota.status, 400, quota.text);
    assertMatch(quota.json.message, /"site": must be well-formed Unicode/);
    const nfc = await s.send("POST", "/data/inventory/injectsync", {
      body: JSON.stringify({ dataset: [{ name: "/Caf\u00e9/B/C" }] }),
      token: s.admin,
    });
    assertEquals(nfc.status, 200, nfc.text);
  } finally {
    await s.close();
  }
});

dbTest("bytes that are not UTF-8 are a 400, in a document, a form and a query string", async ({ db }) => {
  const s = await serveDynamo(db);
  try {
    const bytes = new TextEncoder().encode(`{"dataset":[{"name":"/S@/B/C"}]}`);
    bytes[bytes.indexOf(0x40)] = 0xff;
    await refusedOnBothPaths(s, bytes, /"body": not valid UTF-8/);
    const generation = s.dynamo.port.snapshot().generation;
    const form = new TextEncoder().encode("site=T2_A&partition=Default&quota=1TB");
    form[5] = 0xc3; // "T" becomes a truncated two-byte sequence
    const r1 = await s.send("POST", "/data/inventory/setquota", {
      body: form,
      type: "application/x-www-form-urlencoded",
      token: s.admin,
    });
    assertEquals(r1.status, 400, r1.text);
    assertMatch(r1.json.message, /"body": not valid UTF-8/);
    const r2 = await s.send("POST", "/data/inventory/setquota?site=T2%FF&partition=Default&quota=1TB", {
      token: s.admin,
    });
    assertEquals(r2.status, 400, r2.text);
    assertMatch(r2.json.message, /"query": not valid UTF-8.*T2%FF/);
    const r3 = await s.send("GET", "/data/inventory/datasets?dataset=%ED%A0%80");
    assertEquals(r3.status, 400, r3.text);
    assertEquals(s.dynamo.port.snapshot().generation, generation);
  } finally {
    await s.close();
  }
});

dbTest(
  "duplicated JSON keys are a 400 naming the key: a name, the dataset list, setquota's site",
  async ({ db }) => {
    const s = await serveDynamo(db);
    try {
      await refusedOnBothPaths(
        s,
        `{"dataset":[{"name":"/A/B/C","name":"/X/Y/Z"}]}`,
        /"dataset\[0\]\.name": is given more than once/,
      );
      await refusedOnBothPaths(
        s,
        `{"dataset":[{"name":"/A/B/C"}],"site":[],"dataset":[{"name":"/X/Y/Z"}]}`,
        /"dataset": is given more than once/,
      );
      await refusedOnBothPaths(
        s,
        doc("/A/B/C", [{ name: "/store/a.root", size: 1, size2: 2 }]).replace('"size2"', '"size"'),
        /files\[0\]\.size": is given more than once/,
      );
      const generation = s.dynamo.port.snapshot().generation;
      const r = await s.send("POST", "/data/inventory/setquota", {
        body: `{"site":"T2_A","partition":"Default","quota":"1TB","site":"T2_B"}`,
        token: s.admin,
      });
      assertEquals(r.status, 400, r.text);
      assertMatch(r.json.message, /"site": is given more than once/);
      assertEquals(s.dynamo.port.snapshot().generation, generation);
    } finally {
      await s.close();
    }
  },
);

dbTest("checksums by kind and LFNs by the storage's rule are checked at injection", async ({ db }) => {
  const s = await serveDynamo(db);
  try {
    await refusedOnBothPaths(
      s,
      doc("/A/B/C", [{ name: "/store/a.root", size: 1, adler32: "0000abcde" }]),
      /files\[0\]\.checksum": checksum adler32 must be exactly 8 hex digits/,
    );
    await refusedOnBothPaths(
      s,
      doc("/A/B/C", [{ name: "/store/a.root", size: 1, checksum: { md5: "abc" } }]),
      /exactly 32 hex digits/,
    );
    await refusedOnBothPaths(
      s,
      doc("/A/B/C", [{ name: "/store//x.root", size: 1 }]),
      /files\[0\]\.lfn": segment ""/,
    );
    await refusedOnBothPaths(s, doc("/A/B/C", [{ name: "/store/x.root/", size: 1 }]), /files\[0\]\.lfn"/);
    // NUL, which no field check looks for in a mapping pattern, would fail in the database (jsonb).
    await refusedOnBothPaths(
      s,
      `{"site":[{"name":"T2_A","filename_mappings":{"posix":[[["/store/\\u0000(.*)","/x/{0}"]]]}}]}`,
      /"site\[0\]\.filename_mappings\.posix\[0\]\[0\]\[0\]": must not contain control characters \(NUL\)/,
    );
    const good = await s.send("POST", "/data/inventory/injectsync", {
      body: doc("/A/B/C", [{ name: "/store/x.root", size: 1, adler32: "0000ABCD" }]),
      token: s.admin,
    });
    assertEquals(good.status, 200, good.text);
  } finally {
    await s.close();
  }
});

dbTest(
  "a database failure on injectsync is a 503 with Retry-After and no database text; the next write applies",
  async ({ db }) => {
    const s = await serveDynamo(db);
    try {
      await db.kysely.schema.alterTable("datasets").addCheckConstraint(
        "no_poison",
        sql`name <> '/Poison/X/Y'`,
      )
        .execute();
      const r = await s.send("POST", "/data/inventory/injectsync", {
        body: JSON.stringify({ dataset: [{ name: "/Poison/X/Y" }] }),
        token: s.admin,
      });
      assertEquals(r.status, 503, r.text);
      assert(r.headers.get("Retry-After") !== null);
      assert(!/no_poison|constraint|violates|datasets/i.test(r.text), r.text);
      // The writer restarts (with backoff) and takes the next write.
      let next;
      for (let i = 0; i < 30; i++) {
        await s.clock.advance(1_000);
        await s.dynamo.system.runUntilIdle();
        next = await s.send("POST", "/data/inventory/injectsync", {
          body: JSON.stringify({ dataset: [{ name: "/Fine/X/Y" }] }),
          token: s.admin,
        });
        if (next.status === 200) break;
      }
      assertEquals(next?.status, 200, next?.text);
      assertEquals(s.fatal, []);
    } finally {
      await s.close();
    }
  },
);

dbTest(
  "a queued poison injection is moved aside as failed, visible in /data/inventory/injections; the queue goes on",
  async ({ db }) => {
    const s = await serveDynamo(db);
    try {
      await db.kysely.schema.alterTable("datasets").addCheckConstraint(
        "no_poison",
        sql`name <> '/Poison/X/Y'`,
      )
        .execute();
      const post = async (body: unknown) => {
        const r = await s.send("POST", "/data/inventory/inject", {
          body: JSON.stringify(body),
          token: s.admin,
        });
        assertEquals(r.status, 200, r.text);
        return (r.json.data as { injection_id: number }).injection_id;
      };
      const poison = await post({ dataset: [{ name: "/Poison/X/Y" }] });
      const after = await post({ dataset: [{ name: "/After/X/Y" }] });
      const p = await settled(s, poison);
      assertEquals([p.status, p.attempts], ["failed", 2]);
      assertStringIncludes(p.error ?? "", "no_poison");
      assertEquals((await settled(s, after)).status, "applied");

      const failed = await s.send("GET", "/data/inventory/injections?status=failed");
      assertEquals(failed.status, 200);
      const rows = failed.json.data as { id: number; status: string; attempts: number; error: string }[];
      assertEquals(rows.map((r) => [r.id, r.status, r.attempts]), [[poison, "failed", 2]]);
      assertStringIncludes(rows[0]!.error, "no_poison");
      const all = (await s.send("GET", "/data/inventory/injections?limit=10")).json.data as { id: number }[];
      assertEquals(all.map((r) => r.id), [after, poison], "newest first");
      for (const bad of ["status=broken", "limit=0", "limit=100000", "before=-1", "what=1", "limit=x"]) {
        const r = await s.send("GET", `/data/inventory/injections?${bad}`);
        assertEquals(r.status, 400, `${bad}: ${r.text}`);
      }
      assertEquals(s.fatal, []);
    } finally {
      await s.close();
    }
  },
);

dbTest(
  "a trusted DN header: proxy components are stripped, other trailing components are another DN",
  async ({ db }) => {
    const s = await serveDynamo(db, { trustedDnHeader: "X-SSL-Client-DN" });
    try {
      const whoami = async (dn: string) => {
        const r = await s.send("GET", "/data/whoami", { headers: { "X-SSL-Client-DN": dn } });
        return [r.status, (r.json.data as { user?: string } | null)?.user ?? null];
      };
      assertEquals(await whoami("/DC=org/CN=Admin"), [200, "admin"]);
      assertEquals(await whoami("/DC=org/CN=Admin/CN=proxy"), [200, "admin"]);
      assertEquals(await whoami("/DC=org/CN=Admin/CN=1234567/CN=limited proxy"), [200, "admin"]);
      assertEquals(await whoami("/DC=org/CN=Admin/O=Evil/CN=eve"), [403, null]);
      assertEquals(await whoami("/DC=org/CN=Admin/CN=eve"), [403, null]);
      const write = await s.send("POST", "/data/inventory/injectsync", {
        body: JSON.stringify({ dataset: [{ name: "/Evil/X/Y" }] }),
        headers: { "X-SSL-Client-DN": "/DC=org/CN=Admin/O=Evil/CN=eve" },
      });
      assertEquals(write.status, 403);
      assert(!s.dynamo.port.snapshot().dataset("/Evil/X/Y"));
    } finally {
      await s.close();
    }
  },
);
