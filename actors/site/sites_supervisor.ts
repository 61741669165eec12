/**
 * The /sites supervisor: one site actor (/sites/NAME) per site of the
 * inventory, started as soon as the inventory is loaded and for every site a
 * later commit adds (an injection, an operator's upsert). It follows the
 * inventory's publication: a committed batch that names a site (`site.upsert`,
 * `site.delete`) becomes an `inventory` message to that site's actor, so an
 * operator's status change reaches the site, and through it the workers that
 * hold or wait for its slots, as soon as it is committed (no interval).
 *
 * Workers reach a site's actor by `routedSiteRef`: straight to /sites/NAME once it runs, and through
 * this supervisor (`forward`) before that, so that an ask never dead-letters because the supervisor has
 * not yet synced (the inventory just loaded) or not yet read the commit that added the site: the
 * supervisor starts the actor and hands the message over, and holds what comes before the inventory
 * is loaded until it is.
 *
 * The publication listener only tells this actor (it runs inside the writer's
 * commit and must not do more); nothing here awaits another actor.
 */
import type { ActorContext, ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryPublication } from "../inventory/publication.ts";
import { idPart, siteAddress } from "./site_address.ts";
import { siteActor, type SiteMsg } from "./site_actor.ts";

export type SitesMsg =
  /** Start an actor for every site of the inventory that has none. */
  | { type: "sync" }
  /** These sites changed in the inventory. */
  | { type: "changed"; sites: string[] }
  /** A message for a site's actor that was not running when it was sent (`routedSiteRef`). */
  | { type: "forward"; site: string; msg: SiteMsg };

export interface SitesSupervisorOptions {
  publication: InventoryPublication;
  /** Tasks at once per site. */
  parallelism: number;
}

interface SitesState {
  unsubscribe: () => void;
  started: Map<string, ActorRef<SiteMsg>>;
  /** Forwards received before the inventory was loaded, in arrival order. */
  early: { site: string; msg: SiteMsg }[];
}

/** What `routedSiteRef` needs of the actor system. */
export interface SiteRouting {
  exists(address: string): boolean;
  refFor<M>(address: string): ActorRef<M>;
}

/**
 * A ref to a site's actor that never dead-letters for want of the actor: while /sites/NAME does not
 * run, messages go through the supervisor, which starts it. A ref that once went through the
 * supervisor keeps doing so, so that one sender's messages arrive in the order sent.
 */
export function routedSiteRef(system: SiteRouting, name: string, supervisor = "/sites"): ActorRef<SiteMsg> {
  const address = siteAddress(name);
  const direct = system.refFor<SiteMsg>(address);
  const via = system.refFor<SitesMsg>(supervisor);
  let routed = false;
  return {
    address,
    tell(msg) {
      if (!routed && system.exists(address)) direct.tell(msg);
      else {
        routed = true;
        via.tell({ type: "forward", site: name, msg });
      }
    },
  };
}

export function sitesSupervisor(options: SitesSupervisorOptions): Behavior<SitesMsg, SitesState> {
  const { publication } = options;
  const ensure = (state: SitesState, ctx: ActorContext<SitesMsg>, name: string) => {
    if (state.started.has(name)) return false;
    state.started.set(
      name,
      ctx.spawn<SiteMsg>({
        id: idPart(name),
        restart: "permanent",
        behavior: () =>
          siteActor({ site: name, parallelism: options.parallelism, snapshot: () => publication.snapshot() }),
      }),
    );
    return true;
  };
  return {
    supervision: {
      strategy: "one_for_one",
      intensity: { maxRestarts: 10, withinMs: 60_000 },
    },
    init(ctx) {
      const unsubscribe = publication.subscribe((entry) => {
        const sites = entry.commands.flatMap((c) =>
          c.op === "site.upsert" || c.op === "site.delete" ? [c.name] : []
        );
        if (sites.length > 0) ctx.self.tell({ type: "changed", sites });
      });
      const state: SitesState = { unsubscribe, started: new Map(), early: [] };
      // Before the first load there is nothing to read; a reload publishes no entry, so each
      // incarnation syncs once the inventory is there.
      if (publication.isReady) ctx.self.tell({ type: "sync" });
      else publication.ready.then(() => ctx.self.tell({ type: "sync" }));
      return state;
    },
    receive(state, msg, ctx) {
      if (!publication.isReady) {
        if (msg.type === "forward") state.early.push(msg);
        return state;
      }
      const snapshot = publication.snapshot();
      /** Hands a message to the site's actor, started first if the inventory has the site. */
      const forward = (name: string, m: SiteMsg) => {
        if (snapshot.site(name)) ensure(state, ctx, name);
        const ref = state.started.get(name);
        if (ref) ref.tell(m);
        // No such site: an ask is refused as its actor would; nothing is held there to release.
        else if (m.type === "acquire") {
          m.holder.tell({ type: "refused", site: name, ticket: m.ticket, status: "unknown" });
        } else if (m.type === "status") {
          m.replyTo.tell({
            site: name,
            status: "unknown",
            parallelism: options.parallelism,
            running: 0,
            waiting: 0,
            usedBytes: 0,
            projectedBytes: 0,
            quotaBytes: 0,
            holders: {},
          });
        }
      };
      if (msg.type === "forward") {
        forward(msg.site, msg.msg);
        return state;
      }
      if (msg.type === "sync") {
        for (const site of snapshot.sites()) ensure(state, ctx, site.name);
        for (const early of state.early.splice(0)) forward(early.site, early.msg);
        return state;
      }
      for (const name of new Set(msg.sites)) {
        if (snapshot.site(name) && ensure(state, ctx, name)) continue;
        state.started.get(name)?.tell({ type: "inventory" });
      }
      return state;
    },
    onStop(state) {
      state.unsubscribe();
      // Held asks die with this incarnation (a restart starts with none): answer them so that no
      // worker waits for a slot forever; it retries on its next drain.
      for (const { site, msg } of state.early.splice(0)) {
        if (msg.type === "acquire") {
          msg.holder.tell({ type: "refused", site, ticket: msg.ticket, status: "unavailable" });
        }
      }
    },
  };
}
