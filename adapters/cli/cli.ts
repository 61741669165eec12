import { parse } from "./args.ts";
import { type CliContext, CliError } from "./cli_context.ts";
import { datasetsCommand, help, injectCommand, sitesCommand } from "./inventory_commands.ts";
import { userCommand } from "./user_commands.ts";
import { injectionsCommand } from "./injection_commands.ts";
import { detoxCommand, partitionsCommand, policyCommand, popularityCommand } from "./detox_commands.ts";
import { fileopsCommand, transfersCommand } from "./fileops_commands.ts";
import { datasetCommand } from "./dataset_commands.ts";
import { appCommand, sequenceCommand } from "./scheduler_commands.ts";
import { applockCommand, dealerCommand, demandCommand, requestCommand } from "./dealer_commands.ts";
import { consistencyCommand } from "./consistency_commands.ts";
import { clusterCommand } from "./cluster_commands.ts";

export const MAIN_HELP = `Dynamo on Deno: dynamic data management for multi-site scientific storage.

Usage: dynamo COMMAND [options]     (deno task dynamo COMMAND …)

Commands:
  start       run the service: inventory writer and REST registry
  config      check a service configuration file
  inject      send an injection (or --delete an invalidation) document
  injections  the queue of asynchronous injections; failed (poison) ones with their error
  datasets    list datasets
  sites       list sites with quota and usage per partition; set quotas
  partitions  list partitions with per-site quota and usage
  policy      check Detox policy, partitions, enforcer rule and sequence files
  detox       run Detox cycles, explain decisions, manage locks
  popularity  import dataset access records
  request     ask for copies or deletions; poll and cancel requests
  dealer      run Dealer cycles, explain its decisions
  demand      import job demand (drives popularity-based copies)
  applock     pause and resume agents (detox, dealer, requests)
  sequence    the scheduler's sequences: list, start, stop
  app         application runs of the scheduler: list, run, kill
  transfers   file transfers and deletions in flight, held ones, release
  fileops     run one file-operations pass
  dataset     where a dataset's work is (dataset status NAME)
  consistency check sites' storage against the inventory; reports; invalidation
  user        add, list and revoke registry users and tokens
  cluster     the servers sharing one PostgreSQL: roles, lease, lag (docs/cluster.md)

Every command has --help. Environment:
  DYNAMO_HOME            data directory (default ./.dynamo); the embedded database is $DYNAMO_HOME/db
  DYNAMO_DATABASE_URL    postgres://… to use a PostgreSQL server instead of the embedded database
  DYNAMO_LISTEN          HOST:PORT the registry listens on (default 127.0.0.1:8080)
  DYNAMO_URL             registry URL for client commands (default http://$DYNAMO_LISTEN)
  DYNAMO_TOKEN           bearer token for client commands that write
  DYNAMO_PARTITIONS      partitions file (default: one partition "Default" of owned replicas)
  DYNAMO_DETOX_POLICIES  comma-separated Detox policy files run by the server
  DYNAMO_DETOX_INTERVAL  seconds between Detox cycles (default 14400; 0 = only on request)
  DYNAMO_ENFORCER_RULES  enforcer rules JSON for replica.enforcer_protected
  DYNAMO_PROTECTED_SITES comma-separated sites for dataset.on_protected_site
  DYNAMO_DEALER_CONFIG   Dealer configuration JSON (CMS dealer_config.json format)
  DYNAMO_DEALER_INTERVAL seconds between Dealer cycles (default 3600; 0 = only on request)
  DYNAMO_SEQUENCES       scheduler sequence file (cms.seq format); the agents then run as its steps
See docs/configuration.md for the complete list.`;

export const START_HELP = `Usage: dynamo start [--listen HOST:PORT] [--config FILE]

Loads the inventory (embedded PGlite in $DYNAMO_HOME/db, or DYNAMO_DATABASE_URL),
starts the inventory writer and serves the REST registry until SIGINT/SIGTERM.
--config FILE: the JSON service configuration (docs/configuration.md); it is checked
before anything starts, and its sites are written to the inventory.`;

export const CONFIG_HELP = `Usage: dynamo config check FILE

Checks a service configuration file and every file it names (partitions,
policies, Dealer configuration) without starting anything, and describes it.
Errors name the key and the problem. Exit 1 if anything is wrong.`;

/** Runs one CLI invocation; returns the process exit code. */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        return help(ctx, MAIN_HELP);
      case "start": {
        const { values, positionals } = parse(args, {
          listen: { type: "string" },
          config: { type: "string" },
        });
        if (values.help) return help(ctx, START_HELP);
        if (positionals.length > 0) {
          throw new CliError(`start takes no arguments, got "${positionals[0]}"`, 2);
        }
        return await ctx.startService({
          ...(values.listen ? { listen: values.listen } : {}),
          ...(values.config ? { config: values.config } : {}),
        });
      }
      case "config": {
        const [sub, ...rest] = args;
        if (sub === undefined || sub === "--help" || sub === "-h") return help(ctx, CONFIG_HELP);
        if (sub !== "check") throw new CliError(`Unknown config command "${sub}" (check)`, 2);
        const { values, positionals } = parse(rest, {});
        if (values.help) return help(ctx, CONFIG_HELP);
        if (positionals.length !== 1) throw new CliError("config check needs exactly one FILE", 2);
        for (const line of await ctx.checkConfig(positionals[0]!)) ctx.out(line);
        return 0;
      }
      case "inject":
        return await injectCommand(args, ctx);
      case "injections":
        return await injectionsCommand(args, ctx);
      case "datasets":
        return await datasetsCommand(args, ctx);
      case "sites":
        return await sitesCommand(args, ctx);
      case "user":
        return await userCommand(args, ctx);
      case "policy":
        return await policyCommand(args, ctx);
      case "partitions":
        return await partitionsCommand(args, ctx);
      case "detox":
        return await detoxCommand(args, ctx);
      case "popularity":
        return await popularityCommand(args, ctx);
      case "request":
        return await requestCommand(args, ctx);
      case "dealer":
        return await dealerCommand(args, ctx);
      case "demand":
        return await demandCommand(args, ctx);
      case "transfers":
        return await transfersCommand(args, ctx);
      case "fileops":
        return await fileopsCommand(args, ctx);
      case "dataset":
        return await datasetCommand(args, ctx);
      case "applock":
        return await applockCommand(args, ctx);
      case "sequence":
        return await sequenceCommand(args, ctx);
      case "app":
        return await appCommand(args, ctx);
      case "consistency":
        return await consistencyCommand(args, ctx);
      case "cluster":
        return await clusterCommand(args, ctx);
      default:
        throw new CliError(`Unknown command "${command}" (see dynamo --help)`, 2);
    }
  } catch (e) {
    if (e instanceof CliError) {
      ctx.err(`dynamo: ${e.message}`);
      return e.exitCode;
    }
    ctx.err(`dynamo: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}
