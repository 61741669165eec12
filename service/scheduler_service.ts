/** The registry's view of the scheduler: asks to its actor, runs from its store. */
import { type ActorRef, type ActorSystem, ask } from "../actors/runtime/mod.ts";
import type { SchedulerMsg, SchedulerReply, SequenceView } from "../actors/agents/scheduler.ts";
import type { SchedulerStore } from "../adapters/db/scheduler_store_port.ts";
import type { SchedulerControl } from "../registry/http/scheduler_control.ts";

export function schedulerControl(
  { system, ref, store }: { system: ActorSystem; ref: ActorRef<SchedulerMsg>; store: SchedulerStore },
): SchedulerControl {
  const call = <T>(make: (replyTo: ActorRef<SchedulerReply<T>>) => SchedulerMsg) =>
    ask<SchedulerMsg, SchedulerReply<T>>(system, ref, make, { timeoutMs: 30_000 });
  return {
    sequences: () =>
      ask<SchedulerMsg, SequenceView[]>(system, ref, (replyTo) => ({ type: "list", replyTo }), {
        timeoutMs: 30_000,
      }),
    startSequence: (name) => call<SequenceView>((replyTo) => ({ type: "start", name, replyTo })),
    stopSequence: (name) => call<SequenceView>((replyTo) => ({ type: "stop", name, replyTo })),
    applications: (limit) => store.runs(limit),
    runApplication: (title, args, user) =>
      call<{ id: number }>((replyTo) => ({ type: "submit", title, args, user, replyTo })),
    killApplication: (id) => call<{ killed: boolean }>((replyTo) => ({ type: "kill", id, replyTo })),
  };
}
