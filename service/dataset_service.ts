/**
 * The dataset actors seen from HTTP: `/data/dataset/status` asks the dataset's
 * actor (from outside the actor system, with a timeout) and turns its
 * failures into the edge's 503.
 */
import type { DatasetMsg, DatasetStatusReply } from "../actors/dataset/dataset_actors.ts";
import { type ActorRef, type ActorSystem, ask, AskTimeoutError } from "../actors/runtime/mod.ts";
import type { DatasetStatusSource } from "../registry/http/dataset_status.ts";
import { UnavailableError } from "../registry/http/inventory_access.ts";

export function datasetStatusSource(
  { system, datasets, timeoutMs = 30_000 }: {
    system: ActorSystem;
    datasets: () => ActorRef<DatasetMsg> | null;
    timeoutMs?: number;
  },
): DatasetStatusSource {
  return {
    async status(dataset) {
      const ref = datasets();
      if (!ref) throw new UnavailableError("Dataset actors do not run on this server (a cluster follower)");
      const reply = await ask<DatasetMsg, DatasetStatusReply>(
        system,
        ref,
        (replyTo) => ({ type: "status", dataset, replyTo }),
        { timeoutMs },
      ).catch((e) => {
        if (e instanceof AskTimeoutError) {
          throw new UnavailableError("The dataset actor did not answer in time");
        }
        throw e;
      });
      if ("error" in reply) {
        throw new UnavailableError("The dataset's work could not be read (the server log says why)");
      }
      return reply;
    },
  };
}
