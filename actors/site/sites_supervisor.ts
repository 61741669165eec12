/**
 * The /sites supervisor: one site actor (/sites/NAME) per site of the
 * inventory, started as soon as the inventory is loaded and for every site a
 * later commit adds (an injection, an operator's upsert). It follows the
 * inventory's publication: a committed batch that names a site (`site.upsert`,
 * `site.delete`) becomes an `inventory` message to that site's actor, so an
 * operator's status change reaches the site, and through it the workers that
 * hold or wait for its slots, as soon as it is committed (no interval).
 *
 * The publication listener only tells this actor (it runs inside the writer's
 * commit and must not do more); nothing here awaits another actor.
 */
import type { ActorContext, ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryPublication } from "../inventory/publication.ts";
import { idPart } from "./site_address.ts";
import { siteActor, type SiteMsg } from "./site_actor.ts";

export type SitesMsg =
  /** Start an actor for every site of the inventory that has none. */
  | { type: "sync" }
  /** These sites changed in the inventory. */
  | { type: "changed"; sites: string[] };

export interface SitesSupervisorOptions {
  publication: InventoryPublication;
  /** Tasks at once per site. */
  parallelism: number;
}

interface SitesState {
  unsubscribe: () => void;
  started: Map<string, ActorRef<SiteMsg>>;
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
      const state: SitesState = { unsubscribe, started: new Map() };
      // Before the first load there is nothing to read; a reload publishes no entry, so each
      // incarnation syncs once the inventory is there.
      if (publication.isReady) ctx.self.tell({ type: "sync" });
      else publication.ready.then(() => ctx.self.tell({ type: "sync" }));
      return state;
    },
    receive(state, msg, ctx) {
      if (!publication.isReady) return state;
      const snapshot = publication.snapshot();
      if (msg.type === "sync") {
        for (const site of snapshot.sites()) ensure(state, ctx, site.name);
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
    },
  };
}
