/**
 * Consistency through the service: the agent checks on its schedule (and the
 * scheduler's application), REST and the CLI drive checks, reports and
 * invalidation, /metrics counts runs; every parameter's garbage and hostile
 * values are refused with the parameter named, and change nothing.
 */
import { consistencyCommand } from "../../adapters/cli/consistency_commands.ts";
import type { CliContext } from "../../adapters/cli/cli_context.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { dbTest } from "../helpers/db.ts";
import type { TreeReader } from "../../adapters/storage/listing_port.ts";
import { age, consistencyFederation, DAY } from "../helpers/consistency.ts";

function cli(url: string, token: string) {
  const lines: string[] = [];
  const errors: string[] = [];
  const ctx = {
    out: (l: string) => lines.push(l),
    err: (l: string) => errors.push(l),
    env: (name: string) => ({ DYNAMO_URL: url, DYNAMO_TOKEN: token } as Record<string, string>)[name],
  } as unknown as CliContext;
  return { ctx, lines, errors };
}

dbTest("consistency service: REST, CLI, the agent's schedule and /metrics", async ({ db }) => {
  const f = await consistencyFederation(db, { agentTickMs: 3600_000 });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, f.dynamo.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    await Deno.remove(`${f.root}${f.one[0]!.lfn}`);
    await Deno.writeTextFile(`${f.root}/store/one/run-v1/aod/extra.root`, "extra");
    await age(`${f.root}/store/one/run-v1/aod/extra.root`);

    // Nothing checked yet.
    assertEquals((await f.call("GET", "/data/consistency/summary")).body.data, []);
    assertEquals((await f.call("GET", "/data/consistency/site?site=T2_SITE")).status, 404);

    // Writes need a token and a role.
    assertEquals(
      (await f.call("POST", "/data/consistency/check", { body: { site: "T2_SITE" } })).status,
      401,
    );
    // Garbage and hostile parameters: 400 naming the parameter, no run recorded.
    const bad: [string, string, unknown, string][] = [
      ["POST", "/data/consistency/check", {}, "site"],
      ["POST", "/data/consistency/check", { site: "../../etc" }, "site"],
      ["POST", "/data/consistency/check", { site: "T2_NOWHERE" }, "site"],
      ["POST", "/data/consistency/check", { site: "T2_SITE\n" }, "site"],
      ["POST", "/data/consistency/check", { site: "T2_SITE", dry_run: "maybe" }, "dry_run"],
      ["POST", "/data/consistency/check", { site: "T2_SITE", bogus: 1 }, "bogus"],
      ["POST", "/data/consistency/invalidate", { site: "x".repeat(200) }, "site"],
      ["GET", "/data/consistency/site?site=T2_SITE&kind=everything", null, "kind"],
      ["GET", "/data/consistency/site?site=T2_SITE&offset=-1", null, "offset"],
      ["GET", "/data/consistency/site?site=T2_SITE&limit=0", null, "limit"],
      ["GET", "/data/consistency/site?site=T2_SITE&limit=ten", null, "limit"],
      ["GET", "/data/consistency/site?site=%00", null, "site"],
      ["GET", "/data/consistency/site", null, "site"],
      ["GET", "/data/consistency/progress?site=../x", null, "site"],
      ["GET", "/data/consistency/progress?site=T2_SITE&bogus=1", null, "bogus"],
      ["POST", "/data/consistency/cancel", { site: "T2_SITE\n" }, "site"],
      ["POST", "/data/consistency/cancel", {}, "site"],
    ];
    for (const [method, path, body, param] of bad) {
      const r = await f.call(method, path, { token: f.token, ...(body ? { body } : {}) });
      assertEquals(r.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert(r.body.message.includes(param), `${path}: ${r.body.message}`);
    }
    assertEquals(
      (await f.call("POST", "/data/consistency/cancel", { body: { site: "T2_SITE" } })).status,
      401,
    );
    assertEquals((await f.call("GET", "/data/consistency/progress?site=T2_SITE")).body.data, null);
    assertEquals(await db.queryArrays("SELECT count(*) FROM consistency_runs"), [[0]]);

    // The agent's first scheduled round checks every site once.
    await f.clock.advance(3600_000);
    await waitFor(async () => (await f.call("GET", "/data/consistency/summary")).body.data.length === 2);
    const summary = (await f.call("GET", "/data/consistency/summary")).body.data as Record<string, unknown>[];
    const site = summary.find((r) => r.site === "T2_SITE")!;
    assertEquals([site.complete, site.missing, site.orphan, site.acted], [true, 1, 1, 0]);

    // REST check, dry run: answers when the check has ended.
    const dry = await f.call("POST", "/data/consistency/check", {
      token: f.token,
      body: { site: "T2_SITE", dry_run: "y" },
    });
    assertEquals([dry.status, dry.body.data.dry_run, dry.body.data.withheld], [200, true, "dry run"]);

    // A day later the CLI check confirms and repairs.
    await f.clock.advance(DAY);
    const c = cli(url, f.token);
    assertEquals(await consistencyCommand(["check", "T2_SITE", "--json"], c.ctx), 0);
    const run = JSON.parse(c.lines.join("\n"));
    assertEquals([run.missing, run.orphan, run.confirmed, run.acted], [1, 1, 2, 2]);

    // The report pages its findings.
    const page = await f.call("GET", "/data/consistency/site?site=T2_SITE&limit=1&offset=0");
    assertEquals([page.body.data.total, page.body.data.findings.length], [2, 1]);
    const orphans = await f.call("GET", "/data/consistency/site?site=T2_SITE&kind=orphan");
    assertEquals(
      orphans.body.data.findings.map((x: { path: string; outcome: string }) => [x.path, x.outcome]),
      [
        ["/store/one/run-v1/aod/extra.root", "deleted"],
      ],
    );
    const report = cli(url, f.token);
    assertEquals(await consistencyCommand(["report", "T2_SITE"], report.ctx), 0);
    assert(
      report.lines.some((l) => l.includes("extra.root") && l.includes("deleted")),
      report.lines.join("\n"),
    );
    const all = cli(url, f.token);
    assertEquals(await consistencyCommand(["report"], all.ctx), 0);
    assert(all.lines[0]!.startsWith("SITE"), all.lines[0]);

    // CLI garbage: usage errors (exit 2), nothing sent.
    for (
      const args of [["check"], ["check", "../x"], ["frobnicate"], ["report", "T2_SITE", "--limit", "lots"]]
    ) {
      const g = cli(url, f.token);
      let code = 0;
      try {
        code = await consistencyCommand(args, g.ctx);
      } catch (e) {
        code = (e as { exitCode?: number }).exitCode ?? 1;
      }
      assertEquals(code, 2, args.join(" "));
    }

    // Invalidation with nothing unrecoverable invalidates nothing.
    const inv = cli(url, f.token);
    assertEquals(await consistencyCommand(["invalidate", "T2_SITE"], inv.ctx), 0);
    assertMatch(inv.lines[0]!, /Invalidated 0/);

    const metrics = await (await f.dynamo.app.fetch(new Request("http://dynamo.test/metrics"))).text();
    assertMatch(metrics, /dynamo_consistency_runs_total\{site="T2_SITE"\} 3/);
    assertMatch(metrics, /dynamo_consistency_acted_files\{site="T2_SITE"\} 2/);
    assertMatch(metrics, /dynamo_consistency_complete\{site="T2_COPY"\} 1/);
  } finally {
    await server.shutdown();
    await f.close().catch(() => {});
  }
});

dbTest(
  "consistency CLI: the listing's progress meanwhile, Ctrl-C cancels and records nothing",
  async ({ db }) => {
    // The site's listing gives its first directory, then stalls until its signal aborts.
    let calls = 0;
    const stall = (reader: TreeReader): TreeReader => ({
      kind: reader.kind,
      recursive: reader.recursive,
      async *listTree(dir, options) {
        if (calls++ > 0) {
          await new Promise((_, reject) =>
            options.signal.addEventListener("abort", () => reject(options.signal.reason), { once: true })
          );
        }
        yield* reader.listTree(dir, options);
      },
    });
    const f = await consistencyFederation(db, { agentTickMs: 0, wrapReader: stall });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, f.dynamo.app.fetch);
    try {
      const c = cli(`http://127.0.0.1:${server.addr.port}`, f.token);
      const progress: string[] = [];
      const sigint: { handler: (() => void) | null } = { handler: null };
      const ctx: CliContext = {
        ...c.ctx,
        now: () => f.clock.now(),
        progressOutput: () => ({ isTerminal: false, write: (t) => progress.push(t), intervalMs: 20 }),
        onInterrupt(handler) {
          sigint.handler = handler;
          return () => (sigint.handler = null);
        },
      };
      const running = consistencyCommand(["check", "T2_SITE"], ctx);
      await waitFor(() =>
        Promise.resolve(progress.some((l) => /^T2_SITE: [1-9]\d* directories, \d+ files listed/.test(l)))
      );
      // Plain lines (not a terminal), one per change: the stalled listing adds none.
      assert(progress.every((l) => l.endsWith("\n") && !l.includes("\r")), JSON.stringify(progress));
      assertEquals(new Set(progress).size, progress.length);
      const during = await f.call("GET", "/data/consistency/progress?site=T2_SITE");
      assert(during.body.data.dirs >= 1, JSON.stringify(during.body.data));
      assert(sigint.handler !== null, "the CLI listens for Ctrl-C while checking");
      sigint.handler();
      assertEquals(await running, 130);
      assert(c.errors.some((l) => l.includes("cancelled: nothing was recorded")), c.errors.join("\n"));
      assertEquals(sigint.handler, null);
      assertEquals(await db.queryArrays("SELECT count(*) FROM consistency_runs"), [[0]]);
      assertEquals((await f.call("GET", "/data/consistency/progress?site=T2_SITE")).body.data, null);

      // A cancel with nothing running says so.
      const none = await f.call("POST", "/data/consistency/cancel", {
        token: f.token,
        body: { site: "T2_SITE" },
      });
      assertEquals([none.status, none.body.data.cancelled], [200, false]);
    } finally {
      await server.shutdown();
      await f.close().catch(() => {});
    }
  },
);

/** Polls a condition on real work (a check runs real processes), not on time. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the condition never held");
}
