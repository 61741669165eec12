/**
 * Issue 6's durability promise with a real process: a server copying 100 files
 * between two POSIX sites is killed part-way — with SIGKILL, or stopped with
 * SIGTERM — started again, and every file arrives exactly once (one successful
 * transfer each in the history), with the right checksum, no temporary file
 * left behind, and the replica complete in the inventory.
 */
import { adler32Hex } from "../../adapters/storage/adler32.ts";
import { PART_SUFFIX } from "../../adapters/storage/storage_port.ts";
import { type Database, openDatabase } from "../../adapters/db/database.ts";
import { migrate } from "../../adapters/db/migrate.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { fileopsFederation } from "../helpers/fileops.ts";
import { drain, freePort, startServer, waitReady } from "../helpers/server_process.ts";

const DATASET = "/Kill/Nine/AOD";
const FILES = 100;

async function finalFiles(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).filter((n) =>
      !n.endsWith(PART_SUFFIX)
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await walk(`${dir}/${e.name}`));
    else out.push(`${dir}/${e.name}`);
  }
  return out;
}

/**
 * The state a Dealer cycle leaves — 100 files at T2_A, an empty replica and a
 * copy operation for T2_B — then a server that starts copying; `interrupt`
 * stops it once 20 files have arrived, and the run checks what it left before
 * a second server finishes the copy.
 */
async function interruptedCopy(
  interrupt: (server: Deno.ChildProcess) => Promise<void>,
  checkStopped: (db: Database, arrived: number) => Promise<void>,
) {
  const home = await Deno.makeTempDir({ prefix: "dynamo_kill_" });
  const db = await openDatabase({ dataDir: `${home}/db` });
  await migrate(db, Date.now());
  const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }]);
  const files = await f.dataset(DATASET, FILES, ["T2_A"], 1 << 20);
  await f.scheduleCopy(DATASET, "T2_B");
  await f.dynamo.close();
  await db.close();
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    DYNAMO_HOME: home,
    DYNAMO_LISTEN: `127.0.0.1:${port}`,
    DYNAMO_FILEOPS_INTERVAL: "0.05",
    DYNAMO_LINK_PARALLELISM: "2",
  };
  const destination = `${f.rootOf("T2_B")}/store/kill/nine/aod`;
  const withDatabase = async (fn: (db: Database) => Promise<void>) => {
    const after = await openDatabase({ dataDir: `${home}/db` });
    try {
      await fn(after);
    } finally {
      await after.close();
    }
  };
  try {
    let server = startServer(env);
    let log = drain(server);
    await waitReady(url, server);
    // A real process: polling the destination is the only way to catch it part-way.
    let arrived = 0;
    for (let i = 0; i < 2000 && arrived < 20; i++) {
      arrived = (await finalFiles(destination)).length;
      if (arrived < 20) await new Promise((r) => setTimeout(r, 5));
    }
    await interrupt(server);
    await log;
    arrived = (await finalFiles(destination)).length;
    assert(arrived >= 20 && arrived < FILES, `stopped part-way, with ${arrived} of ${FILES} files copied`);
    await withDatabase((db) => checkStopped(db, arrived));

    server = startServer(env);
    log = drain(server);
    await waitReady(url, server);
    let complete = false;
    for (let i = 0; i < 1200 && !complete; i++) {
      const res = await fetch(`${url}/data/inventory/blockreplicas?dataset=${DATASET}&node=T2_B&complete=y`);
      complete = (await res.json()).data.block.length === 1;
      if (!complete) await new Promise((r) => setTimeout(r, 50));
    }
    assert(complete, "the replica at T2_B became complete after the restart");
    server.kill("SIGTERM");
    assertEquals((await server.status).code, 0, await log);

    const names = await walk(f.rootOf("T2_B"));
    assertEquals(names.filter((n) => n.endsWith(PART_SUFFIX)), [], "no temporary file is left");
    assertEquals(names.length, FILES);
    for (const file of files) {
      assertEquals(adler32Hex(await Deno.readFile(`${f.rootOf("T2_B")}${file.lfn}`)), adler32Hex(file.bytes));
    }
    await withDatabase(async (db) => {
      const successes = await db.queryArrays(
        "SELECT lfn, count(*) FROM file_transfers WHERE exit_code = 0 GROUP BY lfn",
      );
      assertEquals(successes.length, FILES, "every file has a successful transfer");
      assertEquals(successes.filter(([, n]) => n !== 1), [], "and only one");
      assertEquals(await db.queryArrays("SELECT count(*) FROM file_subscriptions"), [[0]]);
    });
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await Deno.remove(f.dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "kill -9 in the middle of 100 transfers: after a restart every file is there exactly once, verified",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await interruptedCopy(async (server) => {
      server.kill("SIGKILL");
      await server.status;
    }, async () => {});
  },
});

Deno.test({
  name:
    "SIGTERM in the middle of 100 transfers: files in hand finish, the rest is given back, exit 0, a restart ends it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await interruptedCopy(async (server) => {
      server.kill("SIGTERM");
      assertEquals((await server.status).code, 0);
    }, async (db, arrived) => {
      assertEquals(
        await db.queryArrays("SELECT count(*) FROM file_subscriptions WHERE task_state = 'active'"),
        [[0]],
        "no task is left leased: the rest was given back",
      );
      const recorded = await db.queryArrays("SELECT count(*) FROM file_transfers WHERE exit_code = 0");
      assertEquals(Number(recorded[0]![0]), arrived, "every file that arrived was recorded before the exit");
    });
  },
});
