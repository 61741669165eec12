/**
 * `consistency` as a scheduler application: `--site NAME` checks one site,
 * without it every site that may be checked; `--dry-run` reports only.
 * `--config FILE` is accepted and ignored, like the other built-in
 * applications; anything else is an error.
 */
import { type ActorRef, type ActorSystem, ask } from "../runtime/mod.ts";
import type { CheckReply, ConsistencyMsg } from "./consistency_agent.ts";
import type { ApplicationRunner } from "./scheduler.ts";

export function consistencyRunner(
  system: ActorSystem,
  ref: ActorRef<ConsistencyMsg>,
  timeoutMs: number,
): ApplicationRunner {
  return {
    lockName: "consistency",
    async run(args, signal) {
      let site: string | null = null;
      let dryRun = false;
      for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === "--config") i++;
        else if (arg === "--dry-run" || arg === "--test-run") dryRun = true;
        else if (arg === "--site" && args[i + 1] !== undefined) site = args[++i]!;
        else {throw new Error(
            `unknown argument ${JSON.stringify(arg)} (known: --config, --site NAME, --dry-run)`,
          );}
      }
      const replies: CheckReply[] = site === null
        ? await ask<ConsistencyMsg, CheckReply[]>(
          system,
          ref,
          (replyTo) => ({ type: "check_all", dryRun, replyTo }),
          { timeoutMs, signal },
        )
        : [
          await ask<ConsistencyMsg, CheckReply>(
            system,
            ref,
            (replyTo) => ({ type: "check", site: site!, dryRun, replyTo }),
            { timeoutMs, signal },
          ),
        ];
      const failed = replies.filter((r) => "error" in r);
      if (failed.length > 0 && site !== null) throw new Error((failed[0] as { error: string }).error);
      return replies.map((r) =>
        "error" in r
          ? `failed: ${r.error}`
          : `${r.site}: ${
            r.complete ? "complete" : "incomplete"
          }, ${r.missing} missing, ${r.orphan} orphan, ` +
            `${r.corrupt} corrupt, ${r.acted} acted on${r.flagged ? ", flagged" : ""}`
      ).join("; ") || "no site to check";
    },
  };
}
