/**
 * The file-operations agent (/dynamo/fileops): on its schedule and on request
 * runs one FileOpsEngine pass. A new incarnation first gives back the tasks
 * an earlier incarnation of this node had claimed (it died holding them), so
 * a crash or kill -9 costs one re-run per in-flight file, never a lost file.
 */
import type { FileOpsStore } from "../../adapters/db/fileops_port.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import { type FileOpsDeps, FileOpsEngine, type FileOpsPassSummary } from "./fileops_engine.ts";

export interface FileOpsAgentOptions extends Omit<FileOpsDeps, "worker" | "nowMs"> {
  store: FileOpsStore;
  /** Identifies this node (host and data directory); worker ids start with it. */
  node: string;
  /** Between passes; 0 = only on request. */
  intervalMs: number;
}

export type FileOpsMsg =
  | { type: "tick" }
  | { type: "run"; replyTo: ActorRef<FileOpsPassSummary | { error: string }> };

let incarnations = 0;

export function fileOpsAgent(options: FileOpsAgentOptions): Behavior<FileOpsMsg, FileOpsEngine> {
  return {
    async init(ctx) {
      const recovered = await options.store.recoverTasks(ctx.clock.now(), `${options.node}:`);
      if (recovered > 0) {
        ctx.log.info("File operations: {n} tasks of a dead worker given back", { n: recovered });
      }
      if (options.intervalMs > 0) ctx.timers.startPeriodic("pass", options.intervalMs, { type: "tick" });
      return new FileOpsEngine({
        ...options,
        worker: `${options.node}:${Deno.pid}:${++incarnations}`,
        nowMs: () => ctx.clock.now(),
      });
    },
    async receive(engine, msg, ctx) {
      switch (msg.type) {
        case "tick": {
          const summary = await engine.pass();
          ctx.log.info("File operations pass", { ...summary });
          return engine;
        }
        case "run": {
          try {
            msg.replyTo.tell(await engine.pass());
          } catch (e) {
            msg.replyTo.tell({ error: e instanceof Error ? e.message : String(e) });
            throw e; // the supervisor restarts us; the next pass resumes from the database
          }
          return engine;
        }
      }
    },
  };
}
