/**
 * `deno task start --config FILE` and `deno task dynamo config check FILE`
 * with real processes: the checked file starts the service, its sites are in
 * the inventory with their backends and quotas; a broken file stops the start
 * with the key and the problem, before anything runs.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { drain, dynamo, freePort, startServer, waitReady } from "../helpers/server_process.ts";

Deno.test({
  name: "a configuration file is checked, then starts the service with its sites; a broken one names the key",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dynamo_config_" });
    try {
      const port = freePort();
      await Deno.mkdir(`${dir}/sites/T2_A`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/dynamo.json`,
        JSON.stringify({
          listen: `127.0.0.1:${port}`,
          database: { home: "state" },
          fileops: { interval_s: 0 },
          sites: [{ name: "T2_A", backend: `file://${dir}/sites/T2_A`, quotas_tb: { Default: 12 } }],
        }),
      );
      const env = { DYNAMO_LISTEN: "127.0.0.1:1" }; // the file wins over the environment
      const check = await dynamo(env, ["config", "check", `${dir}/dynamo.json`]);
      assertEquals(check.code, 0, check.stderr);
      assertStringIncludes(check.stdout, `listen 127.0.0.1:${port}; database PGlite in ${dir}/state/db`);
      assertStringIncludes(check.stdout, "sites: T2_A (disk, ready)");

      const server = startServer(env, ["--config", `${dir}/dynamo.json`]);
      const log = drain(server);
      await waitReady(`http://127.0.0.1:${port}`, server);
      let site: { name: string; partitions: { name: string; quota: number }[] } | undefined;
      for (let i = 0; i < 100 && !site; i++) {
        const sites = await dynamo({ DYNAMO_URL: `http://127.0.0.1:${port}` }, ["sites", "--json"]);
        site = JSON.parse(sites.stdout || "[]")[0];
        if (!site) await new Promise((r) => setTimeout(r, 50)); // written right after the inventory is ready
      }
      assertEquals(site?.name, "T2_A");
      assertEquals(site?.partitions.find((p) => p.name === "Default")?.quota, 12e12);
      server.kill("SIGTERM");
      assertEquals((await server.status).code, 0, await log);
      assertEquals(
        (await Deno.stat(`${dir}/state/db`)).isDirectory,
        true,
        "the database lives where the file said",
      );

      await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ detox: { policies: ["missing.txt"] } }));
      for (const args of [["config", "check", `${dir}/bad.json`], ["start", "--config", `${dir}/bad.json`]]) {
        const bad = await dynamo({}, args);
        assertEquals(bad.code, 1, args.join(" "));
        assertMatch(bad.stderr, /bad\.json: detox\.policies: cannot read .*missing\.txt/);
      }
      const usage = await dynamo({}, ["config", "check"]);
      assertEquals(usage.code, 2);
      assertStringIncludes(usage.stderr, "config check needs exactly one FILE");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "a configured sequence file runs in the service; sequence and app commands drive it; a broken one names the key",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dynamo_sched_" });
    try {
      const port = freePort();
      await Deno.writeTextFile(
        `${dir}/dynamo.seq`,
        "<updater> = $(DYNAMO_BASE)/exec/updater\n{track_copy_requests} = /x/track_copy_requests\n" +
          "[SEQUENCE ops]\n| <updater>\nWAIT 3600\n",
      );
      await Deno.writeTextFile(
        `${dir}/dynamo.json`,
        JSON.stringify({
          listen: `127.0.0.1:${port}`,
          database: { home: "state" },
          scheduler: { sequences: "dynamo.seq" },
        }),
      );
      const check = await dynamo({}, ["config", "check", `${dir}/dynamo.json`]);
      assertEquals(check.code, 0, check.stderr);
      assertStringIncludes(check.stdout, "scheduler: ops sequence(s), 2 application(s)");
      // The scheduler drives the agents: their own timers are off unless set.
      assertStringIncludes(check.stdout, "file operations: every 0 s");
      const user = await dynamo({ DYNAMO_HOME: `${dir}/state` }, [
        "user",
        "add",
        "ops",
        "--role",
        "admin:application",
      ]);
      assertEquals(user.code, 0, user.stderr);
      const token = user.stdout.match(/dyn_[A-Za-z0-9_-]+/)![0];
      const server = startServer({}, ["--config", `${dir}/dynamo.json`]);
      const log = drain(server);
      const client = { DYNAMO_URL: `http://127.0.0.1:${port}`, DYNAMO_TOKEN: token };
      try {
        await waitReady(`http://127.0.0.1:${port}`, server);
        let list = "";
        const waited = /waiting\s+20/; // the first round is over
        let listed = { stdout: "", stderr: "", code: 0 };
        for (let i = 0; i < 200 && !waited.test(list); i++) {
          listed = await dynamo(client, ["sequence", "list"]);
          list = listed.stdout;
          if (!waited.test(list)) await new Promise((r) => setTimeout(r, 50)); // a real server, real time
        }
        assertEquals(listed.code, 0, listed.stderr);
        assertMatch(list, /ops\s+1\/2\s+4\s+waiting\s+20/); // the WAIT is over at NEXT; then step 1
        const run = await dynamo(client, ["app", "run", "track_copy_requests"]);
        assertEquals(run.code, 0, run.stderr);
        assertStringIncludes(run.stdout, "application track_copy_requests queued: run 2");
        const stop = await dynamo(client, ["sequence", "stop", "ops"]);
        assertStringIncludes(stop.stdout, "sequence ops: stopped (stopped)");
        const apps = await dynamo(client, ["app", "list"]);
        assertMatch(apps.stdout, /1\s+<updater>\s+ops\s+done/);
        const badKill = await dynamo(client, ["app", "kill", "x"]);
        assertEquals([badKill.code, badKill.stderr.trim()], [
          2,
          "dynamo: app kill needs one run ID (a number)",
        ]);
      } finally {
        server.kill("SIGTERM");
        assertEquals((await server.status).code, 0, await log);
      }

      await Deno.writeTextFile(`${dir}/bad.seq`, "[SEQUENCE s]\n| <nothing>\n");
      await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ scheduler: { sequences: "bad.seq" } }));
      const bad = await dynamo({}, ["config", "check", `${dir}/bad.json`]);
      assertEquals(bad.code, 1);
      assertMatch(bad.stderr, /bad\.seq:2:1: .*nothing/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
