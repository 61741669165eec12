import type { ActorRef } from "./types.ts";

/**
 * A one-shot reply channel for an actor that waits, inside its own receive,
 * for other actors to answer (a coordinator fanning work out to its children).
 * Unlike `ask` it needs no system and no timer: a child that crashes before
 * answering is answered for by its onStop.
 */
export function replyChannel<R>(label: string): { ref: ActorRef<R>; reply: Promise<R> } {
  const { promise, resolve } = Promise.withResolvers<R>();
  let answered = false;
  return {
    ref: {
      address: `/reply/${label}`,
      tell(msg: R) {
        if (answered) return; // a second answer (a late one after a crash report) is ignored
        answered = true;
        resolve(msg);
      },
    },
    reply: promise,
  };
}
