/**
 * The registry's HTTP listener as a supervised actor (/http): its init opens
 * the listening socket, its stop closes it and waits for the requests in
 * flight. Started after /dynamo, it is stopped before it, so that a shutdown
 * first stops accepting requests (writes included), then stops the agents,
 * and the writer last. The server itself is injected: actors know nothing of
 * the registry's routes.
 */
import type { Behavior } from "../runtime/mod.ts";

export interface Listening {
  /** Stops accepting connections and resolves when the requests in flight have been answered. */
  shutdown(): Promise<void>;
}

export interface ListenerOptions {
  /** Opens the socket (Deno.serve in the service). */
  listen(): Listening;
}

export function listenerActor(options: ListenerOptions): Behavior<never, Listening> {
  return {
    init: () => options.listen(),
    receive: (state) => state,
    async onStop(server) {
      await server.shutdown();
    },
  };
}
