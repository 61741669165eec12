/** The registry's view of file operations: store rows in their JSON shape, and LFN → PFN. */
import type { FileOpsStore, Subscription } from "../adapters/db/fileops_port.ts";
import type { SiteStorage } from "../adapters/storage/site_storage.ts";
import { mappingProtocol } from "../adapters/storage/storage_port.ts";
import { type FileOpsPort, type JsonRow, LfnError } from "../registry/http/fileops_port.ts";
import { LfnMappingError, mapLfn, type Snapshot } from "../registry/inventory/mod.ts";

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function subscriptionJson(s: Subscription): JsonRow {
  return {
    id: s.id,
    kind: s.kind,
    lfn: s.lfn,
    dataset: s.dataset,
    block: s.block,
    size: s.size,
    source: s.source,
    site: s.site,
    status: s.status,
    task_state: s.taskState,
    hold_reason: s.holdReason,
    attempts: s.attempts,
  };
}

export interface FileOpsPortOptions {
  store: FileOpsStore;
  storage: SiteStorage;
  snapshot: () => Snapshot;
  /** One pass now. */
  run: () => Promise<JsonRow | { error: string }>;
  nowMs: () => number;
}

export function fileopsPort({ store, storage, snapshot, run, nowMs }: FileOpsPortOptions): FileOpsPort {
  return {
    current: async (limit) => (await store.current(limit)).map(subscriptionJson),
    transferHistory: async (limit, since) =>
      (await store.transferHistory(limit, since * 1000)).map((r) => ({
        id: r.id,
        lfn: r.lfn,
        source: r.source,
        destination: r.destination,
        size: r.size,
        exit_code: r.exitCode,
        error: r.code,
        message: r.message,
        started: seconds(r.startedMs),
        finished: seconds(r.finishedMs),
      })),
    deletionHistory: async (limit, since) =>
      (await store.deletionHistory(limit, since * 1000)).map((r) => ({
        id: r.id,
        lfn: r.lfn,
        site: r.site,
        size: r.size,
        exit_code: r.exitCode,
        error: r.code,
        message: r.message,
        started: seconds(r.startedMs),
        finished: seconds(r.finishedMs),
      })),
    heldSummary: async () => await store.heldSummary(),
    heldDetail: async (limit) =>
      (await store.held(limit)).map((s) => ({ ...subscriptionJson(s), last_error: s.lastError })),
    files: async (f) =>
      (await store.filesOf(f)).map((s) => ({ ...subscriptionJson(s), last_error: s.lastError })),
    release: (ids) => store.release(ids, nowMs()),
    run,
    async lfn2pfn(siteName, lfn, protocol) {
      const site = snapshot().site(siteName);
      if (!site) throw new LfnError("site", `unknown site ${JSON.stringify(siteName)}`);
      let adapter;
      try {
        adapter = await storage.adapter({
          name: site.name,
          backend: site.backend,
          storageType: site.storageType,
        });
      } catch (e) {
        throw new LfnError("site", e instanceof Error ? e.message : String(e));
      }
      try {
        const chains = protocol !== undefined && site.filenameMappings[protocol]?.length;
        return adapter.url(mapLfn(site, lfn, chains ? protocol : mappingProtocol(adapter)));
      } catch (e) {
        if (e instanceof LfnMappingError) throw new LfnError("lfn", e.message);
        throw e;
      }
    },
  };
}
