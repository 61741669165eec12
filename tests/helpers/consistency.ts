/**
 * A federation with faults for consistency tests: a site (POSIX root or a
 * real XRootD server) holding three datasets, a second disk site holding a
 * copy of one, and the consistency check wired over the running Dynamo.
 */
import { SqlConsistencyStore } from "../../adapters/db/consistency_store.ts";
import type { Database } from "../../adapters/db/database.ts";
import { SqlFileOpsStore } from "../../adapters/db/fileops_store.ts";
import type { StorageAdapter } from "../../adapters/storage/storage_port.ts";
import type { TreeReader } from "../../adapters/storage/listing_port.ts";
import { SiteStorage } from "../../adapters/storage/site_storage.ts";
import { StorageSiteLister } from "../../adapters/storage/storage_lister.ts";
import { treeReaderFor } from "../../adapters/storage/tree_readers.ts";
import type { ConsistencyDeps } from "../../actors/agents/consistency_check.ts";
import {
  type ConsistencyConfig,
  DEFAULT_CONSISTENCY,
  DEFAULT_SITE_CONSISTENCY,
  type SiteConsistencyConfig,
} from "../../policies/consistency/consistency_config.ts";
import { fileopsFederation, NOW } from "./fileops.ts";
import type { XrootdServer } from "./xrootd_server.ts";

export const DAY = 86_400_000;
export const OLD = new Date(NOW - 30 * DAY);

/** Sets a path's mtime (the listing's only notion of age). */
export async function age(path: string, when: Date = OLD): Promise<void> {
  await Deno.utime(path, when, when);
}

export async function consistencyFederation(
  db: Database,
  options: {
    xrootd?: XrootdServer;
    site?: Partial<SiteConsistencyConfig>;
    /** Wraps the site's tree reader (fault injection for POSIX under root, where chmod does not bite). */
    wrapReader?: (reader: TreeReader) => TreeReader;
    /** Runs the consistency agent in the service, looking at its schedule every tickMs (0: on request only). */
    agentTickMs?: number;
  } = {},
) {
  const site = options.xrootd
    ? { name: "T2_SITE", backend: `${options.xrootd.url}`, root: options.xrootd.root }
    : { name: "T2_SITE" };
  let config: ConsistencyConfig = {
    ...DEFAULT_CONSISTENCY,
    defaults: {
      ...DEFAULT_SITE_CONSISTENCY,
      maxMissing: { count: Infinity, fraction: 0.5 },
      maxOrphan: { count: Infinity, fraction: 0.5 },
      listing: { ...DEFAULT_SITE_CONSISTENCY.listing, retries: 1 },
      ...options.site,
      // The agent's schedule starts once the federation is set up (its clock jumps three days meanwhile).
      enabled: options.agentTickMs === undefined,
    },
  };
  const reader = (a: StorageAdapter) => (options.wrapReader ?? ((r) => r))(treeReaderFor(a));
  // Listing never stages, so the tape adapters' clock is never read before the federation (and its clock) exists.
  const lister = new StorageSiteLister(new SiteStorage(() => f.clock.now()), reader);
  const f = await fileopsFederation(db, [site, { name: "T2_COPY" }], {
    ...(options.agentTickMs !== undefined
      ? {
        consistency: {
          get config() {
            return config;
          },
          lister,
          tickMs: options.agentTickMs,
        },
      }
      : {}),
  });
  const storage = new SiteStorage(() => f.clock.now());
  const deps: ConsistencyDeps = {
    store: new SqlConsistencyStore(db),
    fileops: new SqlFileOpsStore(db),
    lister,
    storage,
    snapshot: () => f.dynamo.tree.gateway.snapshot(),
    submit: (s) => f.dynamo.tree.gateway.submit(s),
    nowMs: () => f.clock.now(),
    config: () => config,
  };
  const root = f.rootOf("T2_SITE");
  const one = await f.dataset("/One/Run-v1/AOD", 10, ["T2_SITE", "T2_COPY"]);
  const two = await f.dataset("/Two/Run-v1/AOD", 4, ["T2_SITE"]);
  const del = await f.dataset("/Gone/Run-v1/AOD", 3, ["T2_SITE"]);
  // Everything on disk is old, except what a test makes young.
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      await age(`${dir}/${e.name}`);
    }
  };
  await walk(root);
  await walk(f.rootOf("T2_COPY"));
  // The inventory's replicas must be older than ignore_age too.
  await f.clock.advance(3 * DAY);
  config = { ...config, defaults: { ...config.defaults, enabled: true } };
  return {
    ...f,
    deps,
    root,
    one,
    two,
    del,
    setSiteConfig(site: Partial<SiteConsistencyConfig>) {
      config = { ...config, defaults: { ...config.defaults, ...site } };
    },
  };
}
