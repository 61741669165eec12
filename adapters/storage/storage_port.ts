/**
 * What the file-operations layer needs from a storage site (spec §5;
 * docs/architecture.md). Paths are site-namespace paths ("/store/data/…"),
 * the result of the site's LFN → PFN mapping; each adapter confines them to
 * its root. Failures are StorageErrors carrying an errno-like code, which the
 * transfer layer classifies as recoverable or not.
 */
import { sitePathProblem } from "../../registry/inventory/site_path.ts";

export interface StorageCapabilities {
  readonly stat: boolean;
  readonly list: boolean;
  readonly read: boolean;
  readonly write: boolean;
  readonly delete: boolean;
  readonly checksum: boolean;
  readonly mkdir: boolean;
  /** The adapter can pull a file from another site of the same kind without passing the bytes through us. */
  readonly thirdPartyCopy: boolean;
  /** Files must be staged (brought online) before they can be read: tape. */
  readonly stage: boolean;
}

export interface StorageEntry {
  /** Site-namespace path. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly isDirectory: boolean;
}

/** What a written file must be; a mismatch fails the write and leaves nothing under the final name. */
export interface WriteExpectation {
  readonly size: number;
  /** Adler-32 hex; absent when the catalogue has none (size is still checked). */
  readonly adler32?: string;
}

export type StorageErrorCode =
  | "ENOENT"
  | "EEXIST"
  | "EACCES"
  | "EISDIR"
  | "ENOTDIR"
  | "ENOSPC"
  | "EINVAL"
  | "ECHECKSUM"
  | "ESIZE"
  | "ETIMEDOUT"
  | "ECONNREFUSED"
  | "ENOTSTAGED"
  | "EIO";

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(`${code}: ${path}: ${message}`);
    this.name = "StorageError";
  }
}

export interface StorageAdapter {
  readonly kind: "posix" | "xrootd" | "tape";
  readonly capabilities: StorageCapabilities;
  /** The PFN users and other tools would use for a path (file:///…, root://host:port//…). */
  url(path: string): string;
  /** null when nothing is there. */
  stat(path: string): Promise<StorageEntry | null>;
  /** Files (and, when recursive, files below sub-directories) under a directory; empty if it does not exist. */
  list(dir: string, options?: { recursive?: boolean }): AsyncIterable<StorageEntry>;
  read(path: string): Promise<ReadableStream<Uint8Array>>;
  /**
   * Writes under a temporary name, checks size and checksum, then renames:
   * a failure or a crash never leaves a partial file under the final name.
   * An existing file is replaced. Resolves only when the file is in place
   * inside the site root: the file-operations layer records a copy done on it.
   */
  write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void>;
  /**
   * Copies from another adapter the fastest way the pair allows (a kernel
   * copy between POSIX roots, a server-side read between XRootD endpoints),
   * with the same guarantees as write(); falls back to read() → write().
   */
  copyFrom(source: StorageAdapter, sourcePath: string, path: string, expect: WriteExpectation): Promise<void>;
  /** true when a file was removed, false when there was none. */
  delete(path: string): Promise<boolean>;
  /** Adler-32 hex of a stored file. */
  checksum(path: string): Promise<string>;
  /** Creates a directory and its parents. */
  mkdir(dir: string): Promise<void>;
  /** Removes an empty directory; false when it was not there. */
  rmdir(dir: string): Promise<boolean>;
  /** Tape: asks for a file to be brought online (idempotent). */
  stage?(path: string): Promise<void>;
  /** Tape: whether a file is online now. */
  isStaged?(path: string): Promise<boolean>;
}

/**
 * Checks a site-namespace path: absolute, no NUL or control characters, no
 * empty, "." or ".." segments. Returned normalized (no trailing slash).
 */
export function checkNamespacePath(path: string): string {
  if (typeof path !== "string") {
    throw new StorageError("EINVAL", String(path), "a site path must be a string");
  }
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  // The model's rule, so that an LFN the inventory accepted is a path every site accepts.
  const problem = sitePathProblem(trimmed);
  if (problem) throw new StorageError("EINVAL", JSON.stringify(path.slice(0, 256)), problem);
  return trimmed;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Which adapter serves a site (implemented by SiteStorage over the sites' backends). */
export interface SiteStorageResolver {
  adapter(site: { name: string; backend: string; storageType: string }): Promise<StorageAdapter>;
}

/** The LFN-mapping protocol a site's chains are written for. */
export function mappingProtocol(adapter: StorageAdapter): string {
  return adapter.kind === "xrootd" ? "xrootd" : "posix";
}

/** The inventory may hold "0A1B2C3D", "a1b2c3d" or "0x…": compare as numbers. */
export function sameAdler32(a: string, b: string): boolean {
  const parse = (s: string) => /^(0x)?[0-9a-f]{1,8}$/i.test(s) ? parseInt(s.replace(/^0x/i, ""), 16) : NaN;
  const x = parse(a);
  return !Number.isNaN(x) && x === parse(b);
}

/** What a disk site offers (tape adds staging; nobody offers third-party copy yet). */
export const DISK_CAPABILITIES: StorageCapabilities = Object.freeze({
  stat: true,
  list: true,
  read: true,
  write: true,
  delete: true,
  checksum: true,
  mkdir: true,
  thirdPartyCopy: false,
  stage: false,
});

/** Suffix of files being written; never listed, so never taken for orphans. */
export const PART_SUFFIX = ".dynamo-part";

/**
 * The temporary name beside a path, for temp-then-rename writes. One name per
 * file, not per attempt: a writer killed mid-copy leaves its part file, and the
 * re-run of the same task (only one worker holds it) writes over it instead of
 * leaving it behind for ever.
 */
export function temporaryName(path: string): string {
  return `${path}${PART_SUFFIX}`;
}

/** The check every write makes before its rename: the size, then (when known) the Adler-32. */
export async function verifyWritten(
  path: string,
  expect: WriteExpectation,
  size: number,
  checksum: () => Promise<string>,
): Promise<void> {
  if (size !== expect.size) {
    throw new StorageError("ESIZE", path, `size mismatch: wrote ${size} bytes, expected ${expect.size}`);
  }
  if (expect.adler32 === undefined) return;
  const sum = await checksum();
  if (!sameAdler32(sum, expect.adler32)) {
    throw new StorageError(
      "ECHECKSUM",
      path,
      `checksum mismatch: adler32 ${sum}, expected ${expect.adler32}`,
    );
  }
}
