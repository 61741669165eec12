/**
 * Which storage adapter serves a site, read from the site's inventory record:
 * its backend URL says where (`file:///srv/T2_A` a POSIX root,
 * `root://host:port//path` an XRootD endpoint) and its storage type says how
 * (`mss` with a file:// backend is the tape emulation, whose timing is given
 * as `?stage_seconds=…&pin_seconds=…`). Adapters are cached per backend.
 */
import { PosixStorage } from "./posix_storage.ts";
import { type SiteStorageResolver, type StorageAdapter, StorageError } from "./storage_port.ts";
import { TapeStorage, type TapeTiming } from "./tape_storage.ts";
import { XrootdStorage } from "./xrootd_storage.ts";

export interface SiteStorageRecord {
  readonly name: string;
  readonly backend: string;
  readonly storageType: string;
}

export const DEFAULT_TAPE_TIMING: TapeTiming = { stageSeconds: 600, pinSeconds: 36_000 };

/** Puts something around a site's adapter (the demo's fault injection); identity by default. */
export type WrapSiteAdapter = (site: SiteStorageRecord, adapter: StorageAdapter) => StorageAdapter;

export class SiteStorage implements SiteStorageResolver {
  readonly #cache = new Map<string, Promise<StorageAdapter>>();

  constructor(
    /** The service's clock (tape staging and pin times run on it). */
    private readonly nowMs: () => number,
    private readonly wrap: WrapSiteAdapter = (_site, adapter) => adapter,
  ) {}

  /** The adapter of a site; a site without a usable backend is a StorageError naming it. */
  adapter(site: SiteStorageRecord): Promise<StorageAdapter> {
    const key = `${site.name} ${site.storageType} ${site.backend}`;
    let adapter = this.#cache.get(key);
    if (!adapter) {
      adapter = openSiteStorage(site, this.nowMs).then((a) => this.wrap(site, a));
      adapter.catch(() => this.#cache.delete(key)); // a root created later is found on the next try
      this.#cache.set(key, adapter);
    }
    return adapter;
  }
}

export async function openSiteStorage(site: SiteStorageRecord, nowMs: () => number): Promise<StorageAdapter> {
  const backend = site.backend;
  if (backend.startsWith("root://")) return new XrootdStorage(backend);
  if (!backend.startsWith("file://")) {
    throw new StorageError(
      "EINVAL",
      site.name,
      `backend ${JSON.stringify(backend)} is not served: use file:///path or root://host:port//path`,
    );
  }
  let url: URL;
  try {
    url = new URL(backend);
  } catch {
    throw new StorageError("EINVAL", site.name, `backend ${JSON.stringify(backend)} is not a valid URL`);
  }
  if (url.host !== "") {
    // `file://.dynamo/x` is a relative path written as a URL: its first segment reads as a host.
    throw new StorageError(
      "EINVAL",
      site.name,
      `a file:// backend names an absolute path (file:///path) and no host, got ${JSON.stringify(backend)}`,
    );
  }
  const root = decodeURIComponent(url.pathname);
  if (site.storageType !== "mss") {
    if (url.search !== "") {
      throw new StorageError("EINVAL", site.name, "only tape (mss) backends take parameters");
    }
    return await PosixStorage.open(root);
  }
  const timing = { ...DEFAULT_TAPE_TIMING };
  for (const [key, value] of url.searchParams) {
    const n = Number(value);
    if (key === "stage_seconds") timing.stageSeconds = n;
    else if (key === "pin_seconds") timing.pinSeconds = n;
    else throw new StorageError("EINVAL", site.name, `unknown tape parameter ${JSON.stringify(key)}`);
  }
  return await TapeStorage.openTape(root, timing, nowMs);
}
