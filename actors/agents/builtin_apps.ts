/**
 * The applications a sequence file can name, carried out by our own agents.
 * An application definition's path names it by its file name, as the CMS file
 * does (`$(DYNAMO_BASE)/exec/detox_cms` is Detox; a `_cms` suffix is
 * dropped). A path that is not one of these but an executable file is run as
 * a program with its arguments; anything else is `notfound`.
 *
 *   detox                 a Detox cycle: --policy FILE (the configured policy of that
 *                         file name), --snapshot-run, --test-run (dry run)
 *   dealer                a Dealer cycle: --test-run / --dry-run
 *   updater, fileops      a file-operations pass (transfers, deletions, inventory update)
 *   track_copy_requests,  a request-tracker pass
 *   requests
 *   consistency           site consistency checks: --site NAME (else every site), --dry-run
 *
 * `--config FILE` is accepted and ignored (our configuration is the service's);
 * other arguments of a built-in application are errors, so a typo fails the
 * step rather than running something else than asked.
 */
import type { AppDefinition } from "../../policies/scheduler/sequence_file.ts";
import type { DetoxMode, DetoxRunSummary } from "../../registry/requests/detox_run.ts";
import type { DealerRunSummary } from "../../registry/requests/dealer_run.ts";
import { type ActorRef, type ActorSystem, ask } from "../runtime/mod.ts";
import type { DetoxMsg } from "./detox.ts";
import type { DealerMsg } from "./dealer.ts";
import type { TrackerMsg, TrackerPassSummary } from "./request_tracker.ts";
import type { FileOpsMsg } from "../transfer/fileops_agent.ts";
import type { FileOpsPassSummary } from "../transfer/fileops_engine.ts";
import type { ApplicationRunner, ResolveApplication } from "./scheduler.ts";
import { consistencyRunner } from "./consistency_app.ts";
import type { ConsistencyMsg } from "./consistency_agent.ts";

export interface BuiltinAgents {
  system: ActorSystem;
  detox: ActorRef<DetoxMsg> | null;
  dealer: ActorRef<DealerMsg> | null;
  tracker: ActorRef<TrackerMsg> | null;
  fileops: ActorRef<FileOpsMsg> | null;
  consistency?: ActorRef<ConsistencyMsg> | null;
  /** Whole days of simulated time (demo) are far longer than any real cycle; asks give up after this. */
  askTimeoutMs?: number;
}

const BUILTIN_APPLICATIONS = [
  "detox",
  "dealer",
  "updater",
  "fileops",
  "track_copy_requests",
  "requests",
  "consistency",
];

/** The application a definition's path names (`…/exec/detox_cms` → `detox`), or null. */
function builtinName(path: string): string | null {
  const base = path.slice(path.lastIndexOf("/") + 1).replace(/\.[A-Za-z]+$/, "").replace(/_cms$/, "");
  return BUILTIN_APPLICATIONS.includes(base) ? base : null;
}

export function resolveApplications(agents: BuiltinAgents): ResolveApplication {
  return (app: AppDefinition) => {
    const name = builtinName(app.path);
    if (name === null) return app.path.startsWith("/") ? program(app.path) : null;
    switch (name) {
      case "detox":
        return agents.detox ? detoxRunner(agents, agents.detox) : null;
      case "dealer":
        return agents.dealer ? dealerRunner(agents, agents.dealer) : null;
      case "updater":
      case "fileops":
        return agents.fileops ? fileopsRunner(agents, agents.fileops) : null;
      case "consistency":
        return agents.consistency
          ? consistencyRunner(agents.system, agents.consistency, timeout(agents))
          : null;
      default:
        return agents.tracker ? trackerRunner(agents, agents.tracker) : null;
    }
  };
}

/** Splits arguments into known flags; `--config X` is dropped, anything unknown is an error. */
function flags(args: readonly string[], known: Record<string, "flag" | "value">): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === "--config") {
      i += 1;
      continue;
    }
    const kind = known[arg];
    if (!kind) {
      throw new Error(
        `unknown argument ${JSON.stringify(arg)} (known: --config, ${Object.keys(known).join(", ")})`,
      );
    }
    if (kind === "value") {
      const value = args[i + 1];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      out.set(arg, value);
      i += 1;
    } else out.set(arg, "");
  }
  return out;
}

const timeout = (agents: BuiltinAgents) => agents.askTimeoutMs ?? 24 * 3600_000;

function detoxRunner(agents: BuiltinAgents, ref: ActorRef<DetoxMsg>): ApplicationRunner {
  return {
    lockName: "detox",
    async run(args, signal) {
      const f = flags(args, {
        "--policy": "value",
        "--partition": "value",
        "--snapshot-run": "flag",
        "--test-run": "flag",
        "--dry-run": "flag",
      });
      // --policy names a configured file (by its file name); --partition gives the partition of a
      // file without a Partition line, or selects the policies of a partition.
      const partition = f.get("--partition");
      const path = f.get("--policy");
      const policy = path === undefined ? undefined : path.slice(path.lastIndexOf("/") + 1);
      const mode: DetoxMode = f.has("--snapshot-run")
        ? "snapshot"
        : f.has("--test-run") || f.has("--dry-run")
        ? "dry-run"
        : "normal";
      const reply = await ask<DetoxMsg, DetoxRunSummary[] | { error: string }>(
        agents.system,
        ref,
        (replyTo) => ({
          type: "run",
          request: {
            mode,
            ...(partition !== undefined ? { partition } : {}),
            ...(policy !== undefined ? { policy } : {}),
            comment: "scheduler",
          },
          replyTo,
        }),
        { timeoutMs: timeout(agents), signal },
      );
      if ("error" in reply) throw new Error(reply.error);
      const failed = reply.find((s) => s.error);
      if (failed) throw new Error(`Detox ${failed.partition}: ${failed.error}`);
      return reply.map((s) =>
        `Detox ${s.partition} ${s.mode}: ${s.deletions} deletions, ${s.deletedBytes} bytes`
      )
        .join("; ");
    },
  };
}

function dealerRunner(agents: BuiltinAgents, ref: ActorRef<DealerMsg>): ApplicationRunner {
  return {
    lockName: "dealer",
    async run(args, signal) {
      const f = flags(args, { "--test-run": "flag", "--dry-run": "flag" });
      const reply = await ask<DealerMsg, DealerRunSummary>(
        agents.system,
        ref,
        (replyTo) => ({
          type: "run",
          mode: f.size > 0 ? "dry-run" : "normal",
          comment: "scheduler",
          replyTo,
        }),
        { timeoutMs: timeout(agents), signal },
      );
      if (reply.error) throw new Error(reply.error);
      return `Dealer ${reply.mode}: ${reply.copies} copies, ${reply.bytes} bytes`;
    },
  };
}

function fileopsRunner(agents: BuiltinAgents, ref: ActorRef<FileOpsMsg>): ApplicationRunner {
  return {
    lockName: "updater",
    async run(_args, signal) {
      // The original updater's selectors (--mode, --site) have no meaning here: a pass covers everything.
      const reply = await ask<FileOpsMsg, FileOpsPassSummary | { error: string }>(
        agents.system,
        ref,
        (replyTo) => ({ type: "run", replyTo }),
        { timeoutMs: timeout(agents), signal },
      );
      if ("error" in reply) throw new Error(reply.error);
      return `file operations: ${JSON.stringify(reply)}`;
    },
  };
}

function trackerRunner(agents: BuiltinAgents, ref: ActorRef<TrackerMsg>): ApplicationRunner {
  return {
    lockName: "requests",
    async run(args, signal) {
      flags(args, {});
      const reply = await ask<TrackerMsg, TrackerPassSummary>(
        agents.system,
        ref,
        (replyTo) => ({ type: "pass", replyTo }),
        { timeoutMs: timeout(agents), signal },
      );
      if (reply.error) throw new Error(reply.error);
      if (reply.skipped) return `requests: skipped (${reply.skipped})`;
      return `requests: ${reply.copyRequestsChanged} copy and ${reply.deletionRequestsChanged} deletion requests changed`;
    },
  };
}

/** An executable file: run with the step's arguments; exit code 0 is success. */
function program(path: string): ApplicationRunner {
  return {
    lockName: path.slice(path.lastIndexOf("/") + 1),
    async run(args, signal) {
      const info = await Deno.stat(path).catch(() => null);
      if (!info?.isFile || ((info.mode ?? 0) & 0o111) === 0) {
        throw new Error(`${path} is not an executable file`);
      }
      const out = await new Deno.Command(path, { args: [...args], signal, stdout: "piped", stderr: "piped" })
        .output();
      const text = (new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout)).trim();
      const last = text.split("\n").at(-1)?.slice(0, 500) ?? "";
      if (!out.success) throw new Error(`exit code ${out.code}${last ? `: ${last}` : ""}`);
      return last || "exit code 0";
    },
  };
}
