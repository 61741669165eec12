/**
 * File operations scale with the nodes of a cluster (docs/cluster.md): every
 * node's workers claim transfer tasks from the database (FOR UPDATE SKIP
 * LOCKED, under a lease). A node killed with SIGKILL holding tasks: its leases
 * run out, the others finish them, and every file arrives exactly once.
 * Needs DYNAMO_TEST_DATABASE_URL; ignored (saying so) without it.
 */
import { adler32Hex } from "../../adapters/storage/adler32.ts";
import { PART_SUFFIX } from "../../adapters/storage/storage_port.ts";
import { openDatabase } from "../../adapters/db/database.ts";
import { migrate } from "../../adapters/db/migrate.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { fileopsFederation } from "../helpers/fileops.ts";
import {
  type ClusterProcess,
  freshClusterDatabase,
  startNode,
  stopAll,
  waitServing,
} from "../helpers/cluster.ts";
import { TEST_DATABASE_URL } from "../helpers/db.ts";

const DATASET = "/Cluster/Files/AOD";
const FILES = 100;
const ignore = !TEST_DATABASE_URL;

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) out.push(...await walk(`${dir}/${e.name}`));
      else out.push(`${dir}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

Deno.test({
  name: `cluster: the file tasks of a killed node are finished by the others exactly once${
    ignore ? " [ignored: needs DYNAMO_TEST_DATABASE_URL]" : ""
  }`,
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { url, drop } = await freshClusterDatabase(TEST_DATABASE_URL!);
    const db = await openDatabase({ url, maxConnections: 2 });
    const nodes: ClusterProcess[] = [];
    let dir = "";
    try {
      await migrate(db, Date.now());
      const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
      dir = f.dir;
      const files = await f.dataset(DATASET, FILES, ["T2_A"], 1 << 20);
      await f.scheduleCopy(DATASET, "T2_B");
      await f.dynamo.close();
      const env = {
        DYNAMO_FILEOPS_INTERVAL: "0.05",
        DYNAMO_LINK_PARALLELISM: "1",
        // Short task leases, so that the dead node's tasks come back within the test.
        DYNAMO_FILEOPS_LEASE: "3",
      };
      nodes.push(startNode(url, env));
      await waitServing(nodes[0]!);
      nodes.push(startNode(url, env), startNode(url, env));
      for (const n of nodes) await waitServing(n);

      // Which nodes hold tasks (worker ids are HOST:NODE:SERVICE:…), sampled while they work.
      const claimers = new Set<string>();
      const active = async () =>
        (await db.queryArrays(
          `SELECT split_part(worker, ':', 2), count(*) FROM file_subscriptions
           WHERE task_state = 'active' GROUP BY 1 ORDER BY 2 DESC`,
        )).map(([node, n]) => [node as string, Number(n)] as const);
      let victim: ClusterProcess | undefined;
      for (let i = 0; i < 4000 && !victim; i++) {
        const holding = await active();
        for (const [node] of holding) claimers.add(node);
        const arrived = (await walk(f.rootOf("T2_B"))).filter((p) => !p.endsWith(PART_SUFFIX)).length;
        if (arrived >= 10 && holding.length > 0) {
          const [row] = await db.queryArrays("SELECT url FROM cluster_nodes WHERE id = $1", [holding[0]![0]]);
          victim = nodes.find((n) => n.url === row?.[0]);
        }
        if (!victim) await new Promise((r) => setTimeout(r, 5));
      }
      assert(victim, "a node was caught holding transfer tasks");
      victim.child.kill("SIGKILL");
      await victim.child.status;
      const arrivedAtKill = (await walk(f.rootOf("T2_B"))).filter((p) => !p.endsWith(PART_SUFFIX)).length;
      assert(arrivedAtKill < FILES, `killed part-way (${arrivedAtKill} of ${FILES} files there)`);

      const survivors = nodes.filter((n) => n !== victim);
      let complete = false;
      for (let i = 0; i < 1200 && !complete; i++) {
        for (const [node] of await active()) claimers.add(node);
        try {
          const res = await fetch(
            `${survivors[0]!.url}/data/inventory/blockreplicas?dataset=${DATASET}&node=T2_B&complete=y`,
          );
          complete = (await res.json()).data.block.length === 1;
        } catch {
          // a survivor may be taking over the lease
        }
        if (!complete) await new Promise((r) => setTimeout(r, 50));
      }
      assert(complete, "the replica at T2_B became complete without the killed node");
      assert(claimers.size >= 2, `tasks were claimed by several nodes (${[...claimers].join(", ")})`);

      const names = await walk(f.rootOf("T2_B"));
      assertEquals(names.filter((n) => n.endsWith(PART_SUFFIX)), [], "no temporary file is left");
      assertEquals(names.length, FILES);
      for (const file of files) {
        assertEquals(
          adler32Hex(await Deno.readFile(`${f.rootOf("T2_B")}${file.lfn}`)),
          adler32Hex(file.bytes),
        );
      }
      const successes = await db.queryArrays(
        "SELECT lfn, count(*) FROM file_transfers WHERE exit_code = 0 GROUP BY lfn",
      );
      assertEquals(successes.length, FILES, "every file has a successful transfer");
      assertEquals(successes.filter(([, n]) => Number(n) !== 1), [], "and only one");
    } finally {
      await stopAll(nodes);
      await db.close();
      await drop();
      if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
