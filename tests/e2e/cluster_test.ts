/**
 * Parallel servers on one PostgreSQL (docs/cluster.md), with real processes:
 * writes through any node, followers that agree, a leader killed with SIGKILL
 * in the middle of a stream of writes, a follower restarted, a leader paused
 * with SIGSTOP. Needs DYNAMO_TEST_DATABASE_URL (a server: each test creates a
 * database of its own); without it the tests are reported as ignored.
 */
import { openDatabase } from "../../adapters/db/database.ts";
import { decodeCommands } from "../../adapters/db/journal_codec.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  adminToken,
  type ClusterProcess,
  clusterStatus,
  datasetNames,
  freshClusterDatabase,
  injectDataset,
  startNode,
  stopAll,
  waitLeader,
  waitServing,
} from "../helpers/cluster.ts";
import { TEST_DATABASE_URL } from "../helpers/db.ts";
import { drain, dynamo, freePort, startServer, waitReady } from "../helpers/server_process.ts";

const ignore = !TEST_DATABASE_URL;
const options = { ignore, sanitizeResources: false, sanitizeOps: false };
/** Ignored tests say why. */
const named = (name: string) => ignore ? `${name} [ignored: needs DYNAMO_TEST_DATABASE_URL]` : name;

async function withCluster(
  size: number,
  fn: (ctx: { url: string; nodes: ClusterProcess[]; token: string }) => Promise<void>,
): Promise<void> {
  const { url, drop } = await freshClusterDatabase(TEST_DATABASE_URL!);
  const nodes: ClusterProcess[] = [];
  try {
    const token = await adminToken(url);
    // The first node takes the lease; the others start as followers.
    nodes.push(startNode(url));
    await waitServing(nodes[0]!);
    for (let i = 1; i < size; i++) nodes.push(startNode(url));
    for (const n of nodes) await waitServing(n);
    await fn({ url, nodes, token });
  } finally {
    await stopAll(nodes);
    await drop();
  }
}

/** How many journal entries upsert each dataset (a write applied twice shows as 2). */
async function upsertsPerDataset(url: string): Promise<Map<string, number>> {
  const db = await openDatabase({ url, maxConnections: 1 });
  try {
    // The journal's command text is compact (adapters/db/journal_codec.ts): decoded here, not in SQL.
    const counts = new Map<string, number>();
    for (const [text] of await db.queryArrays(`SELECT commands FROM inventory_journal`)) {
      for (const c of decodeCommands(text as string) as { op?: string; name?: string }[]) {
        if (c.op === "dataset.upsert" && c.name) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
      }
    }
    return counts;
  } finally {
    await db.close();
  }
}

Deno.test({
  ...options,
  name: named("cluster: three nodes take writes through any node; followers agree after catch-up"),
  async fn() {
    await withCluster(3, async ({ url, nodes, token }) => {
      const status = await clusterStatus(nodes[1]!);
      assertEquals(status.nodes.filter((n) => n.role === "leader").length, 1);
      assertEquals(status.nodes.filter((n) => n.role === "follower").length, 2);
      assertEquals(status.nodes.find((n) => n.holds_lease)?.url, nodes[0]!.url);

      let last = 0;
      for (let i = 0; i < 30; i++) {
        const res = await injectDataset(nodes[i % 3]!, token, `/Any/Node${String(i).padStart(2, "0")}/RAW`);
        assertEquals(res.status, 200, await res.clone().text());
        last = Math.max(last, (await res.json()).data.generation);
      }
      const views = [];
      for (const n of nodes) views.push(await datasetNames(n, "/Any/*/RAW", last));
      for (const v of views) {
        assertEquals(v.names.length, 30);
        assertEquals(v.names, views[0]!.names);
        assert(v.generation >= last, `served at ${v.generation}, asked for ${last}`);
      }
      // Without min_generation a follower answers at once, with the generation it serves.
      const res = await fetch(`${nodes[2]!.url}/data/inventory/datasets?dataset=/Any/*/RAW`);
      assert(Number(res.headers.get("X-Inventory-Generation")) >= 0);
      await res.body?.cancel();
      // A generation that does not exist yet: bounded wait, then 503 with Retry-After.
      const bad = await fetch(`${nodes[1]!.url}/data/inventory/datasets?dataset=x&min_generation=abc`);
      assertEquals(bad.status, 400);
      await bad.body?.cancel();
      // The same Idempotency-Key again, through another node: the recorded answer, not a second write.
      const once = await injectDataset(nodes[1]!, token, "/Any/Keyed/RAW", "same-key");
      assertEquals(once.status, 200);
      const again = await injectDataset(nodes[2]!, token, "/Any/Keyed/RAW", "same-key");
      assertEquals(again.status, 200);
      assertEquals(again.headers.get("Idempotent-Replayed"), "true");
      assertEquals((await again.json()).data.generation, (await once.json()).data.generation);
      assertEquals((await upsertsPerDataset(url)).get("/Any/Keyed/RAW"), 1);
      const badKey = await injectDataset(nodes[1]!, token, "/Any/Bad/RAW", "white space");
      assertEquals(badKey.status, 400);
      await badKey.body?.cancel();

      // What only the leader's agents know is asked of the leader.
      const viaFollower = await fetch(`${nodes[2]!.url}/data/scheduler/sequences`);
      const viaLeader = await fetch(`${nodes[0]!.url}/data/scheduler/sequences`);
      assertEquals([viaFollower.status, await viaFollower.text()], [
        viaLeader.status,
        await viaLeader.text(),
      ]);

      const cli = await dynamo({}, ["cluster", "status", "--server", nodes[2]!.url]);
      assertEquals(cli.code, 0, cli.stderr);
      assertEquals(cli.stdout.split("\n").filter((l) => / leader \* /.test(l)).length, 1, cli.stdout);
      assertEquals(cli.stdout.split("\n").filter((l) => / follower /.test(l)).length, 2, cli.stdout);
      const metrics = await (await fetch(`${nodes[1]!.url}/metrics`)).text();
      assert(metrics.includes('dynamo_cluster_role{role="follower"} 1'), metrics);
    });
  },
});

Deno.test({
  ...options,
  name: named(
    "cluster: kill -9 of the leader during 1,000 writes loses no acknowledged one and applies none twice",
  ),
  async fn() {
    await withCluster(3, async ({ url, nodes, token }) => {
      const acknowledged = new Set<string>();
      let next = 0;
      let killed = false;
      const leaderUrl = await waitLeader(nodes);
      const leader = nodes.find((n) => n.url === leaderUrl)!;
      const writer = async () => {
        for (;;) {
          const i = next++;
          if (i >= 1000) return;
          const name = `/Stream/W${String(i).padStart(4, "0")}/RAW`;
          // The same key on every attempt: a retry of a write that did land is not applied again.
          const key = `stream-${i}`;
          for (let attempt = 0; attempt < 200; attempt++) {
            const node = nodes[(i + attempt) % 3]!;
            try {
              const res = await injectDataset(node, token, name, key);
              await res.body?.cancel();
              if (res.status === 200) {
                acknowledged.add(name);
                break;
              }
            } catch {
              // that node is dead: the next attempt goes to another
            }
            await new Promise((r) => setTimeout(r, 50));
          }
          if (acknowledged.size >= 300 && !killed) {
            killed = true;
            leader.child.kill("SIGKILL");
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, writer));
      assert(killed);
      assertEquals(acknowledged.size, 1000, "every write was acknowledged in the end (retries)");
      const survivors = nodes.filter((n) => n !== leader);
      const newLeader = await waitLeader(survivors);
      assert(newLeader !== leader.url);
      const upserts = await upsertsPerDataset(url);
      for (const name of acknowledged) assertEquals(upserts.get(name), 1, `${name} applied once`);
      const head = (await clusterStatus(survivors[0]!)).journal_head;
      for (const n of survivors) {
        const { names } = await datasetNames(n, "/Stream/*/RAW", head);
        assertEquals(names.length, 1000);
      }

      // The killed node comes back as a follower and catches up.
      const index = nodes.indexOf(leader);
      nodes[index] = startNode(url, {}, leader.port);
      await waitServing(nodes[index]!);
      const more = await injectDataset(survivors[0]!, token, "/Stream/After/RAW");
      assertEquals(more.status, 200);
      const generation = (await more.json()).data.generation;
      const { names } = await datasetNames(nodes[index]!, "/Stream/*/RAW", generation);
      assertEquals(names.length, 1001);
      const status = await clusterStatus(nodes[index]!);
      assertEquals(status.nodes.find((n) => n.url === leader.url && n.role !== "dead")?.role, "follower");
    });
  },
});

Deno.test({
  ...options,
  name: named("cluster: a paused leader loses the lease and cannot write after SIGCONT"),
  async fn() {
    await withCluster(2, async ({ url, nodes, token }) => {
      const [old, other] = nodes as [ClusterProcess, ClusterProcess];
      assertEquals(await waitLeader(nodes), old.url);
      const before = await clusterStatus(other);
      old.child.kill("SIGSTOP");
      // A write sent to the paused leader waits in its socket.
      const pending = injectDataset(old, token, "/Paused/Write/RAW", "paused-1").then(
        async (r) => ({ status: r.status, text: await r.text() }),
        (e) => ({ status: 0, text: String(e) }),
      );
      // One through the follower is forwarded to the paused leader and hangs there, until the lease moves.
      const viaFollower = injectDataset(other, token, "/Paused/ViaFollower/RAW", "paused-2");
      assertEquals(await waitLeader([other], { not: old.url, timeoutMs: 30_000 }), other.url);
      const forwarded = await viaFollower;
      assertEquals(forwarded.status, 200, "acknowledged by the new leader while the old one is still paused");
      await forwarded.body?.cancel();
      const after = await clusterStatus(other);
      assert(after.lease.generation > before.lease.generation, "the fencing generation moved on");
      const accepted = await injectDataset(other, token, "/Paused/Other/RAW");
      assertEquals(accepted.status, 200);
      await accepted.body?.cancel();

      old.child.kill("SIGCONT");
      const answer = await pending;
      // The paused node either refused it or passed it to the new leader; never wrote it itself.
      const upserts = await upsertsPerDataset(url);
      if (answer.status === 200) assertEquals(upserts.get("/Paused/Write/RAW"), 1, answer.text);
      else assertEquals(upserts.get("/Paused/Write/RAW"), undefined, answer.text);
      // Its retry, under the same key, is applied exactly once.
      const retry = await injectDataset(other, token, "/Paused/Write/RAW", "paused-1");
      assertEquals(retry.status, 200, await retry.clone().text());
      await retry.body?.cancel();
      assertEquals((await upsertsPerDataset(url)).get("/Paused/Write/RAW"), 1);
      assertEquals((await upsertsPerDataset(url)).get("/Paused/ViaFollower/RAW"), 1);

      // The old leader is a follower now, and serves what the new one wrote.
      const head = (await clusterStatus(other)).journal_head;
      const { names } = await datasetNames(old, "/Paused/*/RAW", head);
      assertEquals(names, ["/Paused/Other/RAW", "/Paused/ViaFollower/RAW", "/Paused/Write/RAW"]);
      let role: string | undefined;
      for (let i = 0; i < 100 && role !== "follower"; i++) {
        role = (await clusterStatus(old)).nodes.find((n) => n.url === old.url)?.role;
        if (role !== "follower") await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(role, "follower");
    });
  },
});

Deno.test({
  ...options,
  name: named(
    "cluster: when the leader's database session drops, a follower leads and the old leader follows",
  ),
  async fn() {
    await withCluster(2, async ({ url, nodes, token }) => {
      const [old, other] = nodes as [ClusterProcess, ClusterProcess];
      assertEquals(await waitLeader(nodes), old.url);
      const db = await openDatabase({ url, maxConnections: 1 });
      try {
        // Every node has a lease session; the leader's is the one holding an advisory lock. Only in this
        // test's database: the suite runs in parallel, and another test's cluster has a leader too (ending
        // it failed both tests).
        const ended = await db.queryArrays(
          `SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
           WHERE a.datname = current_database() AND a.application_name = 'dynamo-lease'
             AND l.locktype = 'advisory' AND l.granted`,
        );
        assertEquals(ended.length, 1);
      } finally {
        await db.close();
      }
      assertEquals(await waitLeader([other], { not: old.url }), other.url);
      const res = await injectDataset(old, token, "/Dropped/Session/RAW");
      assertEquals(res.status, 200, "a write through the old leader reaches the new one");
      const generation = (await res.json()).data.generation;
      const { names } = await datasetNames(old, "/Dropped/*/RAW", generation);
      assertEquals(names, ["/Dropped/Session/RAW"]);
      assertEquals((await clusterStatus(other)).lease.changes, 2);
    });
  },
});

Deno.test({
  name: "on the embedded database there is one server: a second start on the same DYNAMO_HOME is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dynamo_one_" });
    const port = freePort();
    const first = startServer({ DYNAMO_HOME: home, DYNAMO_LISTEN: `127.0.0.1:${port}` });
    try {
      await waitReady(`http://127.0.0.1:${port}`, first);
      const second = startServer({ DYNAMO_HOME: home, DYNAMO_LISTEN: `127.0.0.1:${freePort()}` });
      const [status, stderr] = await Promise.all([second.status, drain(second)]);
      assertEquals(status.code, 1, stderr);
      assert(stderr.includes(`in use by process ${first.pid}`), stderr);
      // The first one is untouched: no cluster status on the embedded database.
      const res = await fetch(`http://127.0.0.1:${port}/data/cluster/status`);
      assertEquals(res.status, 404);
      await res.body?.cancel();
    } finally {
      first.kill("SIGTERM");
      await Promise.all([first.status, drain(first)]);
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
