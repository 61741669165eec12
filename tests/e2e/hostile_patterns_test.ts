/**
 * Issue 21, items 1 and 2, through a real server process: patterns that made
 * a backtracking engine run for seconds to minutes (and hold every other
 * request) now complete, and `/health` is answered alongside them. No
 * timings: had the matching been exponential, these requests would not
 * finish within the test run.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { drain, dynamo, freePort, startServer, waitReady } from "../helpers/server_process.ts";

const A30 = "/" + "a".repeat(30);
const A150 = "/" + "a".repeat(150);
const A160 = "/" + "a".repeat(160);
const A150B = "/" + "a".repeat(150) + "b";

const POLICY = `Partition Default

On site.storage_type == DISK
When site.occupancy > 0.9
Until site.occupancy < 0.85

ProtectBlock blockreplica.is_locked
Protect dataset.name =~ /(a+)+b
Dismiss

Order increasing replica.num_access decreasing replica.size
`;

function inventory(siteRoot: string) {
  const datasets = [A30, A150, A160, A150B];
  return {
    site: [{
      name: "T2_TEST",
      storage_type: "disk",
      status: "ready",
      backend: `file://${siteRoot}`,
      // An admin's mapping regex that backtracks exponentially on a string of a's.
      filename_mappings: { posix: [[["/(a+)+b", "/mapped/{0}"]]] },
    }],
    group: [{ name: "Ops", olevel: "Dataset" }],
    dataset: datasets.map((name, i) => ({
      name,
      blocks: [{ name: "b1", files: [{ name: `/store/x/${i}.root`, size: 1000 }] }],
    })),
    datasetreplica: datasets.map((name) => ({
      dataset: name,
      site: "T2_TEST",
      group: "Ops",
      blockreplicas: [{ block: "b1" }],
    })),
  };
}

Deno.test({
  name: "hostile wildcards, policy, lock and mapping regexes complete while /health is answered",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dynamo_hostile_" });
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    await Deno.writeTextFile(`${home}/detox.txt`, POLICY);
    await Deno.mkdir(`${home}/site`);
    const env = {
      DYNAMO_HOME: home,
      DYNAMO_LISTEN: `127.0.0.1:${port}`,
      DYNAMO_DETOX_POLICIES: `${home}/detox.txt`,
    };
    const added = await dynamo(env, [
      "user",
      "add",
      "ops",
      "--role",
      "admin:inventory",
      "--role",
      "admin:application",
    ]);
    assertEquals(added.code, 0, added.stderr);
    const token = added.stdout.trim().split("\n").at(-1)!;
    const server = startServer(env);
    const stderr = drain(server);
    try {
      await waitReady(url, server);
      const call = async (method: string, path: string, body?: unknown) => {
        const headers: Record<string, string> = {};
        if (body !== undefined) {
          headers["Content-Type"] = "application/json";
          headers["Authorization"] = `Bearer ${token}`;
        }
        const res = await fetch(`${url}${path}`, {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: await res.json() };
      };
      /** The request, with /health asked while it runs: both must answer. */
      const withHealth = async (method: string, path: string, body?: unknown) => {
        const [result, health] = await Promise.all([call(method, path, body), call("GET", "/health")]);
        assertEquals(health.status, 200);
        return result;
      };

      const injected = await call("POST", "/data/inventory/injectsync", inventory(`${home}/site`));
      assertEquals(injected.status, 200, JSON.stringify(injected.body));

      // Item 1: the anonymous GETs that froze the registry for 19 s (150 chars) and > 120 s (160 chars).
      const datasets = await withHealth("GET", "/data/inventory/datasets?dataset=*a*a*a*a*a*b");
      assertEquals(datasets.status, 200);
      assertEquals(datasets.body.data.map((d: { name: string }) => d.name), [A150B]);
      const replicas = await withHealth("GET", "/data/inventory/blockreplicas?dataset=*a*a*a*a*a*b");
      assertEquals(replicas.status, 200);
      assertEquals(replicas.body.data.block.map((b: { name: string }) => b.name), [`${A150B}#b1`]);
      const none = await withHealth("GET", "/data/inventory/datasets?dataset=*a*a*a*a*a*a*a*a*a*a*a*a*c");
      assertEquals(none.body.data, []);

      // Item 2: an anonymous lfn2pfn through an admin's `(a+)+b` mapping.
      const unmapped = await withHealth("GET", `/data/inventory/lfn2pfn?site=T2_TEST&lfn=${A30}a`);
      assertEquals(unmapped.status, 400);
      assertStringIncludes(unmapped.body.message, "no posix mapping chain matches");
      const mapped = await withHealth("GET", "/data/inventory/lfn2pfn?site=T2_TEST&lfn=/aab");
      assertEquals(mapped.status, 200, JSON.stringify(mapped.body));
      assertStringIncludes(mapped.body.data.pfn, "/mapped/aa");

      // Item 2: a lock any user may create, then a Detox dry run over `Protect dataset.name =~ /(a+)+b`.
      const expires = Math.floor(Date.now() / 1000) + 86400 * 365;
      const lock = await call("POST", "/data/detox/lock/lock", {
        item: "*a*a*a*a*a*b",
        expires: String(expires),
      });
      assertEquals(lock.status, 200, JSON.stringify(lock.body));
      const locks = await withHealth("GET", "/data/detox/lock/list?item=*a*a*a*a*a*b");
      assertEquals(locks.body.data.length, 1);
      const run = await withHealth("POST", "/data/detox/run", { mode: "dry-run" });
      assertEquals(run.status, 200, JSON.stringify(run.body));
      assertEquals(run.body.data.length, 1);
      const cycle = run.body.data[0].cycle_id ?? run.body.data[0].cycle ?? run.body.data[0].id;
      assert(cycle !== undefined, JSON.stringify(run.body.data[0]));

      // The policy's regex decided: /aaa…ab is protected by line 8, the lock protected the same block (line 7).
      const decisions = await withHealth("GET", `/data/detox/datasets?dataset=*b&cycle=${cycle}`);
      assertEquals(decisions.status, 200, JSON.stringify(decisions.body));
      assertEquals(decisions.body.data.decisions.length, 1);
      assertEquals(decisions.body.data.decisions[0].decision, "protect");

      // A mapping the linear engine cannot run is a 400 naming the key; nothing is changed.
      const backref = inventory(`${home}/site`);
      backref.site[0]!.filename_mappings = { posix: [[["/(a)\\1", "/x"]]] };
      const refused = await call("POST", "/data/inventory/injectsync", { site: backref.site });
      assertEquals(refused.status, 400, JSON.stringify(refused.body));
      assertMatch(refused.body.message, /filename_mappings\.posix\[0\]\[0\].*backreferences/);
      const still = await call("GET", `/data/inventory/lfn2pfn?site=T2_TEST&lfn=/aab`);
      assertStringIncludes(still.body.data.pfn, "/mapped/aa");
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await stderr;
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a policy regex with a backreference is refused with its file, line and column",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dynamo_hostile_policy_" });
    try {
      const file = `${dir}/backref.txt`;
      await Deno.writeTextFile(
        file,
        POLICY.replace("Protect dataset.name =~ /(a+)+b", "Protect dataset.name =~ /(a+)\\1"),
      );
      const check = await dynamo({}, ["policy", "check", file]);
      assertEquals(check.code, 1);
      assertMatch(check.stderr, new RegExp(`${file}:8:\\d+: .*backreferences`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "start refuses a deeply nested and an oversized policy file, naming the file",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dynamo_hostile_start_" });
    try {
      const deep = `${dir}/deep.txt`;
      await Deno.writeTextFile(
        deep,
        POLICY.replace("Protect dataset.name =~ /(a+)+b", `Protect ${"(".repeat(100_000)}dataset.size > 0`),
      );
      const big = `${dir}/big.txt`;
      await Deno.writeTextFile(big, POLICY + ("#" + "x".repeat(1023) + "\n").repeat(52 * 1024));
      for (
        const [file, expected] of [
          [deep, new RegExp(`${deep}:8:\\d+: parentheses nested deeper than 64 levels`)],
          [big, new RegExp(`${big}:1:1: file too large: \\d+ characters, at most 4194304 \\(4 MiB\\)`)],
        ] as const
      ) {
        const r = await dynamo({
          DYNAMO_HOME: dir,
          DYNAMO_DETOX_POLICIES: file,
          DYNAMO_LISTEN: "127.0.0.1:0",
        }, [
          "start",
        ]);
        assertEquals(r.code, 1, r.stderr);
        assertMatch(r.stderr, expected);
        assert(!r.stderr.includes("Maximum call stack"), r.stderr);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
