/** Walks sites through their storage adapters (the SiteLister the consistency checks use). */
import type { SiteLister, SiteWalk, TreeReader, WalkSettings } from "./listing_port.ts";
import { walkSite } from "./site_walker.ts";
import type { SiteStorageResolver, StorageAdapter } from "./storage_port.ts";
import { treeReaderFor } from "./tree_readers.ts";

export class StorageSiteLister implements SiteLister {
  constructor(
    private readonly storage: SiteStorageResolver,
    private readonly readerFor: (adapter: StorageAdapter) => TreeReader = treeReaderFor,
  ) {}

  async walk(
    site: { name: string; backend: string; storageType: string },
    options: {
      roots: readonly string[];
      skip?: (dir: string) => boolean;
      settings?: Partial<WalkSettings>;
      signal?: AbortSignal;
    },
  ): Promise<SiteWalk> {
    const adapter = await this.storage.adapter(site);
    return walkSite(this.readerFor(adapter), options);
  }
}
