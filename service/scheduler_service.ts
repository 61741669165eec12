/** The registry's view of the scheduler: asks to its actor, runs from its store. */
import { type ActorRef, type ActorSystem, ask } from "../actors/runtime/mod.ts";
import type { SchedulerMsg, SchedulerReply, SequenceView } from "../actors/agents/scheduler.ts";
import type { SchedulerStore } from "../adapters/db/scheduler_port.ts";
import type { JsonRow } from "../registry/http/fileops_port.ts";
import type { SchedulerPort } from "../registry/http/scheduler_port.ts";

const seconds = (ms: number) => Math.floor(ms / 1000);

export function schedulerPort(
  { system, ref, store }: { system: ActorSystem; ref: ActorRef<SchedulerMsg>; store: SchedulerStore },
): SchedulerPort {
  const call = <T>(make: (replyTo: ActorRef<SchedulerReply<T>>) => SchedulerMsg) =>
    ask<SchedulerMsg, SchedulerReply<T>>(system, ref, make, { timeoutMs: 30_000 });
  const sequenceJson = (v: SequenceView): JsonRow => ({
    name: v.name,
    enabled: v.enabled,
    restart: v.restart,
    position: v.position,
    steps: v.steps,
    line: v.line,
    status: v.status,
    not_before: v.notBefore === null ? null : seconds(v.notBefore),
  });
  const viewReply = (r: SchedulerReply<SequenceView>) => ("error" in r ? r : sequenceJson(r));
  return {
    sequences: async () =>
      (await ask<SchedulerMsg, SequenceView[]>(system, ref, (replyTo) => ({ type: "list", replyTo }), {
        timeoutMs: 30_000,
      })).map(sequenceJson),
    startSequence: async (name) => viewReply(await call((replyTo) => ({ type: "start", name, replyTo }))),
    stopSequence: async (name) => viewReply(await call((replyTo) => ({ type: "stop", name, replyTo }))),
    applications: async (limit) =>
      (await store.runs(limit)).map((r) => ({
        id: r.id,
        title: r.title,
        args: r.args.join(" "),
        write: r.write,
        sequence: r.sequence,
        user: r.user,
        status: r.status,
        message: r.message,
        created: seconds(r.createdMs),
        started: r.startedMs === null ? null : seconds(r.startedMs),
        finished: r.finishedMs === null ? null : seconds(r.finishedMs),
      })),
    runApplication: (title, args, user) =>
      call<{ id: number }>((replyTo) => ({ type: "submit", title, args, user, replyTo })),
    killApplication: (id) => call<{ killed: boolean }>((replyTo) => ({ type: "kill", id, replyTo })),
  };
}
