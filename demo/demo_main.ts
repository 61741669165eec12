/**
 * `deno task demo [--days N] [--seed S] [--json] [--serve] [--scale X]`:
 * the demo's command line (its own entry point, so the service's CLI does
 * not import the demo).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { configure, getStreamSink, getTextFormatter } from "@logtape/logtape";
import { parseListen } from "../service/config/listen.ts";
import {
  DEFAULT_HOME,
  processEnvironment,
  resolvePathEnvironment,
} from "../service/config/path_environment.ts";
import { runDemo } from "./run_demo.ts";
import { renderSummary } from "./summary.ts";

export const DEMO_HELP = `Usage: deno task demo [--days N] [--seed S] [--json] [--serve] [--scale X]

Builds a federation of 12 POSIX storage sites in $DYNAMO_HOME/demo (default
./.dynamo/demo; a previous demo there is replaced), runs the whole service on
it for N simulated days (default 3, about a minute) with a workload of
production, jobs and requests, and prints what happened and the invariants.

  --days N     simulated days (0.25 to 60)
  --seed S     the workload's seed; the same seed gives the same run (default 1)
  --json       the summary as one JSON object on stdout
  --serve      keep the REST registry up afterwards ($DYNAMO_LISTEN, default 127.0.0.1:8080)
  --scale X    multiplies quotas and file sizes (0.1 to 10, default 1)
Exit status 1 when an invariant is violated.`;

export async function demoMain(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        days: { type: "string" },
        seed: { type: "string" },
        scale: { type: "string" },
        json: { type: "boolean" },
        serve: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    console.error(`demo: ${(e as Error).message.split("\n")[0]} (see --help)`);
    return 2;
  }
  if (values.help) {
    console.log(DEMO_HELP);
    return 0;
  }
  const number = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new RangeError(`--${name} must be from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
  let days, seed, scale, listen;
  try {
    days = number("days", values.days, 3, 0.25, 60);
    seed = number("seed", values.seed, 1, 0, 2 ** 31);
    if (!Number.isInteger(seed)) throw new RangeError(`--seed must be a whole number, got "${values.seed}"`);
    scale = number("scale", values.scale, 1, 0.1, 10);
    listen = values.serve
      ? parseListen(Deno.env.get("DYNAMO_LISTEN") ?? "127.0.0.1:8080", "DYNAMO_LISTEN")
      : null;
  } catch (e) {
    console.error(`demo: ${(e as Error).message}`);
    return 2;
  }
  await configure({
    sinks: { stderr: getStreamSink(Deno.stderr.writable, { formatter: getTextFormatter() }) },
    loggers: [
      // The demo's own lines are the story; the service's warnings (failed transfers, the crash) go to stderr.
      { category: ["dynamo"], lowestLevel: values.json ? "error" : "error", sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  const tty = Deno.stderr.isTerminal();
  const home = resolve(Deno.env.get("DYNAMO_HOME") ?? DEFAULT_HOME);
  const started = performance.now();
  const run = await runDemo({
    home,
    days,
    seed,
    scale,
    progress: (line) => {
      if (values.json) return;
      if (tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${line}`));
      else console.error(line);
    },
  });
  if (tty && !values.json) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  const s = run.summary;
  const violated = s.last_copies_lost + s.files_missing_at_end + s.checksum_mismatches_at_end +
    s.over_watermark_unforced;
  if (values.json) console.log(JSON.stringify(s));
  else {
    for (const line of renderSummary(s)) console.log(line);
    console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s; the demo is in ${home}/demo)`);
  }
  if (listen) {
    const server = Deno.serve({ ...listen, onListen: () => {} }, run.dynamo.app.fetch);
    console.error(
      `The registry of the demo is at http://${listen.hostname}:${listen.port} (operator token: ${run.token}); ` +
        "Ctrl-C stops it.",
    );
    console.error(
      `The web monitor is at http://${listen.hostname}:${listen.port}/web/ (sign in with the operator token).`,
    );
    const stop = Promise.withResolvers<void>();
    Deno.addSignalListener("SIGINT", () => stop.resolve());
    Deno.addSignalListener("SIGTERM", () => stop.resolve());
    await stop.promise;
    await server.shutdown();
  }
  await run.close();
  return violated === 0 ? 0 : 1;
}

if (import.meta.main) {
  try {
    resolvePathEnvironment(processEnvironment, Deno.cwd());
  } catch (e) {
    console.error(`demo: ${(e as Error).message}`);
    Deno.exit(2);
  }
  Deno.exit(await demoMain(Deno.args));
}
