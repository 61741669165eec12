/**
 * Fuzz through a real HTTP server: random, garbage and hostile injection
 * documents on the queued and the synchronous path get a clear 400 (naming a
 * parameter, changing nothing) or an applied injection; never a 500 or 503,
 * never a crash, and the queue never holds a `failed` (poison) injection.
 */
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { hostileBody, validDocument } from "../../tests/helpers/hostile_documents.ts";
import { serveDynamo } from "../../tests/helpers/served_dynamo.ts";

dbTest("fuzz: hostile injection documents over HTTP are a 400 or applied, never a 500", async ({ db }) => {
  const s = await serveDynamo(db);
  try {
    const queued: number[] = [];
    let refused = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const path = seed % 2 === 0 ? "/data/inventory/injectsync" : "/data/inventory/inject";
      const queueLength = (await s.dynamo.port.injections({ limit: 1000 })).length;
      const r = await s.send("POST", path, { body: hostileBody(seed, `h${seed}`), token: s.admin });
      const what = `seed ${seed} ${path}: ${r.status} ${r.text.slice(0, 300)}`;
      assert(r.status === 200 || r.status === 400, what);
      if (r.status === 400) {
        refused += 1;
        assertMatch(r.json.message, /^Parameter ".+": \S/, what);
        // Nothing of this document exists (queued injections of earlier seeds may apply meanwhile).
        const snap = s.dynamo.port.snapshot();
        assert(!snap.datasetsMatching(`/Fuzzh${seed}/*`).length && !snap.site(`T2_Fh${seed}`), what);
        assertEquals((await s.dynamo.port.injections({ limit: 1000 })).length, queueLength, what);
      } else if (path.endsWith("/inject")) {
        queued.push((r.json.data as { injection_id: number }).injection_id);
      }
    }
    assert(refused > 60, `refused ${refused}`);
    // Every accepted queued injection settles, applied or rejected with its reason; none poisons the queue.
    for (let i = 0; i < 300; i++) {
      const rows = await s.dynamo.port.injections({ status: "queued", limit: 1000 });
      if (rows.length === 0) break;
      await s.clock.advance(1_000);
    }
    for (const id of queued) {
      const r = (await s.dynamo.port.injection(id))!;
      assert(
        r.status === "applied" || r.status === "rejected",
        `injection ${id}: ${r.status} ${r.lastError}`,
      );
    }
    assertEquals((await s.dynamo.port.injections({ status: "failed", limit: 10 })).length, 0);
    // The service is alive and takes a good document.
    const good = await s.send("POST", "/data/inventory/injectsync", {
      body: JSON.stringify(validDocument("good")),
      token: s.admin,
    });
    assertEquals(good.status, 200, good.text);
    assertEquals(s.fatal, []);
  } finally {
    await s.close();
  }
});
