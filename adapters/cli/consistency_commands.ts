import { parse, table } from "./args.ts";
import { ProgressDisplay, type ProgressReport } from "./check_progress.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { type RegistryClient, registryFromEnv } from "./registry_client.ts";

export const CONSISTENCY_HELP =
  `Usage: dynamo consistency check SITE [--dry-run] [--json] [--token TOKEN] [--server URL]
       dynamo consistency report [SITE] [--kind KIND] [--limit N] [--json] [--server URL]
       dynamo consistency invalidate SITE [--token TOKEN] [--server URL]

check       lists the site's storage now and compares it with the inventory: missing,
            orphan and corrupt files, empty directories. Findings seen by two complete
            runs at least confirm_after apart are repaired, within the site's thresholds.
            --dry-run reports without acting. Answers when the check has ended,
            showing the listing's progress meanwhile; Ctrl-C cancels it.
report      the last run of every site, or of SITE with its findings (--kind missing,
            orphan, corrupt, unmanaged, empty_dir or hostile).
invalidate  removes the unrecoverable files of SITE's last complete run from the
            inventory (no disk or tape copy exists anywhere): an operator's decision.
See docs/consistency.md.`;

const SITE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

type Row = Record<string, unknown>;

export async function consistencyCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, {
    server: { type: "string" },
    token: { type: "string" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
    kind: { type: "string" },
    limit: { type: "string" },
  });
  if (values.help || positionals.length === 0) return help(ctx, CONSISTENCY_HELP);
  const [sub, site, ...rest] = positionals;
  if (rest.length > 0) throw new CliError(`Unexpected argument "${rest[0]}" (see --help)`, 2);
  if (site !== undefined && !SITE.test(site)) {
    throw new CliError(`Not a site name: ${JSON.stringify(site)}`, 2);
  }
  if (values.limit !== undefined && !/^\d{1,6}$/.test(values.limit)) {
    throw new CliError(`--limit must be a whole number, got ${JSON.stringify(values.limit)}`, 2);
  }
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const out = (data: unknown, lines: () => string[]) => {
    if (values.json) ctx.out(JSON.stringify(data, null, 2));
    else for (const line of lines()) ctx.out(line);
    return 0;
  };
  switch (sub) {
    case "check": {
      if (!site) throw new CliError("consistency check needs a SITE", 2);
      if (!values.json) ctx.err(`Checking ${site}${values["dry-run"] ? " (dry run)" : ""}…`);
      const display = values.json || !ctx.progressOutput
        ? null
        : new ProgressDisplay(ctx.progressOutput(), site);
      let cancelled = false;
      // Ctrl-C cancels the check on the service (its AbortSignal): nothing of it is recorded.
      const removeInterrupt = ctx.onInterrupt?.(() => {
        if (cancelled) return;
        cancelled = true;
        display?.end();
        ctx.err(`Cancelling the check of ${site}…`);
        client.post("/data/consistency/cancel", { site }).catch((e) =>
          ctx.err(`Could not cancel: ${(e as Error).message}`)
        );
      });
      const stopProgress = display ? showProgress(client, site, display, ctx) : () => Promise.resolve();
      try {
        const { data } = await client.post<Row>("/data/consistency/check", {
          site,
          dry_run: values["dry-run"] ? "y" : "n",
        });
        await stopProgress();
        return out(data, () => describeRun(data));
      } catch (e) {
        await stopProgress();
        if (cancelled) {
          ctx.err(`The check of ${site} was cancelled: nothing was recorded.`);
          return 130;
        }
        throw e;
      } finally {
        removeInterrupt?.();
      }
    }
    case "report": {
      if (!site) {
        const rows = await client.get<Row[]>("/data/consistency/summary");
        return out(rows, () =>
          rows.length === 0 ? ["No site has been checked yet."] : table(
            [
              "SITE",
              "LAST RUN",
              "COMPLETE",
              "FILES",
              "MISSING",
              "ORPHAN",
              "CORRUPT",
              "UNRECOV.",
              "ACTED",
              "FLAGGED",
            ],
            rows.map((r) => [
              String(r.site),
              new Date(Number(r.started) * 1000).toISOString().slice(0, 19) + "Z",
              r.complete ? "yes" : "no",
              Number(r.files_listed),
              Number(r.missing),
              Number(r.orphan),
              Number(r.corrupt),
              Number(r.unrecoverable),
              Number(r.acted),
              r.flagged ? "yes" : "",
            ]),
          ));
      }
      const page = await client.get<{ run: Row; total: number; findings: Row[] }>("/data/consistency/site", {
        site,
        kind: values.kind,
        limit: values.limit,
      });
      return out(page, () => [
        ...describeRun(page.run),
        "",
        `${page.total} finding(s)${
          page.findings.length < page.total ? `, first ${page.findings.length}` : ""
        }:`,
        ...table(
          ["KIND", "PATH", "SIZE", "CONFIRMED", "ACTION", "OUTCOME", "DETAIL"],
          page.findings.map((f) => [
            String(f.kind),
            String(f.path),
            f.size === null ? "" : Number(f.size),
            f.confirmed ? "yes" : "",
            String(f.action ?? ""),
            String(f.outcome ?? ""),
            String(f.detail ?? ""),
          ]),
        ),
      ]);
    }
    case "invalidate": {
      if (!site) throw new CliError("consistency invalidate needs a SITE", 2);
      const { data } = await client.post<{ invalidated: number; failed: { path: string; error: string }[] }>(
        "/data/consistency/invalidate",
        { site },
      );
      return out(data, () => [
        `Invalidated ${data.invalidated} unrecoverable file(s) of ${site}.`,
        ...data.failed.map((f) => `  not invalidated: ${f.path}: ${f.error}`),
      ]);
    }
    default:
      throw new CliError(`Unknown consistency command "${sub}" (see dynamo consistency --help)`, 2);
  }
}

/** Asks the service for the check's progress until stopped; the returned function stops and waits. */
function showProgress(
  client: RegistryClient,
  site: string,
  display: ProgressDisplay,
  ctx: CliContext,
): () => Promise<void> {
  const startedMs = ctx.now();
  const intervalMs = display.output.intervalMs ?? (display.output.isTerminal ? 1000 : 10_000);
  let stopped = false;
  let wake: () => void = () => {};
  const loop = (async () => {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) break;
      try {
        const p = await client.get<ProgressReport | null>("/data/consistency/progress", { site });
        if (!stopped) display.show(p, (ctx.now() - startedMs) / 1000);
      } catch {
        // Progress is a courtesy: a failed look does not end the check.
      }
    }
  })();
  return async () => {
    stopped = true;
    wake();
    await loop;
    display.end();
  };
}

function describeRun(r: Row): string[] {
  const failed = (r.failed_dirs as { dir: string; reason: string }[] | undefined) ?? [];
  return [
    `${r.site}: run ${r.run_id}, ${r.complete ? "complete" : "INCOMPLETE"}${
      r.dry_run ? " (dry run)" : ""
    }, ` +
    `${r.files_listed} files listed in ${r.duration_s} s` +
    (Number(r.dirs_skipped ?? 0) > 0 ? ` (${r.dirs_skipped} unchanged directories not compared again)` : ""),
    `  missing ${r.missing}, orphan ${r.orphan}, corrupt ${r.corrupt}, unrecoverable ${r.unrecoverable}, ` +
    `empty directories ${r.empty_dirs}, hostile names ${r.hostile}`,
    `  confirmed ${r.confirmed}, acted on ${r.acted}${r.withheld ? ` (no action: ${r.withheld})` : ""}`,
    ...(r.flagged ? [`  FLAGGED: ${(r.flag_reasons as string[]).join("; ")}`] : []),
    ...failed.map((f) => `  not listed: ${f.dir}: ${f.reason}`),
  ];
}
