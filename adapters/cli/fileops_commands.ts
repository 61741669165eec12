import { humanBytes, parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { registryFromEnv } from "./registry_client.ts";

const connection = { server: { type: "string" }, token: { type: "string" } } as const;

export const TRANSFERS_HELP = `Usage: dynamo transfers [--held] [--limit N] [--server URL]
       dynamo transfers release ID… | --all [--token TOKEN]

Lists the file transfers and deletions queued or in flight; --held lists the
held ones with the reason (no_source, all_failed, site_unavailable) and the
last error. release puts held files back in the queue.`;

export const FILEOPS_HELP = `Usage: dynamo fileops run [--token TOKEN] [--server URL]

Runs one file-operations pass now: new copy and deletion operations become
per-file tasks, sources are chosen, files are copied and deleted on the sites,
and the inventory is updated with what finished.`;

interface SubscriptionJson {
  id: number;
  kind: string;
  lfn: string;
  size: number;
  source: string | null;
  site: string;
  status: string;
  task_state: string | null;
  hold_reason: string | null;
  attempts: number;
  last_error?: string | null;
}

export async function transfersCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, {
    ...connection,
    held: { type: "boolean" },
    all: { type: "boolean" },
    limit: { type: "string" },
  });
  if (values.help) return help(ctx, TRANSFERS_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  if (positionals[0] === "release") {
    const ids = positionals.slice(1);
    if (values.all === (ids.length > 0)) {
      throw new CliError("transfers release needs IDs or --all (not both)", 2);
    }
    for (const id of ids) if (!/^\d+$/.test(id)) throw new CliError(`not a subscription id: ${id}`, 2);
    const { data } = await client.post<{ released: number }>(
      `/data/transfers/release?${values.all ? "all=y" : new URLSearchParams(ids.map((id) => ["id", id]))}`,
      {},
    );
    ctx.out(`Released ${data.released} held file(s).`);
    return 0;
  }
  if (positionals.length > 0) throw new CliError(`Unknown transfers command "${positionals[0]}"`, 2);
  const rows = await client.get<SubscriptionJson[]>(
    values.held ? "/data/transfers/held/detail" : "/data/transfers/current",
    { limit: values.limit },
  );
  if (rows.length === 0) {
    ctx.out(values.held ? "No held files." : "Nothing queued or in flight.");
    return 0;
  }
  const lines = table(
    [
      "ID",
      "KIND",
      "LFN",
      "SIZE",
      "FROM",
      "TO",
      values.held ? "REASON" : "STATE",
      "TRIES",
      ...(values.held ? ["LAST ERROR"] : []),
    ],
    rows.map((r) => [
      r.id,
      r.kind,
      r.lfn,
      humanBytes(r.size),
      r.source ?? "-",
      r.site,
      values.held ? r.hold_reason ?? "-" : r.task_state ?? r.status,
      r.attempts,
      ...(values.held ? [r.last_error ?? "-"] : []),
    ]),
  );
  for (const line of lines) ctx.out(line);
  return 0;
}

export async function fileopsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parse(rest, { ...connection });
  if (sub === undefined || sub === "--help" || sub === "-h" || values.help) return help(ctx, FILEOPS_HELP);
  if (sub !== "run") throw new CliError(`Unknown fileops command "${sub}" (see dynamo fileops --help)`, 2);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const { data } = await client.post<Record<string, number>>("/data/fileops/run", {});
  ctx.out(
    `File operations: ${data.subscribed} file(s) subscribed, ${data.transfers_done} copied ` +
      `(${data.transfers_failed} failed, ${data.staging} staging), ${data.deletions_done} deleted ` +
      `(${data.deletions_failed} failed), ${data.held} held, ${data.inventory_commands} inventory update(s).`,
  );
  return 0;
}
