/**
 * File-system calls confined to a directory root without races (Linux).
 *
 * A check on a path followed by a call on the same path is a race: between the
 * two, someone with write access inside the root can swap a directory for a
 * symlink to the outside (rename-exchange) and the call lands outside. So here
 * nothing is done by path. A site path is walked one name at a time from an
 * open directory with openat(O_NOFOLLOW | O_DIRECTORY): no symlink is followed
 * at any step, and each step opens a name inside the directory object the
 * previous step opened. The last name is acted on relative to that open
 * directory (unlinkat, renameat, mkdirat, openat with O_NOFOLLOW, or
 * O_CREAT | O_EXCL for new files). Deno has none of these calls, so they go to
 * libc through FFI; Deno's own calls (lstat, readDir, open) are pointed at an
 * open directory or file by its /proc/self/fd/N name, a "magic link" the kernel
 * resolves to the open object itself, not by looking a path up again.
 *
 * What is guaranteed, against anyone who can write inside the root and races us:
 * - Every object we create, write, replace, remove or read was reached from the
 *   root without following a symlink; symlinks inside a root are refused,
 *   whatever they point to. So nothing outside the root is touched through it.
 * - What remains: a directory we hold open can be moved out of the root
 *   meanwhile, by someone who can also write where it is moved to; the call in
 *   hand then acts in that directory (an entry the mover could change
 *   themselves). A written file is found again from the root after its rename
 *   and removed if it is not there (PosixStorage), so it is never reported
 *   done. A hard link is an entry inside the root: removing or replacing it
 *   never touches another name of the file (and protected_hardlinks limits
 *   links to files the linker may already read and write).
 * - Inside the root, names can still be swapped between two calls: a check
 *   and the act that follows may see different entries of the same directory.
 *
 * The metadata calls (openat, unlinkat, …) are synchronous on the calling
 * thread: microseconds on a local disk, but a hung network file system under a
 * root would stall the event loop. The data copy runs on another thread.
 */

const LINUX_ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  39: "ENOTEMPTY",
  40: "ELOOP",
  122: "EDQUOT",
};

const DESCRIPTION: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EEXIST: "already exists",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  ENOTEMPTY: "directory not empty",
  ELOOP: "is a symbolic link, which is never followed inside a site root",
  EAGAIN: "was replaced while it was opened",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  ENAMETOOLONG: "name too long",
};

/** A failed call, with the errno name (ENOENT, ELOOP, …) as its code. */
export class ConfinedFsError extends Error {
  constructor(readonly code: string, call: string, name: string) {
    super(`${call} ${JSON.stringify(name)}: ${DESCRIPTION[code] ?? code}`);
    this.name = "ConfinedFsError";
  }
}

// open(2) flags differ between architectures for O_DIRECTORY and O_NOFOLLOW.
const ARM = Deno.build.arch === "aarch64";
const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NONBLOCK = 0o4000;
const O_DIRECTORY = ARM ? 0o40000 : 0o200000;
const O_NOFOLLOW = ARM ? 0o100000 : 0o400000;
const O_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const DIR_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
/** O_NONBLOCK: a FIFO planted under a file's name must not block the open. */
const READ_FLAGS = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
/** O_EXCL never follows a symlink at the name and never opens what is there. */
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

const SYMBOLS = {
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  renameat: { parameters: ["i32", "buffer", "i32", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  copy_file_range: {
    parameters: ["i32", "pointer", "i32", "pointer", "usize", "u32"],
    result: "isize",
    nonblocking: true,
  },
} as const;

let loaded: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;

function libc(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (loaded) return loaded;
  if (Deno.build.os !== "linux") {
    throw new ConfinedFsError("ENOSYS", "confined file access needs Linux; this is", Deno.build.os);
  }
  loaded = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return loaded;
}

/** Read right after the failed call, before anything else on this thread can set it. */
function fail(call: string, name: string): never {
  const errno = new Deno.UnsafePointerView(libc().__errno_location()!).getInt32();
  throw new ConfinedFsError(LINUX_ERRNO[errno] ?? `errno ${errno}`, call, name);
}

const encoder = new TextEncoder();

/** One name inside a directory: the walk must never be handed "a/b", "..", a NUL, or a lone surrogate. */
function cName(name: string): Uint8Array<ArrayBuffer> {
  // Not well-formed (a lone surrogate) would be encoded as U+FFFD: another file's name.
  if (name === "" || name === "." || name === ".." || /[/\0]/.test(name) || !name.isWellFormed()) {
    throw new ConfinedFsError("EINVAL", "refused name", name);
  }
  return encoder.encode(`${name}\0`);
}

/** The name Deno's own calls use to reach an open descriptor's object. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

/** An open directory; names below it are resolved only through it. Close it (`using`) when done. */
export class ConfinedDir implements Disposable {
  #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** The root itself, by its absolute real path (trusted: it is the site's configuration). */
  static openRoot(root: string): ConfinedDir {
    const fd = libc().openat(AT_FDCWD, encoder.encode(`${root}\0`), DIR_FLAGS, 0);
    if (fd < 0) fail("open root", root);
    return new ConfinedDir(fd);
  }

  /** For Deno's calls on this directory (readDir) or an entry of it (`${path}/${name}`, never followed). */
  get path(): string {
    return fdPath(this.#fd);
  }

  entry(name: string): string {
    cName(name);
    return `${this.path}/${name}`;
  }

  /** The directory at `names` below this one, no symlink followed; missing ones are made when `create`. */
  walk(names: readonly string[], create = false): ConfinedDir {
    let fd = libc().openat(this.#fd, encoder.encode(".\0"), DIR_FLAGS, 0);
    if (fd < 0) fail("open", ".");
    try {
      for (const name of names) {
        const c = cName(name);
        let next = libc().openat(fd, c, DIR_FLAGS, 0);
        if (next < 0 && create && errnoName() === "ENOENT") {
          if (libc().mkdirat(fd, c, 0o777) < 0 && errnoName() !== "EEXIST") fail("mkdir", name);
          next = libc().openat(fd, c, DIR_FLAGS, 0); // a symlink swapped in after mkdir fails here
        }
        if (next < 0) {
          const code = errnoName();
          // O_DIRECTORY | O_NOFOLLOW says ENOTDIR for a symlink too: a symlink is refused as one, and a
          // directory there now was swapped in meanwhile (never "not there": the caller retries).
          throw new ConfinedFsError(
            code === "ENOTDIR" ? notDirectory(`${fdPath(fd)}/${name}`) : code,
            "open directory",
            name,
          );
        }
        libc().close(fd);
        fd = next;
      }
    } catch (e) {
      libc().close(fd);
      throw e;
    }
    return new ConfinedDir(fd);
  }

  /** A descriptor to read the file at `name`; a symlink there is ELOOP. The caller closes it. */
  openFile(name: string): number {
    const fd = libc().openat(this.#fd, cName(name), READ_FLAGS, 0);
    if (fd < 0) fail("open", name);
    return fd;
  }

  /** A new, empty file at `name`, write-only; EEXIST if anything (a symlink too) is there. The caller closes it. */
  createFile(name: string): number {
    const fd = libc().openat(this.#fd, cName(name), CREATE_FLAGS, 0o666);
    if (fd < 0) fail("create", name);
    return fd;
  }

  /** Removes the entry (a symlink itself, never its target); false when there was none. EISDIR for a directory. */
  unlink(name: string): boolean {
    if (libc().unlinkat(this.#fd, cName(name), 0) === 0) return true;
    if (errnoName() === "ENOENT") return false;
    fail("unlink", name);
  }

  /** Removes an empty directory entry; false when there was none. ENOTDIR for anything else. */
  rmdir(name: string): boolean {
    if (libc().unlinkat(this.#fd, cName(name), AT_REMOVEDIR) === 0) return true;
    if (errnoName() === "ENOENT") return false;
    fail("rmdir", name);
  }

  /** Renames within this directory; what `to` names (even a symlink) is replaced, never followed. */
  rename(from: string, to: string): void {
    if (libc().renameat(this.#fd, cName(from), this.#fd, cName(to)) !== 0) fail("rename", from);
  }

  close(): void {
    if (this.#fd < 0) return;
    libc().close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Why a name that O_DIRECTORY refused is not a directory; EAGAIN when it is one again. */
function notDirectory(path: string): string {
  try {
    const info = Deno.lstatSync(path);
    return info.isSymlink ? "ELOOP" : info.isDirectory ? "EAGAIN" : "ENOTDIR";
  } catch {
    return "EAGAIN";
  }
}

function errnoName(): string {
  const errno = new Deno.UnsafePointerView(libc().__errno_location()!).getInt32();
  return LINUX_ERRNO[errno] ?? `errno ${errno}`;
}

/**
 * Copies all of one open file into another in the kernel (copy_file_range,
 * on a worker thread). false when the kernel cannot do it for this pair (other
 * file systems, old kernels): the caller then copies through streams.
 */
export async function kernelCopy(fromFd: number, toFd: number): Promise<boolean> {
  for (;;) {
    const n = await libc().copy_file_range(fromFd, null, toFd, null, 1n << 30n, 0);
    if (n === 0n) return true;
    if (n < 0) return false;
  }
}
