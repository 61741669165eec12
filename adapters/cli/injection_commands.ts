import { parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { registryFromEnv } from "./registry_client.ts";

export const INJECTIONS_HELP =
  `Usage: dynamo injections [--status queued|applied|rejected|failed] [--limit N] [--json]
                         [--server URL]

Lists the queue of asynchronous injections (dynamo inject without --sync),
newest first: who sent each, its state, how many times the writer tried it,
and the error of its last failed attempt. An injection that failed to apply
twice (a poison injection: the writer or the database refused it) is moved
aside as "failed" with its error, and the queue goes on without it.

  --server URL   registry to talk to (default $DYNAMO_URL or http://$DYNAMO_LISTEN)`;

interface InjectionRow {
  id: number;
  kind: string;
  user: string;
  created: number;
  status: string;
  attempts: number;
  error: string | null;
}

export async function injectionsCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, {
    server: { type: "string" },
    token: { type: "string" },
    status: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return help(ctx, INJECTIONS_HELP);
  if (positionals.length > 0) throw new CliError(`injections takes no arguments, got "${positionals[0]}"`, 2);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  const rows = await client.get<InjectionRow[]>("/data/inventory/injections", {
    status: values.status,
    limit: values.limit,
  });
  if (values.json) {
    ctx.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  const when = (s: number) => new Date(s * 1000).toISOString().slice(0, 19).replace("T", " ");
  for (
    const line of table(
      ["ID", "KIND", "USER", "CREATED", "STATUS", "ATTEMPTS", "ERROR"],
      rows.map((r) => [r.id, r.kind, r.user, when(r.created), r.status, r.attempts, oneLine(r.error)]),
    )
  ) ctx.out(line);
  ctx.out(`${rows.length} injection(s)`);
  return 0;
}

/** Errors can be long and multi-line (a database's message); the table shows one line of it. */
function oneLine(error: string | null): string {
  if (error === null) return "-";
  const line = error.replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
