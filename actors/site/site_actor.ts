/**
 * A site actor (/dynamo/fileops/site:NAME): the one place that knows how much
 * file work is running against a site. Transfer and deletion workers ask it
 * for a slot before each task; it grants at most `parallelism` at a time,
 * queueing the rest in arrival order, and refuses while the inventory says
 * the site is down (waitroom, unknown: its subscriptions are held by the
 * planner and nothing new starts there). A site in morgue still works: it is
 * being evacuated (the planner sends it no new copies).
 */
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { Snapshot } from "../../registry/inventory/mod.ts";
import { siteWorkable } from "../../policies/fileops/site_access.ts";

export type SiteGrant = { granted: true } | { granted: false; status: string };

export type SiteMsg =
  | { type: "acquire"; replyTo: ActorRef<SiteGrant> }
  | { type: "release" };

export interface SiteActorOptions {
  site: string;
  parallelism: number;
  snapshot(): Snapshot;
}

interface SiteState {
  running: number;
  waiting: ActorRef<SiteGrant>[];
}

export function siteActor(options: SiteActorOptions): Behavior<SiteMsg, SiteState> {
  const status = () => options.snapshot().site(options.site)?.status ?? "unknown";
  return {
    // A restart forgets the slots: workers holding one release into the new incarnation, which
    // clamps at zero; at worst a few extra tasks run at once for as long as those tasks last.
    init: () => ({ running: 0, waiting: [] }),
    receive(state, msg) {
      switch (msg.type) {
        case "acquire": {
          const now = status();
          if (!siteWorkable(now)) msg.replyTo.tell({ granted: false, status: now });
          else if (state.running < options.parallelism) {
            state.running++;
            msg.replyTo.tell({ granted: true });
          } else state.waiting.push(msg.replyTo);
          return state;
        }
        case "release": {
          state.running = Math.max(0, state.running - 1);
          const next = state.waiting.shift();
          if (next) {
            const now = status();
            if (siteWorkable(now)) {
              state.running++;
              next.tell({ granted: true });
            } else {
              for (const w of [next, ...state.waiting.splice(0)]) w.tell({ granted: false, status: now });
            }
          }
          return state;
        }
      }
    },
  };
}
