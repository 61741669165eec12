import { humanBytes, parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { readRecordFile } from "./record_files.ts";
import { registryFromEnv } from "./registry_client.ts";

const connection = { server: { type: "string" }, token: { type: "string" } } as const;

export const REQUEST_HELP = `Usage: dynamo request copy ITEM… [--site S]… [-n N] [--group G]
       dynamo request delete ITEM… --site S…
       dynamo request poll [ID…] [--item ITEM] [--site S] [--status ST] [--user U] [--all] [--deletions]
       dynamo request cancel ID

copy    asks for N copies (default 1; 0 = one at every listed site) of datasets or
        DATASET#BLOCK items at the listed sites (wildcards; none = any Dealer target).
        The same request again is the same request (its count goes up).
delete  asks for the items to be deleted at the sites; never a last complete copy,
        never data under a Detox lock.
poll    shows requests and what became of each (item, site).
cancel  cancels your copy request while it is still new.`;

export async function requestCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, REQUEST_HELP);
  const { values, positionals } = parse(rest, {
    ...connection,
    site: { type: "string", multiple: true },
    n: { type: "string", short: "n" },
    group: { type: "string" },
    item: { type: "string" },
    status: { type: "string" },
    user: { type: "string" },
    all: { type: "boolean" },
    deletions: { type: "boolean" },
  });
  if (values.help) return help(ctx, REQUEST_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  switch (sub) {
    case "copy": {
      if (positionals.length === 0) throw new CliError("request copy needs at least one ITEM", 2);
      // The registry answers a one-element list, as the original did.
      const { data: [data], message } = await client.post<[RequestJson]>("/data/request/copy", {
        item: positionals,
        ...(values.site ? { site: values.site } : {}),
        ...(values.n !== undefined ? { n: values.n } : {}),
        ...(values.group ? { group: values.group } : {}),
      });
      ctx.out(`${message}: copy request ${data.request_id} (${data.status}).`);
      return 0;
    }
    case "delete": {
      if (positionals.length === 0) throw new CliError("request delete needs at least one ITEM", 2);
      if (!values.site) throw new CliError("request delete needs --site", 2);
      const { data: [data], message } = await client.post<[RequestJson]>("/data/request/delete", {
        item: positionals,
        site: values.site,
      });
      ctx.out(`${message}: deletion request ${data.request_id} (${data.status}).`);
      return 0;
    }
    case "poll": {
      const rows = await client.get<RequestJson[]>(
        values.deletions ? "/data/request/polldelete" : "/data/request/pollcopy",
        {
          request_id: positionals.length ? positionals.join(",") : undefined,
          item: values.item,
          site: values.site?.[0],
          status: values.status,
          user: values.user,
          all: values.all ? "y" : undefined,
        },
      );
      if (rows.length === 0) ctx.out("No requests.");
      for (const r of rows) {
        ctx.out(
          `${values.deletions ? "Deletion" : "Copy"} request ${r.request_id} by ${r.user}: ${r.status}` +
            (r.reason ? ` (${r.reason})` : "") + ` — ${r.item.join(", ")}` +
            (r.site.length ? ` at ${r.site.join(", ")}` : ""),
        );
        for (const a of r.active) {
          ctx.out(`  ${a.item} at ${a.site}: ${a.status}${a.reason ? ` (${a.reason})` : ""}`);
        }
      }
      return 0;
    }
    case "cancel": {
      if (positionals.length !== 1) throw new CliError("request cancel needs exactly one ID", 2);
      const { data } = await client.post<RequestJson>("/data/request/cancelcopy", {
        request_id: positionals[0],
      });
      ctx.out(`Copy request ${data.request_id} is ${data.status}.`);
      return 0;
    }
    default:
      throw new CliError(`Unknown request command "${sub}" (copy, delete, poll, cancel)`, 2);
  }
}

interface RequestJson {
  request_id: number;
  status: string;
  user: string;
  reason: string | null;
  item: string[];
  site: string[];
  active: { item: string; site: string; status: string; reason?: string }[];
}

export const DEALER_HELP = `Usage: dynamo dealer run [--dry-run] [--comment TEXT]
       dynamo dealer explain DATASET
       dynamo dealer cycles

run      runs a Dealer cycle now on the server; --dry-run decides and records
         without copying anything.
explain  what every plugin proposed for DATASET in recent cycles, and why each
         proposal was accepted or refused.`;

export async function dealerCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, DEALER_HELP);
  const { values, positionals } = parse(rest, {
    ...connection,
    "dry-run": { type: "boolean" },
    comment: { type: "string" },
  });
  if (values.help) return help(ctx, DEALER_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  switch (sub) {
    case "run": {
      const { data: r } = await client.post<Record<string, unknown>>("/data/dealer/run", {
        mode: values["dry-run"] ? "dry-run" : "normal",
        ...(values.comment ? { comment: values.comment } : {}),
      });
      ctx.out(
        `Dealer cycle ${r.cycle} (${r.mode}): ${r.accepted} proposal(s) accepted, ${r.rejected} refused; ` +
          `${r.copies} cop${r.copies === 1 ? "y" : "ies"}, ${humanBytes(r.bytes as number)} ` +
          `${r.mode === "normal" ? "scheduled" : "would be scheduled"}; ${
            (r.seconds as number).toFixed(2)
          } s` +
          (r.error ? `; ERROR: ${r.error}` : ""),
      );
      for (const [reason, count] of Object.entries(r.rejections as Record<string, number>)) {
        ctx.out(`  refused, ${reason}: ${count}`);
      }
      return r.error ? 1 : 0;
    }
    case "explain": {
      if (positionals.length !== 1) throw new CliError("dealer explain needs exactly one DATASET", 2);
      const rows = await client.get<Record<string, unknown>[]>("/data/dealer/decisions", {
        dataset: positionals[0],
        limit: "50",
      });
      if (rows.length === 0) ctx.out(`No Dealer proposal about ${positionals[0]}.`);
      for (const d of rows) {
        ctx.out(
          `Cycle ${d.cycle}, ${d.plugin}: ${d.accepted ? "ACCEPTED" : "REFUSED"}` +
            `${d.site ? ` at ${d.site}` : ""}${
              d.accepted ? ` (${humanBytes(d.bytes as number)})` : `: ${d.reason}`
            }` +
            ` — ${d.why}`,
        );
      }
      return 0;
    }
    case "cycles": {
      const rows = await client.get<Record<string, unknown>[]>("/data/dealer/cycles");
      for (
        const line of table(
          ["CYCLE", "MODE", "STATUS", "STARTED", "ACCEPTED", "REFUSED", "VOLUME"],
          rows.map((c) => [
            c.cycle as number,
            c.mode as string,
            c.status as string,
            new Date((c.started as number) * 1000).toISOString().slice(0, 19).replace("T", " "),
            (c.accepted as number | null) ?? 0,
            (c.rejected as number | null) ?? 0,
            humanBytes((c.bytes as number | null) ?? 0),
          ]),
        )
      ) ctx.out(line);
      return 0;
    }
    default:
      throw new CliError(`Unknown dealer command "${sub}" (run, explain, cycles)`, 2);
  }
}

export const DEMAND_HELP = `Usage: dynamo demand import FILE|- [--server URL] [--token TOKEN]

Sends job demand to the registry: a JSON list of {"dataset", "queued", "jobs"}
("queued" in Unix seconds or ISO 8601 with a zone), or CSV lines
"dataset,queued,jobs". The Dealer's popularity plugin turns it into copies.`;

export async function demandCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, DEMAND_HELP);
  if (sub !== "import") throw new CliError(`Unknown demand command "${sub}" (import)`, 2);
  const { values, positionals } = parse(rest, connection);
  if (values.help) return help(ctx, DEMAND_HELP);
  if (positionals.length !== 1) throw new CliError("demand import needs exactly one FILE (or -)", 2);
  const records = await readRecordFile(positionals[0]!, ctx, ["dataset", "queued", "jobs"], [
    "queued",
    "jobs",
  ]);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const { data } = await client.post<{ recorded: number }>("/data/demand/jobs", records);
  ctx.out(`${data.recorded} job record(s) recorded.`);
  return 0;
}

export const APPLOCK_HELP = `Usage: dynamo applock lock APP [--note TEXT]
       dynamo applock unlock APP
       dynamo applock list

Pauses an agent (detox, dealer, requests) while you work: its scheduled cycles
are skipped and runs on request refused until you unlock it.`;

export async function applockCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, APPLOCK_HELP);
  const { values, positionals } = parse(rest, { ...connection, note: { type: "string" } });
  if (values.help) return help(ctx, APPLOCK_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  switch (sub) {
    case "lock":
    case "unlock": {
      if (positionals.length !== 1) throw new CliError(`applock ${sub} needs exactly one APP`, 2);
      const { message } = await client.post(`/data/applock/${sub}`, {
        app: positionals[0],
        ...(values.note ? { note: values.note } : {}),
      });
      ctx.out(`${message}.`);
      return 0;
    }
    case "list": {
      const rows = await client.get<Record<string, unknown>[]>("/data/applock/current");
      if (rows.length === 0) ctx.out("No application is locked.");
      for (const l of rows) {
        ctx.out(
          `${l.app}: locked by ${l.user} since ${new Date((l.since as number) * 1000).toISOString()}` +
            (l.note ? ` (${l.note})` : ""),
        );
      }
      return 0;
    }
    default:
      throw new CliError(`Unknown applock command "${sub}" (lock, unlock, list)`, 2);
  }
}
