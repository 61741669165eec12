/** The registry's view of file operations: the store's rows, a pass of the agent, and LFN → PFN. */
import type { FileOpsStore } from "../adapters/db/fileops_store_port.ts";
import type { SiteStorage } from "../adapters/storage/site_storage.ts";
import { mappingProtocol } from "../adapters/storage/storage_port.ts";
import { type FileOperations, type JsonRow, LfnError } from "../registry/http/file_operations.ts";
import { LfnMappingError, mapLfn, type Snapshot } from "../registry/inventory/mod.ts";

export interface FileOperationsOptions {
  store: FileOpsStore;
  storage: SiteStorage;
  snapshot: () => Snapshot;
  /** One pass now. */
  run: () => Promise<JsonRow | { error: string }>;
  nowMs: () => number;
}

export function fileOperations(
  { store, storage, snapshot, run, nowMs }: FileOperationsOptions,
): FileOperations {
  return {
    current: (limit) => store.current(limit),
    transferHistory: (limit, since) => store.transferHistory(limit, since * 1000),
    deletionHistory: (limit, since) => store.deletionHistory(limit, since * 1000),
    heldSummary: () => store.heldSummary(),
    heldDetail: (limit) => store.held(limit),
    files: (f) => store.filesOf(f),
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
