import type { Clock, IdGen } from "./clock.ts";
import type { ActorRef } from "./types.ts";

/** An ask that got no reply in time. */
export class AskTimeoutError extends Error {
  constructor(readonly target: string, readonly timeoutMs: number) {
    super(`Ask to "${target}" timed out after ${timeoutMs} ms`);
    this.name = "AskTimeoutError";
  }
}

export interface AskOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

interface AskHost {
  readonly clock: Clock;
  /** Names each ask's reply address. */
  readonly ids: IdGen;
  deliver(address: string, msg: unknown): void;
}

/**
 * Sends `make(replyTo)` to `target` and resolves with the first message sent
 * to `replyTo`. Rejects with `AskTimeoutError` after `timeoutMs` (on the
 * system's clock) or with the signal's reason when aborted.
 */
export function ask<M, R>(
  system: AskHost & { deadLetters: { record(l: { recipient: string; msg: unknown; reason: string }): void } },
  target: ActorRef<M>,
  make: (replyTo: ActorRef<R>) => M,
  options: AskOptions,
): Promise<R> {
  const { promise, resolve, reject } = Promise.withResolvers<R>();
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  const address = system.ids.next("/temp/ask");
  let settled = false;
  const finish = () => {
    settled = true;
    system.clock.clearTimer(timer);
    options.signal?.removeEventListener("abort", onAbort);
  };
  const replyTo: ActorRef<R> = {
    address,
    tell(msg: R) {
      if (settled) {
        system.deadLetters.record({ recipient: address, msg, reason: "ask already completed" });
        return;
      }
      finish();
      resolve(msg);
    },
  };
  const onAbort = () => {
    if (settled) return;
    finish();
    reject(options.signal?.reason);
  };
  const timer = system.clock.setTimer(options.timeoutMs, () => {
    if (settled) return;
    finish();
    reject(new AskTimeoutError(target.address, options.timeoutMs));
  });
  options.signal?.addEventListener("abort", onAbort, { once: true });
  target.tell(make(replyTo));
  return promise;
}
