/**
 * The cluster on PostgreSQL (docs/cluster.md), with real `dynamo start`
 * processes on a database of its own:
 * - `cluster.failover_seconds`: the leader killed with SIGKILL → the first
 *   write acknowledged through a follower (median of three failovers; target ≤ 5 s).
 * - `cluster.follower_reads_per_second_{1,2,3}_nodes`: the same read mix spread
 *   over 1, 2 and 3 nodes, with `cluster.http_trivial_per_second_limit` (a
 *   server answering a constant, driven by the same client) as the raw limit.
 */
import {
  adminToken,
  type ClusterProcess,
  freshClusterDatabase,
  injectDataset,
  startNode,
  stopAll,
  waitLeader,
  waitServing,
} from "../tests/helpers/cluster.ts";

const READ_SECONDS = 4;
const CONCURRENCY = 24;

/** Requests/s that `CONCURRENCY` loops get from `urls` (round-robin) in `READ_SECONDS`. */
async function drive(urls: readonly string[]): Promise<number> {
  let done = 0;
  let failed = 0;
  const until = performance.now() + READ_SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, i) => {
    let k = i;
    while (performance.now() < until) {
      const res = await fetch(urls[k++ % urls.length]!);
      await res.arrayBuffer();
      if (res.ok) done++;
      else failed++;
    }
  }));
  if (failed > 0) throw new Error(`${failed} reads failed`);
  return Math.round(done / READ_SECONDS);
}

/** The read mix: a pattern listing, one dataset, the sites, /health. */
function readUrls(nodes: readonly ClusterProcess[]): string[] {
  return nodes.flatMap((n) => [
    `${n.url}/data/inventory/datasets?dataset=/Bench/D01*/RAW`,
    `${n.url}/data/inventory/datasets?dataset=/Bench/D0420/RAW`,
    `${n.url}/data/inventory/sites`,
    `${n.url}/health`,
  ]);
}

async function trivialServerLimit(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.serve({ port: 0, onListen: (a) => console.log(a.port) }, () => new Response("ok"));`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value!.trim());
  try {
    return await drive([`http://127.0.0.1:${port}/`]);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

export async function benchCluster(baseUrl: string): Promise<Record<string, number | string>> {
  const { url, drop } = await freshClusterDatabase(baseUrl);
  const nodes: ClusterProcess[] = [];
  const figures: Record<string, number | string> = {};
  try {
    const token = await adminToken(url);
    nodes.push(startNode(url));
    await waitServing(nodes[0]!);
    for (let b = 0; b < 10; b++) {
      const dataset = Array.from({ length: 100 }, (_, i) => ({
        name: `/Bench/D${String(b * 100 + i).padStart(4, "0")}/RAW`,
      }));
      const res = await fetch(`${nodes[0]!.url}/data/inventory/injectsync`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ dataset }),
      });
      if (!res.ok) throw new Error(await res.text());
      await res.body?.cancel();
    }
    figures["cluster.follower_reads_per_second_1_node"] = await drive(readUrls(nodes));
    nodes.push(startNode(url));
    await waitServing(nodes[1]!);
    figures["cluster.follower_reads_per_second_2_nodes"] = await drive(readUrls(nodes));
    nodes.push(startNode(url));
    await waitServing(nodes[2]!);
    figures["cluster.follower_reads_per_second_3_nodes"] = await drive(readUrls(nodes));
    figures["cluster.follower_reads_3_to_1_nodes"] = Math.round(
      (figures["cluster.follower_reads_per_second_3_nodes"] as number) /
        (figures["cluster.follower_reads_per_second_1_node"] as number) * 100,
    ) / 100;
    figures["cluster.http_trivial_per_second_limit"] = await trivialServerLimit();
    // What limits the ratio: the machine's cores, shared by the client, the servers and anything else.
    figures["cluster.cores"] = navigator.hardwareConcurrency;
    figures["cluster.load_average_1min"] = Number((await Deno.readTextFile("/proc/loadavg")).split(" ")[0]);

    const failovers: number[] = [];
    for (let round = 0; round < 3; round++) {
      const leaderUrl = await waitLeader(nodes);
      const index = nodes.findIndex((n) => n.url === leaderUrl);
      const leader = nodes[index]!;
      const follower = nodes.find((n) => n !== leader)!;
      const killed = performance.now();
      leader.child.kill("SIGKILL");
      await leader.child.status;
      for (let i = 0;; i++) {
        const res = await injectDataset(follower, token, `/Bench/Failover${round}/RAW`, `failover-${round}`)
          .catch(() => null);
        await res?.body?.cancel();
        if (res?.status === 200) break;
        if (i > 3000) throw new Error("no write was accepted after the leader died");
        await new Promise((r) => setTimeout(r, 20));
      }
      failovers.push((performance.now() - killed) / 1000);
      nodes[index] = startNode(url, {}, leader.port);
      await waitServing(nodes[index]!);
    }
    failovers.sort((a, b) => a - b);
    figures["cluster.failover_seconds"] = Math.round(failovers[1]! * 1000) / 1000;
    figures["cluster.failover_seconds_max"] = Math.round(failovers[2]! * 1000) / 1000;
    figures["cluster.failover_target_seconds"] = 5;
    return figures;
  } finally {
    await stopAll(nodes);
    await drop();
  }
}

if (import.meta.main) {
  const base = Deno.env.get("DYNAMO_BENCH_DATABASE_URL") ?? Deno.args[0];
  if (!base) throw new TypeError("Give a PostgreSQL URL (argument or DYNAMO_BENCH_DATABASE_URL)");
  console.log(JSON.stringify(await benchCluster(base), null, 2));
}
