/**
 * A storage site that is a directory root on a POSIX file system. Every
 * site path is confined to the root: lexically (checkNamespacePath) and
 * physically, without races: each operation walks the path from the root
 * one name at a time, never following a symlink, and acts on the objects it
 * opened rather than on the path again (confined_fs.ts says what that
 * guarantees). A written file is renamed into place and then found again from
 * the root before the write counts as done.
 */
import { closeFd, ConfinedDir, ConfinedFsError, fdPath, kernelCopy } from "./confined_fs.ts";
import { fileAdler32 } from "./fast_adler32.ts";
import {
  checkNamespacePath,
  DISK_CAPABILITIES,
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

  /** The checked site path; a subclass refuses more (the tape emulation's own records). */
  protected checkPath(path: string): string {
    return checkNamespacePath(path);
  }

  /**
   * Lends another program (xrdcp) the file at a path by the name of our open
   * descriptor, /proc/PID/fd/N: it reads the very file opened here without
   * following links, whatever is swapped in at the path meanwhile.
   */
  async withLocalFile<T>(path: string, use: (localPath: string) => Promise<T>): Promise<T> {
    const fd = this.#openRead(this.checkPath(path), path);
    try {
      await regularFile(fd, path);
      return await use(`/proc/${Deno.pid}/fd/${fd}`);
    } finally {
      closeFd(fd);
    }
  }

  /**
   * Opens the directory at a path for another program (find, for a consistency listing) by the name of
   * our open descriptor, /proc/PID/fd/N, reached without following links: whatever is swapped in at the
   * path meanwhile, the program lists the directory checked here. Null when it is not there.
   */
  openLocalDir(path: string): { readonly path: string; close(): void } | null {
    const base = this.checkPath(path);
    let opened: ConfinedDir;
    try {
      opened = this.#dir(segmentsOf(base));
    } catch (e) {
      if (missing(e)) return null;
      throw storageError(e, path);
    }
    return { path: opened.path.replace("/proc/self/", `/proc/${Deno.pid}/`), close: () => opened.close() };
  }

  stat(path: string): Promise<StorageEntry | null> {
    try {
      return Promise.resolve(this.#stat(path));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #stat(path: string): StorageEntry | null {
    const checked = this.checkPath(path);
    try {
      if (checked === "/") {
        using root = this.#dir([]);
        return entry(checked, Deno.statSync(root.path));
      }
      // Synchronous, as the walk to the directory is: a thread hop costs more than the call itself.
      const [parent, name] = splitPath(checked);
      using dir = this.#dir(parent);
      const info = Deno.lstatSync(dir.entry(name));
      if (info.isSymlink) throw symlinkError(path);
      return entry(checked, info);
    } catch (e) {
      if (missing(e)) return null;
      throw storageError(e, path);
    }
  }

  async *list(dir: string, options: { recursive?: boolean } = {}): AsyncIterable<StorageEntry> {
    const base = this.checkPath(dir);
    let opened: ConfinedDir;
    try {
      opened = this.#dir(segmentsOf(base));
    } catch (e) {
      if (missing(e)) return;
      throw storageError(e, dir);
    }
    using d = opened;
    yield* this.#listIn(d, base, options.recursive ?? false);
  }

  async *#listIn(d: ConfinedDir, base: string, recursive: boolean): AsyncIterable<StorageEntry> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d.path));
    } catch (e) {
      throw storageError(e, base);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.endsWith(PART_SUFFIX) || this.hidden(e.name, base)) continue;
      const path = base === "/" ? `/${e.name}` : `${base}/${e.name}`;
      if (e.isSymlink) continue; // never follow links while listing: they may lead out of the root
      // lstat: a symlink swapped in since readDir is seen as one, not followed. A name that is not
      // valid UTF-8 comes back from readDir altered, so it is not found and not listed.
      const info = await Deno.lstat(d.entry(e.name)).catch(() => null);
      if (!info || info.isSymlink) continue; // removed or replaced while listing
      yield entry(path, info);
      if (!info.isDirectory || !recursive) continue;
      let sub: ConfinedDir;
      try {
        sub = d.walk([e.name]);
      } catch (err) {
        if (err instanceof ConfinedFsError && ["ENOENT", "ENOTDIR", "ELOOP"].includes(err.code)) continue;
        throw storageError(err, path);
      }
      using s = sub;
      yield* this.#listIn(s, path, recursive);
    }
  }

  /** Names a subclass keeps for itself (the tape emulation's staging records). */
  protected hidden(_name: string, _dir: string): boolean {
    return false;
  }

  async read(path: string): Promise<ReadableStream<Uint8Array>> {
    const checked = this.checkPath(path);
    const fd = this.#openRead(checked, path);
    try {
      return (await reopenFile(fd, path)).readable;
    } finally {
      closeFd(fd);
    }
  }

  async write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void> {
    await this.#writeVia(path, expect, async (out) => {
      const file = await Deno.open(fdPath(out), { write: true });
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
    const from = source.#openRead(source.checkPath(sourcePath), sourcePath);
    try {
      await this.#writeVia(path, expect, async (out) => {
        // copy_file_range in the kernel: the bytes never pass through JavaScript.
        if (await kernelCopy(from, out)) return;
        using input = await reopenFile(from, sourcePath);
        const output = await Deno.open(fdPath(out), { write: true, truncate: true });
        await input.readable.pipeTo(output.writable);
      });
    } finally {
      closeFd(from);
    }
  }

  async delete(path: string): Promise<boolean> {
    const checked = this.checkPath(path);
    if (checked === "/") throw new StorageError("EISDIR", path, "is a directory");
    const [parent, name] = splitPath(checked);
    try {
      using dir = this.#dir(parent);
      // Refused, not removed: a symlink is not a replica's file. If one is swapped in after this
      // look, unlinkat removes the link itself, never what it points to.
      if ((await Deno.lstat(dir.entry(name))).isSymlink) throw symlinkError(path);
      return dir.unlink(name);
    } catch (e) {
      if (missing(e)) return false;
      throw storageError(e, path);
    }
  }

  async checksum(path: string): Promise<string> {
    const checked = this.checkPath(path);
    const fd = this.#openRead(checked, path);
    try {
      using file = await reopenFile(fd, path);
      return await checksumOf(file);
    } catch (e) {
      throw storageError(e, path);
    } finally {
      closeFd(fd);
    }
  }

  mkdir(dir: string): Promise<void> {
    try {
      this.#dir(segmentsOf(this.checkPath(dir)), true).close();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(storageError(e, dir));
    }
  }

  async rmdir(dir: string): Promise<boolean> {
    const checked = this.checkPath(dir);
    if (checked === "/") throw new StorageError("EINVAL", dir, "the site root cannot be removed");
    const [parent, name] = splitPath(checked);
    let opened: ConfinedDir;
    let info: Deno.FileInfo;
    try {
      opened = this.#dir(parent);
    } catch (e) {
      if (missing(e)) return false;
      throw storageError(e, dir);
    }
    using d = opened;
    try {
      info = await Deno.lstat(d.entry(name));
    } catch (e) {
      if (missing(e)) return false;
      throw storageError(e, dir);
    }
    if (info.isSymlink) throw symlinkError(dir);
    if (!info.isDirectory) throw new StorageError("ENOTDIR", dir, "is not a directory");
    try {
      return d.rmdir(name); // a symlink swapped in meanwhile is ENOTDIR, never followed
    } catch (e) {
      throw storageError(e, dir);
    }
  }

  /** Opens under the root; names are the checked path's segments, none followed if a symlink. */
  #dir(names: readonly string[], create = false): ConfinedDir {
    using root = ConfinedDir.openRoot(this.root);
    return root.walk(names, create);
  }

  /** A descriptor on the regular file at a checked path (the caller closes it). */
  #openRead(checked: string, path: string): number {
    if (checked === "/") throw new StorageError("EISDIR", path, "the site root is a directory");
    const [parent, name] = splitPath(checked);
    try {
      using dir = this.#dir(parent);
      return dir.openFile(name);
    } catch (e) {
      throw storageError(e, path);
    }
  }

  /** Records and such of a subclass, at paths checkPath refuses: written whole, then renamed. */
  protected async writeInternal(names: readonly string[], text: string): Promise<void> {
    const [parent, name] = [names.slice(0, -1), names[names.length - 1]!];
    using dir = this.#dir(parent, true);
    const tmp = `${name}.${crypto.randomUUID()}${PART_SUFFIX}`;
    const fd = dir.createFile(tmp);
    try {
      const file = await Deno.open(fdPath(fd), { write: true });
      await ReadableStream.from([new TextEncoder().encode(text)]).pipeTo(file.writable);
      dir.rename(tmp, name);
    } catch (e) {
      try {
        dir.unlink(tmp);
      } catch { /* never listed: PART_SUFFIX */ }
      throw storageError(e, names.join("/"));
    } finally {
      closeFd(fd);
    }
  }

  /** The text at an internal path, or null when it is not there (or not a plain file). */
  protected async readInternal(names: readonly string[]): Promise<string | null> {
    try {
      const fd = this.#openRead("/" + names.join("/"), names.join("/"));
      try {
        using file = await reopenFile(fd, names.join("/"));
        return new TextDecoder().decode(await new Response(file.readable).arrayBuffer());
      } finally {
        closeFd(fd);
      }
    } catch {
      return null;
    }
  }

  protected makeInternalDir(names: readonly string[]): Promise<void> {
    try {
      this.#dir(names, true).close();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(storageError(e, names.join("/")));
    }
  }

  protected removeInternal(names: readonly string[]): void {
    try {
      using dir = this.#dir(names.slice(0, -1));
      dir.unlink(names[names.length - 1]!);
    } catch {
      // not there: nothing to remove
    }
  }

  /**
   * Fills a new file under the temporary name (created exclusively, so nothing
   * already there is followed or opened), checks size and checksum on the open
   * file, renames it into place within the same open directory, and then finds
   * it again from the root: only the file we wrote, at its real path inside
   * the root, makes the write succeed. If it is not there (its directory was
   * moved meanwhile), it is removed and the write fails.
   */
  async #writeVia(
    path: string,
    expect: WriteExpectation,
    fill: (out: number) => Promise<void>,
  ): Promise<void> {
    const checked = this.checkPath(path);
    if (checked === "/") throw new StorageError("EISDIR", path, "the site root is a directory");
    const [parent, name] = splitPath(checked);
    const tmp = temporaryName(name);
    let dir: ConfinedDir;
    let out: number;
    try {
      dir = this.#dir(parent, true);
    } catch (e) {
      throw storageError(e, path);
    }
    using d = dir;
    try {
      d.unlink(tmp); // left by a killed writer of this file
      out = d.createFile(tmp);
    } catch (e) {
      throw storageError(e, path);
    }
    let renamed = false;
    try {
      try {
        await fill(out);
      } catch (e) {
        throw storageError(e, path);
      }
      // Our own temporary file (createFile made it regular); the metadata calls are synchronous: a thread
      // hop for each cost more than the call on a local file system, ~1 ms per file under load.
      using written = Deno.openSync(fdPath(out), { read: true });
      const info = written.statSync();
      await verifyWritten(path, expect, info.size, () => checksumOf(written));
      d.rename(tmp, name);
      renamed = true;
      if (!this.#isAt(parent, name, info)) {
        const there = await Deno.lstat(d.entry(name)).catch(() => null);
        if (there && sameFile(there, info)) d.unlink(name);
        throw new StorageError("EIO", path, "the written file left its place inside the site root; removed");
      }
    } catch (e) {
      if (!renamed) {
        try {
          d.unlink(tmp);
        } catch { /* best effort: a part file is never listed and is written over next time */ }
      }
      throw storageError(e, path);
    } finally {
      closeFd(out);
    }
  }

  /** Whether the file at parent/name, walked again from the root, is this very file. */
  #isAt(parent: readonly string[], name: string, file: Deno.FileInfo): boolean {
    try {
      using dir = this.#dir(parent);
      return sameFile(Deno.lstatSync(dir.entry(name)), file);
    } catch {
      return false;
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

/** A Deno file on the object an open descriptor holds. */
async function reopenFile(fd: number, path: string): Promise<Deno.FsFile> {
  await regularFile(fd, path);
  return await Deno.open(fdPath(fd), { read: true });
}

/** Only regular files are read: opening a FIFO again would block, and a directory is no file. */
async function regularFile(fd: number, path: string): Promise<void> {
  const info = await Deno.stat(fdPath(fd));
  if (info.isDirectory) throw new StorageError("EISDIR", path, "is a directory");
  if (!info.isFile) throw new StorageError("EINVAL", path, "is not a regular file");
}

/** Native or WebAssembly Adler-32, reading the next piece while the last is summed (fast_adler32.ts). */
async function checksumOf(file: Deno.FsFile): Promise<string> {
  return (await fileAdler32(file)).adler32;
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.isFile && a.ino !== null && a.ino === b.ino && a.dev === b.dev;
}

function segmentsOf(checked: string): string[] {
  return checked === "/" ? [] : checked.slice(1).split("/");
}

function splitPath(checked: string): [string[], string] {
  const segments = segmentsOf(checked);
  return [segments.slice(0, -1), segments[segments.length - 1]!];
}

/** Not there: no entry, or a parent that is missing or not a directory. */
function missing(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound ||
    (e instanceof ConfinedFsError && (e.code === "ENOENT" || e.code === "ENOTDIR"));
}

function symlinkError(path: string): StorageError {
  return new StorageError("EACCES", path, "is a symbolic link, which is never followed inside a site root");
}

function entry(path: string, info: Deno.FileInfo): StorageEntry {
  return {
    path,
    size: info.isDirectory ? 0 : info.size,
    mtimeMs: info.mtime?.getTime() ?? 0,
    isDirectory: info.isDirectory,
  };
}

const CONFINED_CODES: Record<string, StorageErrorCode> = {
  ENOENT: "ENOENT",
  EEXIST: "EEXIST",
  EACCES: "EACCES",
  EPERM: "EACCES",
  ELOOP: "EACCES",
  EISDIR: "EISDIR",
  ENOTDIR: "ENOTDIR",
  ENOSPC: "ENOSPC",
  EDQUOT: "ENOSPC",
  EINVAL: "EINVAL",
  ENAMETOOLONG: "EINVAL",
};

export function storageError(e: unknown, path: string): StorageError {
  if (e instanceof StorageError) return e;
  const message = e instanceof Error ? e.message : String(e);
  let code: StorageErrorCode = "EIO";
  if (e instanceof ConfinedFsError) code = CONFINED_CODES[e.code] ?? "EIO";
  else if (e instanceof Deno.errors.NotFound) code = "ENOENT";
  else if (e instanceof Deno.errors.PermissionDenied) code = "EACCES";
  else if (e instanceof Deno.errors.AlreadyExists) code = "EEXIST";
  else if (e instanceof Deno.errors.IsADirectory) code = "EISDIR";
  else if (e instanceof Deno.errors.NotADirectory) code = "ENOTDIR";
  else if (/no space left/i.test(message)) code = "ENOSPC";
  else if (/name too long/i.test(message)) code = "EINVAL";
  return new StorageError(code, path, message);
}
