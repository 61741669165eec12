/**
 * The demo end to end: a short run on real files keeps every invariant, and
 * the same seed makes the same run.
 */
import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { dbTest } from "../tests/helpers/db.ts";
import { runDemo } from "./run_demo.ts";
import { demoMain } from "./demo_main.ts";

dbTest(
  "a one-day demo moves real bytes, survives its crash and outage, and keeps every invariant",
  async ({ db }) => {
    const home = await Deno.makeTempDir({ prefix: "dynamo-demo-" });
    try {
      const run = await runDemo({ home, days: 1, seed: 2, database: db });
      const metrics = await (await run.dynamo.app.fetch(new Request("http://demo/metrics"))).text();
      await run.close();
      const s = run.summary;
      // /metrics tells the same story as the summary.
      const metric = (name: string) => {
        const line = metrics.split("\n").find((l) => l.startsWith(`${name} `));
        return line === undefined ? NaN : Number(line.slice(name.length + 1));
      };
      assertEquals(metric('dynamo_detox_cycles_total{mode="normal",status="done"}'), 7);
      assertEquals(metric('dynamo_dealer_cycles_total{mode="normal",status="done"}'), 7);
      assertEquals(metric('dynamo_file_transfers_total{result="ok"}'), s.files_copied);
      assertEquals(metric('dynamo_file_transfer_bytes_total{result="ok"}'), s.bytes_copied);
      for (const [result, n] of Object.entries(s.transfer_failures_by_class)) {
        assertEquals(metric(`dynamo_file_transfers_total{result="${result}"}`), n, result);
      }
      assertEquals(metric('dynamo_actor_restarts_total{actor="/dynamo/dealer"}'), 1);
      assertEquals(metric('dynamo_application_runs_total{application="detox",status="done"}'), 7);
      assert(metric("dynamo_inventory_generation") > 0);
      assertEquals(metric('dynamo_actor_mailbox_depth{actor="/dynamo/scheduler"}'), 0);
      assertEquals(s.sites.length, 12);
      assertEquals(s.sites.filter((x) => x.storage_type === "mss").length, 2);
      assertEquals(
        [s.last_copies_lost, s.files_missing_at_end, s.checksum_mismatches_at_end, s.over_watermark_unforced],
        [0, 0, 0, 0],
        s.problems.join("; "),
      );
      assert(s.files_checked > 100, `${s.files_checked} files checked`);
      assert(s.bytes_copied > 0 && s.files_copied > 0, "Dynamo copied files");
      assertEquals(s.restarts_recovered, 1, "the planned crash was recovered from");
      assertEquals(
        s.detox_cycles,
        7,
        "a Detox cycle every four hours, from the start (0 h) to the end (24 h)",
      );
      assertEquals(s.dealer_cycles, 7);
      assert(
        (s.transfer_failures_by_class.EIO ?? 0) > 0,
        "flaky endpoints failed some writes, which were retried",
      );
      assert(
        (s.transfer_failures_by_class.ECONNREFUSED ?? 0) > 0,
        "the endpoint that was down refused connections",
      );
      assert(s.datasets_produced > 0);
      // Two sites lost files and gained orphans: the consistency agent saw them, repaired them when a second
      // run confirmed them, and its last run found nothing.
      assertEquals(s.consistency.length, 6, JSON.stringify(s.consistency));
      const [seen, fixed, clean] = [
        s.consistency.slice(0, 2),
        s.consistency.slice(2, 4),
        s.consistency.slice(4),
      ];
      for (const [i, r] of seen.entries()) {
        assert(r.missing > 0 && r.orphan === 2 && r.acted === 0 && !r.flagged, JSON.stringify(r));
        assertEquals(fixed[i]!.acted, r.missing + r.orphan, JSON.stringify(fixed[i]));
      }
      for (const r of clean) assertEquals([r.missing, r.orphan, r.corrupt], [0, 0, 0], JSON.stringify(r));
      assertEquals(metric('dynamo_consistency_runs_total{site="T2_US_MIT"}'), 3);
      // Every file the run left at a site is really there: the summary read them back from disk.
      assert(s.sites.every((x) => x.occupancy.length === 24 || x.storage_type === "mss"));
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
);

Deno.test({
  name: "the same seed reproduces the demo's run; another seed makes another",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dynamo-demo-" });
    try {
      const summaries = [];
      const transfers = [];
      for (const seed of [3, 3, 4]) {
        const run = await runDemo({ home, days: 0.5, seed });
        transfers.push(
          await run.dynamo.db.queryArrays(
            "SELECT lfn, source, destination, exit_code FROM file_transfers ORDER BY lfn, source, destination, exit_code",
          ),
        );
        await run.close();
        summaries.push(run.summary);
      }
      assertEquals(summaries[1], summaries[0]);
      assert(transfers[0]!.length > 0);
      assertEquals(transfers[1], transfers[0], "the same seed, the same copies from the same sources");
      assert(
        JSON.stringify(summaries[2]!.sites) !== JSON.stringify(summaries[0]!.sites),
        "a different seed produces different data",
      );
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test("the demo's command line refuses bad options with a clear message and exit code 2", async () => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (line: string) => errors.push(line);
  try {
    for (
      const [args, message] of [
        [["--days", "0"], '--days must be from 0.25 to 60, got "0"'],
        [["--days", "lots"], '--days must be from 0.25 to 60, got "lots"'],
        [["--seed", "1.5"], '--seed must be a whole number, got "1.5"'],
        [["--scale", "1e9"], '--scale must be from 0.1 to 10, got "1e9"'],
        [["--colour"], "Unknown option '--colour'"],
      ] as const
    ) {
      errors.length = 0;
      assertEquals(await demoMain([...args]), 2, args.join(" "));
      assert(errors[0]?.includes(message), `${args.join(" ")}: ${errors[0]}`);
    }
  } finally {
    console.error = original;
  }
});

Deno.test({
  name: "the README's first command: `deno task demo --json` prints the summary and exits 0",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "dynamo-demo-" });
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["task", "demo", "--days", "0.25", "--seed", "2", "--json"],
        cwd: new URL("..", import.meta.url).pathname,
        env: { DYNAMO_HOME: home, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, stderr);
      const summary = JSON.parse(new TextDecoder().decode(out.stdout));
      for (
        const key of [
          "sites",
          "bytes_copied",
          "bytes_deleted",
          "last_copies_lost",
          "files_missing_at_end",
          "checksum_mismatches_at_end",
          "max_occupancy_after_detox",
          "restarts_recovered",
        ]
      ) assert(key in summary, `${key} is in the summary`);
      assertEquals(summary.sites.length, 12);
      assert(
        (await Deno.stat(`${home}/demo/config/demo.seq`)).isFile,
        "the demo's configuration is kept beside it",
      );
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
