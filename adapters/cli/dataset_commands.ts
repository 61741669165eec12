import { humanBytes, parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { registryFromEnv } from "./registry_client.ts";

export const DATASET_HELP = `Usage: dynamo dataset status NAME [--json] [--server URL]

Where is this dataset's work? Every pending copy and deletion of the dataset,
per site, with each file's state, attempts and last error, and the open copy
and deletion requests that name the dataset or one of its blocks (answered by
the dataset's actor).`;

interface FileJson {
  lfn: string;
  block: string;
  size: number;
  source: string | null;
  status: string;
  task_state: string | null;
  hold_reason: string | null;
  attempts: number;
  last_error: string | null;
}

interface SiteWork {
  site: string;
  files: number;
  pending: number;
  failing: number;
  file_list: FileJson[];
}

interface RequestJson {
  request_id: number;
  user: string;
  status: string;
  reason: string | null;
  sites: string[];
}

interface DatasetStatusJson {
  dataset: string;
  truncated: boolean;
  copies: SiteWork[];
  deletions: SiteWork[];
  copy_requests: RequestJson[];
  deletion_requests: RequestJson[];
}

export async function datasetCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parse(args, { server: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return help(ctx, DATASET_HELP);
  if (positionals[0] !== "status" || positionals.length !== 2) {
    throw new CliError(`Usage: dynamo dataset status NAME (see dynamo dataset --help)`, 2);
  }
  const client = registryFromEnv(ctx.env, values.server, undefined);
  const data = await client.get<DatasetStatusJson>("/data/dataset/status", { dataset: positionals[1]! });
  if (values.json) {
    ctx.out(JSON.stringify(data, null, 2));
    return 0;
  }
  ctx.out(`Dataset ${data.dataset}`);
  for (const [title, list] of [["Copies", data.copies], ["Deletions", data.deletions]] as const) {
    if (list.length === 0) {
      ctx.out(`${title}: none pending.`);
      continue;
    }
    for (const s of list) {
      ctx.out(
        `${title} at ${s.site}: ${s.pending} pending of ${s.files} file(s), ${s.failing} with an error`,
      );
      const lines = table(
        ["LFN", "SIZE", "FROM", "STATE", "TRIES", "LAST ERROR"],
        s.file_list.map((f) => [
          f.lfn,
          humanBytes(f.size),
          f.source ?? "-",
          f.hold_reason ? `held:${f.hold_reason}` : f.task_state ?? f.status,
          f.attempts,
          f.last_error ?? "-",
        ]),
      );
      for (const line of lines) ctx.out(`  ${line}`);
    }
  }
  for (
    const [title, list] of [["Copy requests", data.copy_requests], [
      "Deletion requests",
      data.deletion_requests,
    ]] as const
  ) {
    ctx.out(list.length === 0 ? `${title}: none open.` : `${title}:`);
    for (const r of list) {
      ctx.out(
        `  #${r.request_id} ${r.status} by ${r.user} at ${r.sites.join(",") || "any site"}${
          r.reason ? ` (${r.reason})` : ""
        }`,
      );
    }
  }
  if (data.truncated) ctx.out("(more files than shown)");
  return 0;
}
