/**
 * A site actor (/sites/NAME, under the /sites supervisor): the one place that knows how much
 * file work is running against a site. Transfer and deletion actors ask it
 * for a slot before each task (`acquire`, with a ticket of their own) and get
 * the answer as a message (`admitted` or `refused`); they give the slot back
 * with `release`. It grants at most `parallelism` at a time, queueing the rest
 * in arrival order, and refuses while the inventory says the site is down
 * (waitroom, unknown: its subscriptions are held by the planner and nothing
 * new starts there). A site in morgue still serves and deletes (it is being
 * evacuated) but receives no copy: an ask says which use it is for.
 *
 * Operators' status changes arrive by message (`inventory`, from the /sites
 * supervisor, which follows the inventory's publication): when the status no
 * longer allows a holder's use, the holder is told (`site_closed`: it starts
 * nothing new there) and the waiting asks for that use are refused at once.
 *
 * Slots are held by (holder address, ticket): a holder that crashed and
 * restarted says `release_all` from its new incarnation, and every slot and
 * queued ask of its dead incarnation comes back. A release of a ticket the
 * site does not hold (already given back) changes nothing.
 */
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { Snapshot } from "../../registry/inventory/mod.ts";
import { siteAllows, type SiteUse, siteWorkable } from "../../policies/fileops/site_access.ts";

/** What a site tells a holder: the answer to an `acquire`, or that its status no longer allows the holder's use. */
export type SiteAdmission =
  | { type: "admitted"; site: string; ticket: string }
  | { type: "refused"; site: string; ticket: string; status: string }
  | { type: "site_closed"; site: string; status: string };

export interface SiteOccupancy {
  site: string;
  status: string;
  parallelism: number;
  running: number;
  waiting: number;
  /** Bytes present at the site and its quota (sums over the basic partitions of the ledger; quota < 0 is infinite). */
  usedBytes: number;
  projectedBytes: number;
  quotaBytes: number;
  /** Slots held per holder address. */
  holders: Record<string, number>;
}

export type SiteMsg =
  | { type: "acquire"; holder: ActorRef<SiteAdmission>; ticket: string; use?: SiteUse }
  | { type: "release"; holder: string; ticket: string }
  | { type: "release_all"; holder: string }
  | { type: "status"; replyTo: ActorRef<SiteOccupancy> }
  /** The inventory changed this site (status, or the site was added or removed): look again. */
  | { type: "inventory" };

export interface SiteActorOptions {
  site: string;
  parallelism: number;
  snapshot(): Snapshot;
}

interface Ask {
  holder: ActorRef<SiteAdmission>;
  ticket: string;
  use: SiteUse | undefined;
}

interface SiteState {
  /** Tickets held, per holder address, with the ask that got each. */
  held: Map<string, Map<string, Ask>>;
  running: number;
  waiting: Ask[];
  /** The status last looked at, so that a change is told once. */
  status: string;
}

/** Whether a status allows an ask's use (no use named: any file work). */
function allows(status: string, use: SiteUse | undefined): boolean {
  return use === undefined ? siteWorkable(status) : siteAllows(status, use);
}

/** Bytes used, projected and quota of a site, summed over the basic partitions of the inventory's ledger. */
export function siteLedgerTotals(snapshot: Snapshot, site: string) {
  const s = snapshot.site(site);
  const ledger = s ? snapshot.state?.ledger.get(s.id) : undefined;
  const sum = (v: readonly number[] | undefined) => (v ?? []).reduce((a, b) => a + b, 0);
  const quota = ledger?.quota ?? [];
  return {
    usedBytes: sum(ledger?.physical),
    projectedBytes: sum(ledger?.projected),
    quotaBytes: quota.some((q) => q < 0) ? -1 : sum(quota),
  };
}

export function siteActor(options: SiteActorOptions): Behavior<SiteMsg, SiteState> {
  const site = options.site;
  const status = () => options.snapshot().site(site)?.status ?? "unknown";
  const grant = (state: SiteState, ask: Ask) => {
    let tickets = state.held.get(ask.holder.address);
    if (!tickets) state.held.set(ask.holder.address, tickets = new Map());
    tickets.set(ask.ticket, ask);
    state.running++;
    ask.holder.tell({ type: "admitted", site, ticket: ask.ticket });
  };
  /** Waiting asks the status no longer allows are refused; freed slots go to the rest in order. */
  const admitWaiting = (state: SiteState) => {
    const now = status();
    const refused = state.waiting.filter((w) => !allows(now, w.use));
    if (refused.length > 0) {
      state.waiting = state.waiting.filter((w) => allows(now, w.use));
      for (const w of refused) w.holder.tell({ type: "refused", site, ticket: w.ticket, status: now });
    }
    while (state.waiting.length > 0 && state.running < options.parallelism) {
      grant(state, state.waiting.shift()!);
    }
  };
  /** A status change is told to each holder whose use it no longer allows (once per holder). */
  const lookAgain = (state: SiteState) => {
    const now = status();
    if (now === state.status) return;
    state.status = now;
    for (const tickets of state.held.values()) {
      const ask = [...tickets.values()].find((a) => !allows(now, a.use));
      ask?.holder.tell({ type: "site_closed", site, status: now });
    }
    admitWaiting(state);
  };
  return {
    // A restart forgets the slots: holders' releases of unknown tickets change nothing, so at worst
    // a few extra tasks run at once for as long as the tasks of before the restart last.
    init: () => ({ held: new Map(), running: 0, waiting: [], status: status() }),
    receive(state, msg) {
      switch (msg.type) {
        case "acquire": {
          const now = status();
          const ask = { holder: msg.holder, ticket: msg.ticket, use: msg.use };
          if (!allows(now, msg.use)) {
            msg.holder.tell({ type: "refused", site, ticket: msg.ticket, status: now });
          } else if (state.running < options.parallelism) grant(state, ask);
          else state.waiting.push(ask);
          return state;
        }
        case "inventory": {
          lookAgain(state);
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
            ...siteLedgerTotals(options.snapshot(), site),
            holders: Object.fromEntries([...state.held].map(([h, t]) => [h, t.size])),
          });
          return state;
        }
      }
    },
  };
}
