import { humanBytes, parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { registryFromEnv } from "./registry_client.ts";
import { readRecordFile } from "./record_files.ts";

const connection = { server: { type: "string" }, token: { type: "string" } } as const;

export const POLICY_HELP = `Usage: dynamo policy check FILE…

Checks Detox policy files, partitions files, enforcer rule files (JSON) and
scheduler sequence files (the cms.seq format), and describes each: partition,
target sites, triggers, rules per action, order, variables and the attributes
they need; a sequence file's applications and sequences. Errors give file:line:column and what
was expected. Exit 1 if any file is wrong. Files of the language's earlier versions are accepted
with their meaning (docs/policy_language_history.md); a Detox file without a Partition line is
accepted, its partition coming from the configuration or detox run --partition.`;

export async function policyCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, POLICY_HELP);
  if (sub !== "check") throw new CliError(`Unknown policy command "${sub}" (check)`, 2);
  const { values, positionals } = parse(rest, {});
  if (values.help) return help(ctx, POLICY_HELP);
  if (positionals.length === 0) throw new CliError("policy check needs at least one FILE", 2);
  let failed = 0;
  for (const file of positionals) {
    let text: string;
    try {
      text = await ctx.readTextFile(file);
    } catch (e) {
      ctx.err(`${file}: cannot read: ${(e as Error).message}`);
      failed += 1;
      continue;
    }
    try {
      for (const line of ctx.describePolicyFile(text, file)) ctx.out(line);
    } catch (e) {
      ctx.err((e as Error).message);
      failed += 1;
    }
  }
  return failed === 0 ? 0 : 1;
}

export const PARTITIONS_HELP = `Usage: dynamo partitions [NAME…] [--json] [--server URL]

Lists the partitions with quota, usage (bytes present) and projected usage
(including transfers in flight) at every site.`;

export async function partitionsCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, { ...connection, json: { type: "boolean" } });
  if (values.help) return help(ctx, PARTITIONS_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const sites = await client.get<{
    name: string;
    partitions: {
      name: string;
      type: string;
      quota: number;
      usage: number;
      projected_usage: number;
      occupancy: number | null;
    }[];
  }[]>("/data/inventory/sites", { partition: positionals.length ? positionals : undefined });
  const byPartition = new Map<string, { type: string; rows: (string | number)[][] }>();
  for (const s of sites) {
    for (const p of s.partitions) {
      const entry = byPartition.get(p.name) ?? { type: p.type, rows: [] };
      entry.rows.push([
        s.name,
        p.quota === 0 ? "none" : humanBytes(p.quota),
        humanBytes(p.usage),
        humanBytes(p.projected_usage),
        p.occupancy === null ? "-" : `${(p.occupancy * 100).toFixed(1)}%`,
      ]);
      byPartition.set(p.name, entry);
    }
  }
  if (values.json) {
    ctx.out(JSON.stringify(Object.fromEntries(byPartition), null, 2));
    return 0;
  }
  for (const [name, { type, rows }] of byPartition) {
    ctx.out(`${name} (${type})`);
    for (
      const line of table(
        ["  SITE", "QUOTA", "USED", "PROJECTED", "OCCUPANCY"],
        rows.map((r) => [`  ${r[0]}`, ...r.slice(1)]),
      )
    ) {
      ctx.out(line);
    }
  }
  return 0;
}

export const DETOX_HELP =
  `Usage: dynamo detox run [--partition P] [--policy FILE] [--dry-run | --snapshot] [--time-shift DAYS] [--comment TEXT]
       dynamo detox explain DATASET [--site SITE] [--partition P] [--cycle N]
       dynamo detox cycles [--partition P]
       dynamo detox locks list [--all] [--user U] [--item PATTERN]
       dynamo detox locks lock ITEM --expires DATE [--site S]… [--group G]… [--comment TEXT]
       dynamo detox locks unlock ID…
       dynamo detox locks set FILE

run      runs a Detox cycle now on the server. --dry-run decides without committing
         (the decisions are recorded); --snapshot records them for monitoring;
         --time-shift evaluates dates as if DAYS had passed. --policy runs one
         configured policy file (by file name); --partition gives the partition
         of a file without a Partition line (a campaign file), or selects the
         policies of that partition.
explain  why each replica of DATASET was kept, protected or deleted, with the policy line.
locks    Detox locks: a locked item is never deleted (with a ProtectBlock
         blockreplica.is_locked line in the policy) until the lock expires.`;

export async function detoxCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, DETOX_HELP);
  switch (sub) {
    case "run": {
      const { values } = parse(rest, {
        ...connection,
        partition: { type: "string" },
        policy: { type: "string" },
        "dry-run": { type: "boolean" },
        snapshot: { type: "boolean" },
        "time-shift": { type: "string" },
        comment: { type: "string" },
      });
      if (values.help) return help(ctx, DETOX_HELP);
      if (values["dry-run"] && values.snapshot) {
        throw new CliError("choose one of --dry-run and --snapshot", 2);
      }
      const client = registryFromEnv(ctx.env, values.server, values.token);
      const mode = values["dry-run"] ? "dry-run" : values.snapshot ? "snapshot" : "normal";
      const query = new URLSearchParams({ mode });
      if (values.partition !== undefined) query.set("partition", values.partition);
      if (values.policy !== undefined) query.set("policy", values.policy);
      if (values["time-shift"]) query.set("time_shift", values["time-shift"]);
      if (values.comment) query.set("comment", values.comment);
      const { data } = await client.post<Record<string, unknown>[]>(`/data/detox/run?${query}`, {});
      for (const c of data) {
        ctx.out(
          `Cycle ${c.cycle} (${c.partition}, ${c.mode}): ${c.deleted_replicas} replica(s), ${
            humanBytes(c.deleted_bytes as number)
          } ` +
            `${
              c.mode === "normal"
                ? (c.committed_generation !== null
                  ? `deleted (generation ${c.committed_generation})`
                  : "to delete")
                : "would be deleted"
            }; ` +
            `${c.iterations} iterations, ${(c.seconds as number).toFixed(2)} s` +
            (c.error ? `; ERROR: ${c.error}` : ""),
        );
        const unmatched = c.unmatched_lines as number[];
        if (unmatched.length) ctx.out(`  policy lines that matched nothing: ${unmatched.join(", ")}`);
      }
      return data.some((c) => c.error) ? 1 : 0;
    }
    case "explain": {
      const { values, positionals } = parse(rest, {
        ...connection,
        site: { type: "string" },
        partition: { type: "string" },
        cycle: { type: "string" },
      });
      if (values.help) return help(ctx, DETOX_HELP);
      if (positionals.length !== 1) throw new CliError("detox explain needs exactly one DATASET", 2);
      const client = registryFromEnv(ctx.env, values.server, values.token);
      const data = await client.get<{ cycle: number; decisions: Record<string, unknown>[] }>(
        "/data/detox/datasets",
        {
          dataset: positionals[0],
          partition: values.partition,
          cycle: values.cycle,
        },
      );
      const rows = data.decisions.filter((d) => !values.site || d.site === values.site);
      if (rows.length === 0) {
        ctx.out(
          `No decision about ${positionals[0]}${
            values.site ? ` at ${values.site}` : ""
          } in cycle ${data.cycle}.`,
        );
        return 0;
      }
      ctx.out(`Cycle ${data.cycle}:`);
      for (const d of rows) {
        ctx.out(
          `  ${d.dataset} at ${d.site}: ${String(d.decision).toUpperCase()} ${
            humanBytes(d.size as number)
          } ` +
            `(${(d.blocks as string[]).length} block(s)), line ${d.line}: ${d.reason}`,
        );
      }
      return 0;
    }
    case "cycles": {
      const { values } = parse(rest, { ...connection, partition: { type: "string" } });
      if (values.help) return help(ctx, DETOX_HELP);
      const client = registryFromEnv(ctx.env, values.server, values.token);
      const rows = await client.get<Record<string, unknown>[]>("/data/detox/cycles", {
        partition: values.partition,
      });
      for (
        const line of table(
          ["CYCLE", "PARTITION", "MODE", "STATUS", "STARTED", "DELETED"],
          rows.map((c) => [
            c.cycle as number,
            c.partition as string,
            c.mode as string,
            c.status as string,
            new Date((c.started as number) * 1000).toISOString().slice(0, 19).replace("T", " "),
            humanBytes((c.deleted_bytes as number | null) ?? 0),
          ]),
        )
      ) ctx.out(line);
      return 0;
    }
    case "locks":
      return await locksCommand(rest, ctx);
    default:
      throw new CliError(`Unknown detox command "${sub}" (run, explain, cycles, locks)`, 2);
  }
}

async function locksCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, {
    ...connection,
    all: { type: "boolean" },
    user: { type: "string" },
    item: { type: "string" },
    expires: { type: "string" },
    site: { type: "string", multiple: true },
    group: { type: "string", multiple: true },
    comment: { type: "string" },
  });
  if (values.help || sub === undefined) return help(ctx, DETOX_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  switch (sub) {
    case "list": {
      const rows = await client.get<Record<string, unknown>[]>("/data/detox/lock/list", {
        showall: values.all ? "y" : undefined,
        user: values.user,
        item: values.item,
      });
      for (
        const line of table(
          ["ID", "ITEM", "SITES", "GROUPS", "USER", "EXPIRES", "STATE"],
          rows.map((l) => [
            l.lockid as number,
            l.item as string,
            (l.sites as string[]).join(",") || "*",
            (l.groups as string[]).join(",") || "*",
            l.user as string,
            new Date((l.expires as number) * 1000).toISOString().slice(0, 10),
            l.unlocked ? "unlocked" : "active",
          ]),
        )
      ) ctx.out(line);
      return 0;
    }
    case "lock": {
      if (positionals.length !== 1) throw new CliError("detox locks lock needs exactly one ITEM", 2);
      if (!values.expires) throw new CliError("detox locks lock needs --expires DATE (YYYY-MM-DD)", 2);
      const query = new URLSearchParams({ item: positionals[0]!, expires: values.expires });
      for (const s of values.site ?? []) query.append("sites[]", s);
      for (const g of values.group ?? []) query.append("groups[]", g);
      if (values.comment) query.set("comment", values.comment);
      const { data } = await client.post<Record<string, unknown>>(`/data/detox/lock/lock?${query}`, {});
      ctx.out(
        `Lock ${data.lockid} on ${data.item} until ${
          new Date((data.expires as number) * 1000).toISOString().slice(0, 10)
        }.`,
      );
      return 0;
    }
    case "unlock": {
      if (positionals.length === 0) throw new CliError("detox locks unlock needs at least one ID", 2);
      const query = new URLSearchParams();
      for (const id of positionals) query.append("lockid[]", id);
      const { data } = await client.post<{ unlocked: number }>(`/data/detox/lock/unlock?${query}`, {});
      ctx.out(`${data.unlocked} lock(s) unlocked.`);
      return 0;
    }
    case "set": {
      if (positionals.length !== 1) {
        throw new CliError("detox locks set needs exactly one FILE (a JSON list of locks)", 2);
      }
      let body: unknown;
      try {
        body = JSON.parse(await ctx.readTextFile(positionals[0]!));
      } catch (e) {
        throw new CliError(`${positionals[0]}: ${(e as Error).message}`);
      }
      const { data } = await client.post<Record<string, number>>("/data/detox/lock/set", body);
      ctx.out(`${data.created} created, ${data.updated} updated, ${data.unlocked} unlocked.`);
      return 0;
    }
    default:
      throw new CliError(`Unknown locks command "${sub}" (list, lock, unlock, set)`, 2);
  }
}

export const POPULARITY_HELP = `Usage: dynamo popularity import FILE|- [--server URL] [--token TOKEN]

Sends dataset access records to the registry: a JSON list of
{"dataset", "site", "date": "YYYY-MM-DD", "accesses"}, or CSV lines
"dataset,site,date,accesses". A (dataset, site, date) sent again replaces the
earlier count.`;

export async function popularityCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, POPULARITY_HELP);
  if (sub !== "import") throw new CliError(`Unknown popularity command "${sub}" (import)`, 2);
  const { values, positionals } = parse(rest, connection);
  if (values.help) return help(ctx, POPULARITY_HELP);
  if (positionals.length !== 1) throw new CliError("popularity import needs exactly one FILE (or -)", 2);
  const records = await readRecordFile(
    positionals[0]!,
    ctx,
    ["dataset", "site", "date", "accesses"],
    ["accesses"],
  );
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const { data } = await client.post<{ recorded: number }>("/data/popularity/accesses", records);
  ctx.out(`${data.recorded} access record(s) recorded.`);
  return 0;
}
