/**
 * A site actor (/dynamo/fileops/site:NAME): the one place that knows how much
 * file work is running against a site. Transfer and deletion actors ask it
 * for a slot before each task (`acquire`, with a ticket of their own) and get
 * the answer as a message (`admitted` or `refused`); they give the slot back
 * with `release`. It grants at most `parallelism` at a time, queueing the rest
 * in arrival order, and refuses while the inventory says the site is down
 * (waitroom, unknown: its subscriptions are held by the planner and nothing
 * new starts there). A site in morgue still works: it is being evacuated (the
 * planner sends it no new copies).
 *
 * Slots are held by (holder address, ticket): a holder that crashed and
 * restarted says `release_all` from its new incarnation, and every slot and
 * queued ask of its dead incarnation comes back. A release of a ticket the
 * site does not hold (already given back) changes nothing.
 */
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { Snapshot } from "../../registry/inventory/mod.ts";
import { siteWorkable } from "../../policies/fileops/site_access.ts";

/** What a site answers to an `acquire`, addressed to the holder. */
export type SiteAdmission =
  | { type: "admitted"; site: string; ticket: string }
  | { type: "refused"; site: string; ticket: string; status: string };

export interface SiteOccupancy {
  site: string;
  status: string;
  parallelism: number;
  running: number;
  waiting: number;
  /** Slots held per holder address. */
  holders: Record<string, number>;
}

export type SiteMsg =
  | { type: "acquire"; holder: ActorRef<SiteAdmission>; ticket: string }
  | { type: "release"; holder: string; ticket: string }
  | { type: "release_all"; holder: string }
  | { type: "status"; replyTo: ActorRef<SiteOccupancy> };

export interface SiteActorOptions {
  site: string;
  parallelism: number;
  snapshot(): Snapshot;
}

interface SiteState {
  /** Tickets held, per holder address. */
  held: Map<string, Set<string>>;
  running: number;
  waiting: { holder: ActorRef<SiteAdmission>; ticket: string }[];
}

export function siteActor(options: SiteActorOptions): Behavior<SiteMsg, SiteState> {
  const site = options.site;
  const status = () => options.snapshot().site(site)?.status ?? "unknown";
  const grant = (state: SiteState, holder: ActorRef<SiteAdmission>, ticket: string) => {
    let tickets = state.held.get(holder.address);
    if (!tickets) state.held.set(holder.address, tickets = new Set());
    tickets.add(ticket);
    state.running++;
    holder.tell({ type: "admitted", site, ticket });
  };
  /** Freed slots go to the waiting in order, or every waiting ask is refused when the site went down. */
  const admitWaiting = (state: SiteState) => {
    while (state.waiting.length > 0 && state.running < options.parallelism) {
      const now = status();
      if (!siteWorkable(now)) {
        for (const w of state.waiting.splice(0)) {
          w.holder.tell({ type: "refused", site, ticket: w.ticket, status: now });
        }
        return;
      }
      const next = state.waiting.shift()!;
      grant(state, next.holder, next.ticket);
    }
  };
  return {
    // A restart forgets the slots: holders' releases of unknown tickets change nothing, so at worst
    // a few extra tasks run at once for as long as the tasks of before the restart last.
    init: () => ({ held: new Map(), running: 0, waiting: [] }),
    receive(state, msg) {
      switch (msg.type) {
        case "acquire": {
          const now = status();
          if (!siteWorkable(now)) msg.holder.tell({ type: "refused", site, ticket: msg.ticket, status: now });
          else if (state.running < options.parallelism) grant(state, msg.holder, msg.ticket);
          else state.waiting.push({ holder: msg.holder, ticket: msg.ticket });
          return state;
        }
        case "release": {
          const tickets = state.held.get(msg.holder);
          if (tickets?.delete(msg.ticket)) {
            state.running--;
            if (tickets.size === 0) state.held.delete(msg.holder);
          } else {
            // Not yet granted: the holder gave up while waiting.
            state.waiting = state.waiting.filter((w) =>
              !(w.holder.address === msg.holder && w.ticket === msg.ticket)
            );
          }
          admitWaiting(state);
          return state;
        }
        case "release_all": {
          state.running -= state.held.get(msg.holder)?.size ?? 0;
          state.held.delete(msg.holder);
          state.waiting = state.waiting.filter((w) => w.holder.address !== msg.holder);
          admitWaiting(state);
          return state;
        }
        case "status": {
          msg.replyTo.tell({
            site,
            status: status(),
            parallelism: options.parallelism,
            running: state.running,
            waiting: state.waiting.length,
            holders: Object.fromEntries([...state.held].map(([h, t]) => [h, t.size])),
          });
          return state;
        }
      }
    },
  };
}
