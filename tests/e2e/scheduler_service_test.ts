/**
 * The scheduler inside the service: a sequence of the original format runs
 * the real file-operations agent and request tracker on a TestClock, and is
 * driven and inspected over the REST registry.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { dbTest } from "../helpers/db.ts";
import { fileopsFederation } from "../helpers/fileops.ts";
import { parseSequenceFile } from "../../policies/scheduler/sequence_file.ts";
import { adler32Hex } from "../../adapters/storage/adler32.ts";

const SEQUENCES = `
# Our own test sequence, in the CMS style.
<updater> = $(DYNAMO_BASE)/exec/updater
<track_copy_requests> = $(DYNAMO_BASE)/exec/track_copy_requests
[SEQUENCE fileops]
& <updater>
| <track_copy_requests>
WAIT 3600
`;

async function federation(db: Parameters<typeof fileopsFederation>[0]) {
  const f = await fileopsFederation(db, [{ name: "T2_A" }, { name: "T2_B" }], {
    scheduler: { file: parseSequenceFile(SEQUENCES, "test.seq"), tickMs: 10_000 },
  });
  /** Lets the actors (and the files they move) settle until `done` holds; bounded, no timing. */
  const until = async (what: string, done: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      await f.dynamo.system.runUntilIdle();
      if (await done()) return;
    }
    throw new Error(`never: ${what}`);
  };
  const runs = async () =>
    (await f.call("GET", "/data/scheduler/applications")).body.data as {
      id: number;
      title: string;
      status: string;
      message: string;
      sequence: string | null;
      user: string | null;
    }[];
  const sequences = async () =>
    (await f.call("GET", "/data/scheduler/sequences")).body.data as { name: string; status: string }[];
  return { ...f, until, runs, sequences };
}

dbTest(
  "a sequence runs the real updater on its schedule: a scheduled copy lands without anyone asking",
  async ({ db }) => {
    const f = await federation(db);
    try {
      // The first round ran at start (nothing to do); the sequence now waits an hour.
      await f.until("the first round", async () => (await f.sequences())[0]?.status === "waiting");
      const files = await f.dataset("/Sched/Copy/AOD", 5, ["T2_A"]);
      await f.scheduleCopy("/Sched/Copy/AOD", "T2_B");
      await f.clock.advance(3600_000);
      await f.until("the copy", () => f.blockReplica("/Sched/Copy/AOD", "T2_B")?.fileIds === null);
      for (const file of files) {
        assertEquals(
          adler32Hex(await Deno.readFile(`${f.rootOf("T2_B")}${file.lfn}`)),
          adler32Hex(file.bytes),
        );
      }
      await f.until("the round's end", async () => (await f.sequences())[0]?.status === "waiting");
      const done = (await f.runs()).filter((r) => r.status === "done");
      assertEquals(done.map((r) => r.title).slice(0, 2), ["track_copy_requests", "updater"]);
      assert(done[1]!.message.includes('"transfers_done":5'), done[1]!.message);
    } finally {
      await f.close();
    }
  },
);

dbTest(
  "sequences and applications over REST: stop, start, run by hand, app locks, hostile input",
  async ({ db }) => {
    const f = await federation(db);
    try {
      await f.until("the first round", async () => (await f.sequences())[0]?.status === "waiting");
      const auth = { token: f.token };
      const stop = await f.call("POST", "/data/scheduler/sequence/stop?sequence=fileops", auth);
      assertEquals([stop.status, stop.body.data.status], [200, "stopped"]);
      const run = await f.call("POST", "/data/scheduler/application/run?app=track_copy_requests", auth);
      assertEquals(run.status, 200);
      await f.until("the run by hand", async () => (await f.runs())[0]?.status === "done");
      assertEquals((await f.runs())[0]?.user, "ops");

      // An application lock holds the tracker's steps and runs.
      const lock = await f.call("POST", "/data/applock/lock?app=requests", auth);
      assertEquals(lock.status, 200);
      const held = await f.call("POST", "/data/scheduler/application/run?app=track_copy_requests", auth);
      await f.dynamo.system.runUntilIdle();
      assertEquals((await f.runs())[0]?.status, "new", "queued while the lock holds");
      await f.call("POST", "/data/applock/unlock?app=requests", auth);
      await f.clock.advance(10_000);
      await f.until("the lock's release", async () => (await f.runs())[0]?.status === "done");
      assertEquals((await f.runs())[0]?.id, held.body.data.id);

      const start = await f.call("POST", "/data/scheduler/sequence/start?sequence=fileops", auth);
      assertEquals(start.status, 200);
      await f.until("the started round", async () => (await f.sequences())[0]?.status === "waiting");

      // Hostile and wrong input: a clear 4xx naming the parameter, and nothing changes.
      const before = (await f.runs()).length;
      const bad: [string, number, string][] = [
        ["/data/scheduler/sequence/stop?sequence=../../etc/passwd", 400, "sequence"],
        ["/data/scheduler/sequence/stop?sequence=nope", 409, "no sequence"],
        ["/data/scheduler/sequence/start", 400, "sequence"],
        ["/data/scheduler/application/run?app=rm%20-rf%20%2F", 400, "app"],
        ["/data/scheduler/application/run?app=detox", 409, "no application"],
        ["/data/scheduler/application/run?app=updater&arg[]=a%0Ab", 400, "arg"],
        ["/data/scheduler/application/kill?id=-1", 400, "id"],
        ["/data/scheduler/application/kill?id=abc", 400, "id"],
        ["/data/scheduler/application/kill?id=99999", 409, "not queued or running"],
      ];
      for (const [path, status, words] of bad) {
        const r = await f.call("POST", path, auth);
        assertEquals(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
        assert(r.body.message.includes(words), `${path}: ${r.body.message}`);
      }
      const anonymous = await f.call("POST", "/data/scheduler/application/run?app=updater");
      assertEquals(anonymous.status, 401);
      await f.dynamo.system.runUntilIdle();
      assertEquals((await f.runs()).length, before, "no run was created by bad input");
      const limit = await f.call("GET", "/data/scheduler/applications?limit=0");
      assertEquals(limit.status, 400);
    } finally {
      await f.close();
    }
  },
);
