import { parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { registryFromEnv } from "./registry_client.ts";

export const CLUSTER_HELP = `Usage: dynamo cluster status [--json] [--server URL]

The servers sharing this server's PostgreSQL database: each node's role (leader,
follower, starting, stopped, or dead when it stopped beating), its heartbeat age,
the journal sequence it has applied and its lag behind the last commit, and the
writer lease (holder, fencing generation, changes). Any node answers.
On the embedded database there is one server and no cluster. See docs/cluster.md.`;

interface StatusData {
  node: string;
  journal_head: number;
  lease: { generation: number; holder: string | null; acquired_ms: number | null; changes: number };
  nodes: {
    id: string;
    host: string;
    pid: number;
    url: string | null;
    role: string;
    holds_lease: boolean;
    heartbeat_age_ms: number;
    journal_seq: number;
    lag: number;
    lease_changes: number;
  }[];
}

export async function clusterCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, { server: { type: "string" }, json: { type: "boolean" } });
  if (values.help || positionals.length === 0) return help(ctx, CLUSTER_HELP);
  const [sub, ...rest] = positionals;
  if (sub !== "status") throw new CliError(`Unknown cluster command "${sub}" (status)`, 2);
  if (rest.length > 0) throw new CliError(`Unexpected argument "${rest[0]}" (see --help)`, 2);
  const client = registryFromEnv(ctx.env, values.server);
  let data: StatusData;
  try {
    data = await client.get<StatusData>("/data/cluster/status");
  } catch (e) {
    if (e instanceof CliError && /^Not Found/.test(e.message)) {
      throw new CliError(`${client.baseUrl} is not a cluster node (it runs on the embedded database)`);
    }
    throw e;
  }
  if (values.json) {
    ctx.out(JSON.stringify(data, null, 2));
    return 0;
  }
  ctx.out(
    `Lease: ${data.lease.holder ?? "(none)"}, fencing generation ${data.lease.generation}, ` +
      `${data.lease.changes} change(s); journal at ${data.journal_head}; answered by ${data.node}`,
  );
  for (
    const line of table(
      ["NODE", "ROLE", "URL", "HOST:PID", "HEARTBEAT", "APPLIED", "LAG", "LEASE CHANGES"],
      data.nodes.map((n) => [
        n.id,
        n.role + (n.holds_lease ? " *" : ""),
        n.url ?? "-",
        `${n.host}:${n.pid}`,
        `${(n.heartbeat_age_ms / 1000).toFixed(1)} s ago`,
        n.journal_seq,
        n.lag,
        n.lease_changes,
      ]),
    )
  ) ctx.out(line);
  return 0;
}
