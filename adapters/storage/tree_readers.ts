/**
 * The fastest reader each kind of adapter allows: find for a POSIX root, xrdfs
 * for an XRootD endpoint, and the adapter's own list() for anything else (tape
 * emulation, adapters wrapped for fault injection).
 */
import type { TreeReader, TreeRecord } from "./listing_port.ts";
import { hostileReason, printable } from "./listing_names.ts";
import { PosixStorage } from "./posix_storage.ts";
import { PosixTreeReader } from "./posix_tree_reader.ts";
import { checkNamespacePath, type StorageAdapter } from "./storage_port.ts";
import { XrootdStorage } from "./xrootd_storage.ts";
import { XrootdTreeReader } from "./xrootd_tree_reader.ts";

export function treeReaderFor(adapter: StorageAdapter): TreeReader {
  if (adapter instanceof XrootdStorage) return new XrootdTreeReader(adapter);
  if (adapter instanceof PosixStorage && !adapter.capabilities.stage) return new PosixTreeReader(adapter);
  return new AdapterTreeReader(adapter);
}

/** Over StorageAdapter.list(), flat: the walker queues the subdirectories. */
export class AdapterTreeReader implements TreeReader {
  readonly kind = "adapter";
  readonly recursive = false;

  constructor(private readonly adapter: StorageAdapter) {}

  async *listTree(
    dir: string,
    options: { recursive: boolean; signal: AbortSignal },
  ): AsyncGenerator<TreeRecord[]> {
    const base = checkNamespacePath(dir);
    let batch: TreeRecord[] = [];
    for await (const e of this.adapter.list(base)) {
      options.signal.throwIfAborted();
      const reason = hostileReason(base, e.path);
      if (reason !== null) batch.push({ type: "hostile", path: printable(e.path), reason });
      else if (e.isDirectory) batch.push({ type: "dir", path: e.path, mtimeMs: e.mtimeMs });
      else batch.push({ type: "file", path: e.path, size: e.size, mtimeMs: e.mtimeMs });
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}
