/**
 * The CLI entry: `dynamo start` hands over to service/start.ts, every other
 * command to adapters/cli (docs/architecture.md). The composition itself is in
 * service/create_dynamo.ts.
 */
import { resolve } from "node:path";
import {
  DEFAULT_HOME,
  processEnvironment,
  resolvePathEnvironment,
} from "./service/config/path_environment.ts";
import { openDatabase } from "./adapters/db/database.ts";
import { migrate } from "./adapters/db/migrate.ts";
import { SqlUserStore } from "./adapters/db/user_store.ts";
import { runCli } from "./adapters/cli/cli.ts";
import type { CliContext } from "./adapters/cli/cli_context.ts";
import { describePolicyFile } from "./policies/describe_policy_file.ts";
import { checkConfig } from "./service/config/check_config.ts";
import { configureLogging, startService } from "./service/start.ts";

function cliContext(): CliContext {
  const home = resolve(Deno.env.get("DYNAMO_HOME") ?? DEFAULT_HOME);
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: (name) => Deno.env.get(name),
    readStdin: () => new Response(Deno.stdin.readable).text(),
    readTextFile: (path) => Deno.readTextFile(path),
    async openUsers() {
      const url = Deno.env.get("DYNAMO_DATABASE_URL");
      const db = await openDatabase(url ? { url, maxConnections: 1 } : { dataDir: `${home}/db` });
      await migrate(db, Date.now());
      return { users: new SqlUserStore(db), close: () => db.close() };
    },
    startService,
    checkConfig,
    now: () => Date.now(),
    progressOutput: () => ({
      isTerminal: Deno.stderr.isTerminal(),
      write: (text) => Deno.stderr.writeSync(new TextEncoder().encode(text)),
    }),
    onInterrupt(handler) {
      Deno.addSignalListener("SIGINT", handler);
      return () => Deno.removeSignalListener("SIGINT", handler);
    },
    describePolicyFile: (text, file) => describePolicyFile(text, file, Date.now()),
  };
}

if (import.meta.main) {
  try {
    resolvePathEnvironment(processEnvironment, Deno.cwd());
    await configureLogging();
  } catch (e) {
    console.error(`dynamo: ${(e as Error).message}`);
    Deno.exit(2);
  }
  Deno.exit(await runCli(Deno.args, cliContext()));
}
