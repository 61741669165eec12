/**
 * The README's promise, end to end with real processes: start a server on the
 * embedded database, inject over the CLI, kill -9 the server, start it again,
 * and find everything that was acknowledged.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { drain, dynamo, freePort, startServer, waitReady } from "../helpers/server_process.ts";

const DEALER_EXAMPLE = new URL("../../examples/dealer/dealer.json", import.meta.url).pathname;

Deno.test({
  name: "a server killed with SIGKILL restarts with everything it acknowledged",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dynamo_e2e_" });
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { DYNAMO_HOME: home, DYNAMO_LISTEN: `127.0.0.1:${port}` };
    try {
      const added = await dynamo(env, ["user", "add", "ops", "--role", "admin:inventory"]);
      assertEquals(added.code, 0, added.stderr);
      const token = added.stdout.trim().split("\n").at(-1)!;
      assertMatch(token, /^dyn_[A-Za-z0-9_-]{40,}$/);
      const authed = { ...env, DYNAMO_TOKEN: token };

      let server = startServer(env);
      await waitReady(url, server);

      // The embedded database belongs to the server while it runs.
      const locked = await dynamo(env, ["user", "list"]);
      assertEquals(locked.code, 1);
      assertStringIncludes(locked.stderr, "in use by process");

      const file = `${home}/inject.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          site: [{ name: "T2_TEST", storage_type: "disk", status: "ready" }],
          group: [{ name: "Ops", olevel: "Dataset" }],
          dataset: [{
            name: "/Sync/Data/RAW",
            blocks: [{ name: "b1", files: [{ name: "/store/sync/1", size: 42 }] }],
          }],
          datasetreplica: [{
            dataset: "/Sync/Data/RAW",
            site: "T2_TEST",
            group: "Ops",
            blockreplicas: [{ block: "b1" }],
          }],
        }),
      );
      const sync = await dynamo(authed, ["inject", file, "--sync"]);
      assertEquals(sync.code, 0, sync.stderr);
      assertStringIncludes(sync.stdout, "Data is injected.");
      const queued = await dynamo(
        authed,
        ["inject", "-"],
        JSON.stringify({ dataset: [{ name: "/Async/Data/AOD" }] }),
      );
      assertEquals(queued.code, 0, queued.stderr);
      assertMatch(queued.stdout, /Queued as injection \d+/);
      const anonymous = await dynamo(env, ["inject", file]);
      assertEquals(anonymous.code, 1);
      assertStringIncludes(anonymous.stderr, "Unauthorized");

      const listed = await dynamo(env, ["datasets"]);
      assertEquals(listed.code, 0, listed.stderr);
      assertStringIncludes(listed.stdout, "/Sync/Data/RAW");

      server.kill("SIGKILL");
      await server.status;
      await drain(server);

      server = startServer(env);
      await waitReady(url, server);
      // The queued injection was durable: the restarted drainer applies it.
      let datasets = "";
      for (let i = 0; i < 100 && !datasets.includes("/Async/Data/AOD"); i++) {
        datasets = (await dynamo(env, ["datasets", "/*/Data/*"])).stdout;
      }
      assertStringIncludes(datasets, "/Sync/Data/RAW");
      assertStringIncludes(datasets, "/Async/Data/AOD");
      const sites = await dynamo(env, ["sites", "--json"]);
      const site = JSON.parse(sites.stdout)[0];
      assertEquals([site.name, site.partitions[0].usage], ["T2_TEST", 42]);

      server.kill("SIGTERM");
      const status = await server.status;
      const log = await drain(server);
      assertEquals(status.code, 0, log);
      assertStringIncludes(log, "Shutting down");
    } finally {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "every CLI command has --help; mistakes exit non-zero with one line",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const env = { DYNAMO_HOME: "/nonexistent/dynamo", DYNAMO_URL: "http://127.0.0.1:9" };
    const tmp = await Deno.makeTempDir({ prefix: "dynamo_cli_" });
    await Deno.writeTextFile(`${tmp}/bad_dealer.json`, JSON.stringify({ colour: "red" }));
    await Deno.writeTextFile(
      `${tmp}/other_partition.json`,
      JSON.stringify({ ...JSON.parse(await Deno.readTextFile(DEALER_EXAMPLE)), partition_name: "Nowhere" }),
    );
    await Deno.writeTextFile(`${tmp}/bad_jobs.csv`, "/A/B/C,1700000000,3\n/A/B/C;1700000000;3\n");
    for (
      const args of [
        ["--help"],
        ["start", "--help"],
        ["config", "--help"],
        ["inject", "--help"],
        ["injections", "--help"],
        ["datasets", "--help"],
        ["sites", "--help"],
        ["user", "--help"],
        ["policy", "--help"],
        ["partitions", "--help"],
        ["detox", "--help"],
        ["popularity", "--help"],
        ["request", "--help"],
        ["dealer", "--help"],
        ["demand", "--help"],
        ["applock", "--help"],
      ]
    ) {
      const r = await dynamo(env, args);
      assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assertStringIncludes(r.stdout, "Usage:");
    }
    const cases: [string[], number, RegExp, Record<string, string>?][] = [
      [["frobnicate"], 2, /Unknown command "frobnicate"/],
      [["datasets", "--colour"], 2, /Unknown option '--colour'/],
      [["inject"], 2, /exactly one FILE/],
      [["inject", "/nonexistent/file.json"], 1, /Cannot read/],
      [["user", "add", "x", "--role", "king:of-the-hill"], 2, /ROLE:TARGET/],
      [["datasets"], 1, /Cannot reach the Dynamo server/],
      [["start", "--listen", "nowhere"], 1, /--listen must be HOST:PORT/],
      [["start"], 1, /DYNAMO_LISTEN must be HOST:PORT, got "127.0.0.1:99999"/, {
        DYNAMO_LISTEN: "127.0.0.1:99999",
      }],
      [["start"], 1, /DYNAMO_MAX_BODY_BYTES must be a positive integer, got "-5"/, {
        DYNAMO_MAX_BODY_BYTES: "-5",
      }],
      [["datasets"], 2, /DYNAMO_LOG_LEVEL must be one of .* got "loud"/, { DYNAMO_LOG_LEVEL: "loud" }],
      [["start"], 1, /DYNAMO_DEALER_CONFIG: cannot read \/nonexistent\/dealer.json/, {
        DYNAMO_DEALER_CONFIG: "/nonexistent/dealer.json",
      }],
      [["start"], 1, /bad_dealer.json:1:1: colour: unknown key/, {
        DYNAMO_DEALER_CONFIG: `${tmp}/bad_dealer.json`,
      }],
      [["start"], 1, /DYNAMO_DEALER_INTERVAL must be a number from 0 to/, {
        DYNAMO_DEALER_CONFIG: DEALER_EXAMPLE,
        DYNAMO_DEALER_INTERVAL: "soon",
      }],
      [["start"], 1, /DYNAMO_DEALER_CONFIG: partition "Nowhere" is not defined/, {
        DYNAMO_DEALER_CONFIG: `${tmp}/other_partition.json`,
      }],
      [["request", "copy"], 2, /request copy needs at least one ITEM/],
      [["request", "delete", "/A/B/C"], 2, /request delete needs --site/],
      [["request", "frobnicate"], 2, /Unknown request command/],
      [["dealer", "frobnicate"], 2, /Unknown dealer command/],
      [["demand", "import", `${tmp}/bad_jobs.csv`], 1, /bad_jobs.csv:2: expected dataset,queued,jobs/],
      [["applock", "lock"], 2, /applock lock needs exactly one APP/],
    ];
    for (const [args, code, pattern, extraEnv] of cases) {
      const r = await dynamo({ ...env, ...extraEnv }, args);
      assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("time="));
      assertEquals(lines.length, 1, r.stderr);
      assertMatch(lines[0]!, pattern);
    }
    await Deno.remove(tmp, { recursive: true });
  },
});

Deno.test({
  name: "policy check describes good files and places errors in bad ones",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const fixtures = new URL("../fixtures/policies/", import.meta.url).pathname;
    const good = await dynamo({}, [
      "policy",
      "check",
      `${fixtures}analysis.txt`,
      `${fixtures}partitions.txt`,
      new URL("../../examples/detox/default.txt", import.meta.url).pathname,
    ]);
    assertEquals(good.code, 0, good.stderr);
    assertStringIncludes(good.stdout, "Detox policy for partition Analysis");
    assertStringIncludes(good.stdout, "rules: 1 Ignore, 3 ProtectBlock");
    assertStringIncludes(good.stdout, "7 partitions");
    assertStringIncludes(good.stdout, "Detox policy for partition Default");
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(
      `${dir}/bad.txt`,
      "Partition P\nOn always\nWhen site.occupancy >> 0.9\nUntil never\nDismiss\n",
    );
    const bad = await dynamo({}, ["policy", "check", `${dir}/bad.txt`]);
    await Deno.remove(dir, { recursive: true });
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr.trim(), /bad\.txt:3:21: unknown operator ">>"; expected one of/);
  },
});

Deno.test({
  name:
    "the README walkthrough: Detox deletes the second copy, never the last; the Dealer serves a copy request",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const examples = new URL("../../examples/", import.meta.url).pathname;
    const home = await Deno.makeTempDir({ prefix: "dynamo_e2e_" });
    const port = freePort();
    const env = {
      DYNAMO_HOME: home,
      DYNAMO_LISTEN: `127.0.0.1:${port}`,
      DYNAMO_DETOX_POLICIES: `${examples}detox/default.txt`,
      DYNAMO_DETOX_INTERVAL: "0",
      DYNAMO_DEALER_CONFIG: `${examples}dealer/dealer.json`,
      DYNAMO_DEALER_INTERVAL: "0",
    };
    try {
      const added = await dynamo(env, [
        "user",
        "add",
        "alice",
        "--role",
        "admin:inventory",
        "--role",
        "admin:application",
        "--role",
        "admin:registry",
      ]);
      assertEquals(added.code, 0, added.stderr);
      const authed = { ...env, DYNAMO_TOKEN: added.stdout.trim().split("\n").at(-1)! };
      const server = startServer(env);
      await waitReady(`http://127.0.0.1:${port}`, server);
      const ok = async (args: string[]) => {
        const r = await dynamo(authed, args);
        assertEquals(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };
      await ok(["inject", `${examples}injection.json`, "--sync"]);
      await ok(["sites", "set-quota", "T2_US_MIT", "Default", "8kB"]);
      await ok(["sites", "set-quota", "T2_DE_DESY", "Default", "1TB"]);
      assertMatch(await ok(["detox", "run", "--dry-run"]), /7\.00 kB would be deleted/);
      assertMatch(await ok(["detox", "run"]), /1 replica\(s\), 7\.00 kB deleted/);
      const explained = await ok(["detox", "explain", "/Prim/*"]);
      assertMatch(explained, /AOD at T2_US_MIT: DELETE 7\.00 kB .*line 24: Dismiss/);
      assertMatch(explained, /AOD at T2_DE_DESY: PROTECT .*num_full_disk_copy < 2/);
      assertMatch(explained, /MINIAOD at T2_US_MIT: PROTECT .*num_full_disk_copy < 2/);
      const sites = JSON.parse(await ok(["sites", "--json"])) as {
        name: string;
        partitions: { usage: number }[];
      }[];
      assertEquals(sites.map((s) => [s.name, s.partitions[0]!.usage]), [["T2_DE_DESY", 7000], [
        "T2_US_MIT",
        500,
      ]]);
      // The Dealer part: a copy request, a cycle that schedules it, the request queued.
      assertMatch(
        await ok(["request", "copy", "/Prim/Proc-v1/MINIAOD", "--site", "T2_DE_DESY"]),
        /copy request 1 \(new\)/,
      );
      assertMatch(await ok(["dealer", "run", "--dry-run"]), /1 proposal\(s\) accepted.*would be scheduled/);
      assertMatch(await ok(["dealer", "run"]), /1 copy, 500 B scheduled/);
      assertMatch(await ok(["request", "poll", "1"]), /MINIAOD at T2_DE_DESY: queued/);
      assertMatch(
        await ok(["dealer", "explain", "/Prim/Proc-v1/MINIAOD"]),
        /requests: ACCEPTED at T2_DE_DESY/,
      );
      server.kill("SIGTERM");
      assertEquals((await server.status).code, 0);
      await drain(server);
    } finally {
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
