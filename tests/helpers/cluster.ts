/** A cluster of real `dynamo start` processes on a database of its own (tests/e2e/cluster_test.ts, bench). */
import { openDatabase } from "../../adapters/db/database.ts";
import { dynamo, freePort } from "./server_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A new database on the server of `baseUrl`, dropped by `drop()` (servers need a database, not a schema). */
export async function freshClusterDatabase(
  baseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `dynamo_cl_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = await openDatabase({ url: baseUrl, maxConnections: 1 });
  await admin.exec(`CREATE DATABASE ${name}`);
  await admin.close();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const again = await openDatabase({ url: baseUrl, maxConnections: 1 });
      await again.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.close();
    },
  };
}

export interface ClusterProcess {
  readonly url: string;
  readonly port: number;
  child: Deno.ChildProcess;
  /** The server's stderr so far (it is drained as it comes, so a chatty server never blocks). */
  log(): string;
}

export function startNode(databaseUrl: string, extraEnv: Record<string, string> = {}, port = freePort()) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "start"],
    env: {
      DYNAMO_DATABASE_URL: databaseUrl,
      DYNAMO_LISTEN: `127.0.0.1:${port}`,
      DYNAMO_FILEOPS_INTERVAL: "0",
      DYNAMO_REQUEST_INTERVAL: "0",
      NO_COLOR: "1",
      ...extraEnv,
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) text += decoder.decode(chunk);
  })().catch(() => {});
  const node: ClusterProcess = { url: `http://127.0.0.1:${port}`, port, child, log: () => text };
  return node;
}

/** Waits until the node serves its inventory (leader or follower). */
export async function waitServing(node: ClusterProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  node.child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${node.url}/health`);
      const body = await res.json();
      if (res.ok && body.data.status === "ready") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Node ${node.url} did not become ready:\n${node.log()}`);
}

export interface StatusNode {
  id: string;
  url: string;
  role: string;
  holds_lease: boolean;
  journal_seq: number;
  lag: number;
  pid: number;
}

export async function clusterStatus(node: ClusterProcess): Promise<{
  node: string;
  journal_head: number;
  lease: { generation: number; holder: string | null; changes: number };
  nodes: StatusNode[];
}> {
  const res = await fetch(`${node.url}/data/cluster/status`);
  if (!res.ok) throw new Error(`status ${res.status}: ${await res.text()}`);
  return (await res.json()).data;
}

/** Polls until `pick` finds a live leader among the nodes' status; returns its URL. */
export async function waitLeader(
  nodes: readonly ClusterProcess[],
  options: { not?: string; timeoutMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    for (const n of nodes) {
      try {
        const s = await clusterStatus(n);
        const leader = s.nodes.find((x) => x.role === "leader" && x.holds_lease && x.url !== options.not);
        if (leader) return leader.url;
      } catch {
        // this one is down
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("No leader appeared");
}

export async function adminToken(databaseUrl: string): Promise<string> {
  const added = await dynamo({ DYNAMO_DATABASE_URL: databaseUrl }, [
    "user",
    "add",
    "ops",
    "--role",
    "admin:inventory",
  ]);
  if (added.code !== 0) throw new Error(added.stderr);
  return added.stdout.trim().split("\n").at(-1)!;
}

/** `injectsync` of one dataset through `node`. */
export async function injectDataset(
  node: { url: string },
  token: string,
  name: string,
  key?: string,
): Promise<Response> {
  return await fetch(`${node.url}/data/inventory/injectsync`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      ...(key ? { "Idempotency-Key": key } : {}),
    },
    body: JSON.stringify({ dataset: [{ name }] }),
  });
}

export async function datasetNames(
  node: { url: string },
  pattern: string,
  minGeneration = 0,
): Promise<{ names: string[]; generation: number }> {
  const res = await fetch(
    `${node.url}/data/inventory/datasets?dataset=${
      encodeURIComponent(pattern)
    }&min_generation=${minGeneration}`,
  );
  if (!res.ok) throw new Error(`datasets ${res.status}: ${await res.text()}`);
  const body = await res.json();
  return {
    names: (body.data as { name: string }[]).map((d) => d.name).sort(),
    generation: Number(res.headers.get("X-Inventory-Generation")),
  };
}

export async function stopAll(nodes: readonly ClusterProcess[]): Promise<void> {
  for (const n of nodes) {
    try {
      n.child.kill("SIGCONT");
      n.child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
  for (const n of nodes) await n.child.status;
}
