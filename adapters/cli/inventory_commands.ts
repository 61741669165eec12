import { humanBytes, parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { registryFromEnv } from "./registry_client.ts";

const CONNECTION_HELP = `
  --server URL   registry to talk to (default $DYNAMO_URL or http://$DYNAMO_LISTEN)
  --token TOKEN  bearer token for writes (default $DYNAMO_TOKEN)`;

const connection = { server: { type: "string" }, token: { type: "string" } } as const;

export const INJECT_HELP = `Usage: dynamo inject FILE|- [--sync] [--delete] [--server URL] [--token TOKEN]

Sends an injection document (the original JSON: dataset, site, group,
datasetreplica) to the registry. Without --sync it is queued and applied by the
inventory writer; its id is printed (poll /data/inventory/injection?id=ID).
With --sync it is applied at once, all or nothing. --delete sends an
invalidation document (names only) instead.
${CONNECTION_HELP}`;

export async function injectCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, {
    ...connection,
    sync: { type: "boolean" },
    delete: { type: "boolean" },
  });
  if (values.help) return help(ctx, INJECT_HELP);
  if (positionals.length !== 1) {
    throw new CliError("inject needs exactly one FILE (or - for standard input)", 2);
  }
  const path = positionals[0]!;
  const text = path === "-" ? await ctx.readStdin() : await ctx.readTextFile(path).catch((e) => {
    throw new CliError(`Cannot read ${path}: ${(e as Error).message}`);
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const kind = values.delete ? "delete" : "inject";
  const endpoint = `/data/inventory/${kind}${values.sync ? "sync" : ""}`;
  const { data, message } = await client.post<Record<string, unknown>>(endpoint, doc);
  if (values.sync) {
    ctx.out(`${message} Generation ${data.generation}.`);
    for (const [op, n] of Object.entries(data.applied as Record<string, number>)) ctx.out(`  ${op}: ${n}`);
  } else {
    ctx.out(`Queued as injection ${data.injection_id} (${data.commands} commands). ${message}`);
  }
  return 0;
}

export const DATASETS_HELP = `Usage: dynamo datasets [PATTERN] [--json] [--server URL]

Lists datasets whose name matches PATTERN (shell wildcards; * also matches /).
Default: every dataset.
${CONNECTION_HELP}`;

export async function datasetsCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, { ...connection, json: { type: "boolean" } });
  if (values.help) return help(ctx, DATASETS_HELP);
  if (positionals.length > 1) throw new CliError("datasets takes at most one PATTERN", 2);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const rows = await client.get<Record<string, unknown>[]>("/data/inventory/datasets", {
    dataset: positionals[0] ?? "*",
  });
  if (values.json) {
    ctx.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  for (
    const line of table(
      ["NAME", "STATUS", "SIZE", "FILES", "BLOCKS", "REPLICAS"],
      rows.map((
        d,
      ) => [
        String(d.name),
        String(d.status),
        humanBytes(d.size as number),
        d.num_files as number,
        d.num_blocks as number,
        d.num_replicas as number,
      ]),
    )
  ) ctx.out(line);
  ctx.out(`${rows.length} dataset(s)`);
  return 0;
}

export const SITES_HELP = `Usage: dynamo sites [PATTERN…] [--partition NAME] [--json] [--server URL]
       dynamo sites set-quota SITE PARTITION SIZE [--token TOKEN]
       dynamo sites set-status SITE ready|waitroom|morgue [--token TOKEN]

Lists sites with their status, storage type, and per-partition quota and usage.
set-quota sets a partition's quota at a site: SIZE in bytes or with a unit
(500TB, 1.5PB); 0 means the site cannot host the partition, -1 no limit.
set-status puts a site in or out of service: transfers to and from a site
that is not ready are held (site_unavailable) until it is ready again.
${CONNECTION_HELP}`;

export async function sitesCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, {
    ...connection,
    json: { type: "boolean" },
    partition: { type: "string" },
  });
  if (values.help) return help(ctx, SITES_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  if (positionals[0] === "set-quota") {
    if (positionals.length !== 4) throw new CliError("sites set-quota needs SITE PARTITION SIZE", 2);
    const [, site, partition, quota] = positionals as [string, string, string, string];
    const { data } = await client.post<{ quota: number; generation: number }>(
      `/data/inventory/setquota?${new URLSearchParams({ site, partition, quota })}`,
      {},
    );
    ctx.out(
      `Quota of ${partition} at ${site}: ${
        data.quota === 0 ? "none" : humanBytes(data.quota)
      } (generation ${data.generation}).`,
    );
    return 0;
  }
  if (positionals[0] === "set-status") {
    if (positionals.length !== 3) throw new CliError("sites set-status needs SITE STATUS", 2);
    const [, site, status] = positionals as [string, string, string];
    const { data } = await client.post<{ generation: number }>(
      `/data/inventory/setstatus?${new URLSearchParams({ site, status })}`,
      {},
    );
    ctx.out(`${site} is now ${status} (generation ${data.generation}).`);
    return 0;
  }
  const rows = await client.get<{
    name: string;
    status: string;
    storage_type: string;
    num_dataset_replicas: number;
    partitions: {
      name: string;
      quota: number;
      usage: number;
      projected_usage: number;
      occupancy: number | null;
    }[];
  }[]>("/data/inventory/sites", {
    site: positionals.length ? positionals : undefined,
    partition: values.partition,
  });
  if (values.json) {
    ctx.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  const lines: (string | number)[][] = [];
  for (const s of rows) {
    for (const p of s.partitions) {
      lines.push([
        s.name,
        s.status,
        s.storage_type,
        p.name,
        p.quota === 0 ? "none" : humanBytes(p.quota),
        humanBytes(p.usage),
        humanBytes(p.projected_usage),
        p.occupancy === null ? "-" : `${(p.occupancy * 100).toFixed(1)}%`,
      ]);
    }
  }
  for (
    const line of table(
      ["SITE", "STATUS", "TYPE", "PARTITION", "QUOTA", "USED", "PROJECTED", "OCCUPANCY"],
      lines,
    )
  ) ctx.out(line);
  return 0;
}

export function help(ctx: CliContext, text: string): number {
  ctx.out(text);
  return 0;
}
