import { parse, table } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { help } from "./inventory_commands.ts";
import { registryFromEnv } from "./registry_client.ts";

const connection = { server: { type: "string" }, token: { type: "string" } } as const;

export const SEQUENCE_HELP = `Usage: dynamo sequence list [--server URL]
       dynamo sequence start|stop NAME [--token TOKEN]

The scheduler's sequences (the sequence file given by DYNAMO_SEQUENCES or the
configuration's scheduler.sequences): where each stands and why it waits.
stop lets the running step finish and goes no further; start resumes it (a
'restart' sequence at its first step). Both are kept across restarts.`;

export const APP_HELP = `Usage: dynamo app list [--limit N] [--server URL]
       dynamo app run TITLE [--token TOKEN] [-- ARGUMENTS…]
       dynamo app kill ID [--token TOKEN]

Application runs of the scheduler, newest first. run queues an application of
the sequence file by its title (it starts when the writer is free and no
application lock holds it); arguments after -- are the application's own
(e.g. dynamo app run detox -- --test-run). kill stops a queued or running run.`;

interface SequenceJson {
  name: string;
  enabled: boolean;
  position: number;
  steps: number;
  line: number;
  status: string;
  not_before: number | null;
}

interface RunJson {
  id: number;
  title: string;
  args: string;
  write: boolean;
  sequence: string | null;
  user: string | null;
  status: string;
  message: string | null;
  created: number;
  finished: number | null;
}

export async function sequenceCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { ...connection });
  if (sub === undefined || sub === "--help" || sub === "-h" || values.help) return help(ctx, SEQUENCE_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  if (sub === "list") {
    if (positionals.length > 0) throw new CliError("sequence list takes no arguments", 2);
    const rows = await client.get<SequenceJson[]>("/data/scheduler/sequences");
    if (rows.length === 0) ctx.out("The sequence file has no sequences.");
    else {
      const lines = table(
        ["SEQUENCE", "STEP", "LINE", "STATUS", "NEXT"],
        rows.map((r) => [
          r.name,
          `${r.position + 1}/${r.steps}`,
          r.line,
          r.status,
          r.not_before === null ? "-" : new Date(r.not_before * 1000).toISOString(),
        ]),
      );
      for (const line of lines) ctx.out(line);
    }
    return 0;
  }
  if (sub !== "start" && sub !== "stop") {
    throw new CliError(`Unknown sequence command "${sub}" (list, start, stop)`, 2);
  }
  if (positionals.length !== 1) throw new CliError(`sequence ${sub} needs exactly one NAME`, 2);
  const { message, data } = await client.post<SequenceJson>(
    `/data/scheduler/sequence/${sub}?${new URLSearchParams({ sequence: positionals[0]! })}`,
    {},
  );
  ctx.out(`${message} (${data.status})`);
  return 0;
}

export async function appCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { ...connection, limit: { type: "string" } });
  if (sub === undefined || sub === "--help" || sub === "-h" || values.help) return help(ctx, APP_HELP);
  const client = registryFromEnv(ctx.env, values.server, values.token);
  switch (sub) {
    case "list": {
      if (positionals.length > 0) throw new CliError("app list takes no arguments", 2);
      const rows = await client.get<RunJson[]>("/data/scheduler/applications", { limit: values.limit });
      if (rows.length === 0) {
        ctx.out("No application has run yet.");
        return 0;
      }
      const lines = table(
        ["ID", "APPLICATION", "SEQUENCE", "STATUS", "CREATED", "MESSAGE"],
        rows.map((r) => [
          r.id,
          `${r.write ? "<" : "{"}${r.title}${r.write ? ">" : "}"}${r.args ? ` ${r.args}` : ""}`,
          r.sequence ?? (r.user ? `by ${r.user}` : "-"),
          r.status,
          new Date(r.created * 1000).toISOString(),
          r.message ?? "",
        ]),
      );
      for (const line of lines) ctx.out(line);
      return 0;
    }
    case "run": {
      const [title, ...appArgs] = positionals;
      if (title === undefined) throw new CliError("app run needs the application's TITLE", 2);
      const query = new URLSearchParams([["app", title], ...appArgs.map((a) => ["arg[]", a])]);
      const { message, data } = await client.post<{ id: number }>(
        `/data/scheduler/application/run?${query}`,
        {},
      );
      ctx.out(`${message}: run ${data.id} (dynamo app list shows how it ends)`);
      return 0;
    }
    case "kill": {
      if (positionals.length !== 1 || !/^\d{1,15}$/.test(positionals[0]!)) {
        throw new CliError("app kill needs one run ID (a number)", 2);
      }
      await client.post(`/data/scheduler/application/kill?id=${positionals[0]}`, {});
      ctx.out(`Run ${positionals[0]} killed.`);
      return 0;
    }
    default:
      throw new CliError(`Unknown app command "${sub}" (list, run, kill)`, 2);
  }
}
