/**
 * A storage site that is a directory root on a POSIX file system. Every
 * site path is confined to the root: lexically (checkNamespacePath) and
 * physically (the real path of whatever exists, symlinks resolved, must lie
 * under the root's real path), so neither ".." nor a symlink leads out.
 */
import { Adler32 } from "./adler32.ts";
import {
  checkNamespacePath,
  DISK_CAPABILITIES,
  parentOf,
  PART_SUFFIX,
  type StorageAdapter,
  type StorageCapabilities,
  type StorageEntry,
  StorageError,
  type StorageErrorCode,
  temporaryName,
  verifyWritten,
  type WriteExpectation,
} from "./storage_port.ts";

export class PosixStorage implements StorageAdapter {
  readonly kind: "posix" | "tape" = "posix";
  readonly capabilities: StorageCapabilities = DISK_CAPABILITIES;

  protected constructor(readonly root: string) {}

  /** The root must exist; it is used by its real path. */
  static async open(root: string): Promise<PosixStorage> {
    return new PosixStorage(await realRoot(root));
  }

  url(path: string): string {
    return `file://${this.root}${checkNamespacePath(path) === "/" ? "" : checkNamespacePath(path)}`;
  }

  /** The local path of a site path, after checking it stays inside the root. */
  async localPath(path: string): Promise<string> {
    const full = this.#lexical(path);
    await this.#confine(full, path);
    return full;
  }

  async stat(path: string): Promise<StorageEntry | null> {
    const full = await this.localPath(path);
    try {
      const info = await Deno.stat(full);
      return entry(checkNamespacePath(path), info);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw storageError(e, path);
    }
  }

  async *list(dir: string, options: { recursive?: boolean } = {}): AsyncIterable<StorageEntry> {
    const base = checkNamespacePath(dir);
    const full = await this.localPath(base);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(full));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw storageError(e, dir);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.endsWith(PART_SUFFIX) || this.hidden(e.name, base)) continue;
      const path = base === "/" ? `/${e.name}` : `${base}/${e.name}`;
      if (e.isSymlink) continue; // never follow links while listing: they may lead out of the root
      const info = await Deno.stat(`${full}/${e.name}`).catch(() => null);
      if (!info) continue; // removed while listing
      yield entry(path, info);
      if (info.isDirectory && options.recursive) yield* this.list(path, options);
    }
  }

  /** Names a subclass keeps for itself (the tape emulation's staging records). */
  protected hidden(_name: string, _dir: string): boolean {
    return false;
  }

  async read(path: string): Promise<ReadableStream<Uint8Array>> {
    const full = await this.localPath(path);
    try {
      const file = await Deno.open(full, { read: true });
      return file.readable;
    } catch (e) {
      throw storageError(e, path);
    }
  }

  async write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void> {
    await this.#writeVia(path, expect, async (tmp) => {
      const file = await Deno.open(tmp, { write: true, createNew: true });
      await data.pipeTo(file.writable);
    });
  }

  async copyFrom(
    source: StorageAdapter,
    sourcePath: string,
    path: string,
    expect: WriteExpectation,
  ): Promise<void> {
    if (!(source instanceof PosixStorage) || source.capabilities.stage) {
      await this.write(path, await source.read(sourcePath), expect);
      return;
    }
    const from = await source.localPath(sourcePath);
    // copy_file_range/sendfile in the kernel: the bytes never pass through JavaScript.
    await this.#writeVia(path, expect, (tmp) => Deno.copyFile(from, tmp));
  }

  async delete(path: string): Promise<boolean> {
    const full = await this.localPath(path);
    try {
      const info = await Deno.lstat(full);
      if (info.isDirectory) throw new StorageError("EISDIR", path, "is a directory");
      await Deno.remove(full);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw storageError(e, path);
    }
  }

  async checksum(path: string): Promise<string> {
    const full = await this.localPath(path);
    try {
      return await checksumOf(full);
    } catch (e) {
      throw storageError(e, path);
    }
  }

  async mkdir(dir: string): Promise<void> {
    const checked = checkNamespacePath(dir);
    await this.localPath(checked);
    try {
      await Deno.mkdir(this.#lexical(checked), { recursive: true });
    } catch (e) {
      throw storageError(e, dir);
    }
    await this.localPath(checked); // a symlink swapped in meanwhile is caught here
  }

  async rmdir(dir: string): Promise<boolean> {
    const checked = checkNamespacePath(dir);
    if (checked === "/") throw new StorageError("EINVAL", dir, "the site root cannot be removed");
    const full = await this.localPath(checked);
    try {
      const info = await Deno.lstat(full);
      if (!info.isDirectory) throw new StorageError("ENOTDIR", dir, "is not a directory");
      await Deno.remove(full);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw storageError(e, dir);
    }
  }

  async #writeVia(
    path: string,
    expect: WriteExpectation,
    fill: (tmp: string) => Promise<void>,
  ): Promise<void> {
    const checked = checkNamespacePath(path);
    if (checked === "/") throw new StorageError("EISDIR", path, "the site root is a directory");
    await this.mkdir(parentOf(checked));
    const final = this.#lexical(checked);
    const tmp = temporaryName(final);
    try {
      try {
        await Deno.remove(tmp).catch((e) => { // left by a killed writer of this file
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
        await fill(tmp);
      } catch (e) {
        throw storageError(e, path);
      }
      await verifyWritten(path, expect, (await Deno.stat(tmp)).size, () => checksumOf(tmp));
      await Deno.rename(tmp, final);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  #lexical(path: string): string {
    const checked = checkNamespacePath(path);
    return checked === "/" ? this.root : this.root + checked;
  }

  /** The real path of the deepest existing ancestor (or the file itself) must be inside the root. */
  async #confine(full: string, path: string): Promise<void> {
    let probe = full;
    for (;;) {
      try {
        const real = await Deno.realPath(probe);
        if (real !== this.root && !real.startsWith(this.root + "/")) {
          throw new StorageError("EACCES", path, "resolves outside the site root");
        }
        return;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound) || probe === this.root) {
          if (e instanceof StorageError) throw e;
          throw storageError(e, path);
        }
        probe = probe.slice(0, probe.lastIndexOf("/")) || "/";
      }
    }
  }
}

export async function realRoot(root: string): Promise<string> {
  if (typeof root !== "string" || !root.startsWith("/") || root.includes("\0")) {
    throw new StorageError("EINVAL", String(root), "a site root must be an absolute directory path");
  }
  try {
    const real = await Deno.realPath(root);
    if (!(await Deno.stat(real)).isDirectory) throw new StorageError("ENOTDIR", root, "is not a directory");
    return real;
  } catch (e) {
    if (e instanceof StorageError) throw e;
    throw storageError(e, root);
  }
}

/** Read in 1 MiB pieces: the stream's small default chunks cost more in calls than the sum itself. */
async function checksumOf(full: string): Promise<string> {
  const sum = new Adler32();
  using file = await Deno.open(full, { read: true });
  const buffer = new Uint8Array(1 << 20);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    sum.update(buffer.subarray(0, n));
  }
  return sum.hex();
}

function entry(path: string, info: Deno.FileInfo): StorageEntry {
  return {
    path,
    size: info.isDirectory ? 0 : info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    isDirectory: info.isDirectory,
  };
}

export function storageError(e: unknown, path: string): StorageError {
  if (e instanceof StorageError) return e;
  const message = e instanceof Error ? e.message : String(e);
  let code: StorageErrorCode = "EIO";
  if (e instanceof Deno.errors.NotFound) code = "ENOENT";
  else if (e instanceof Deno.errors.PermissionDenied) code = "EACCES";
  else if (e instanceof Deno.errors.AlreadyExists) code = "EEXIST";
  else if (e instanceof Deno.errors.IsADirectory) code = "EISDIR";
  else if (e instanceof Deno.errors.NotADirectory) code = "ENOTDIR";
  else if (/no space left/i.test(message)) code = "ENOSPC";
  return new StorageError(code, path, message);
}
