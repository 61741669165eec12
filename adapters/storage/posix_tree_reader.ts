/**
 * Lists a POSIX site with GNU find: one process streams a whole subtree,
 * NUL-separated, so names with newlines cannot break records, and the stat of
 * every entry happens in C (Deno's per-file stat costs about six times
 * find's). find never follows symbolic links (its default -P); they come back
 * as hostile records. Directories find could not read arrive on stderr and
 * become `unreadable` records, so one bad directory does not lose a subtree.
 */
import type { TreeReader, TreeRecord } from "./listing_port.ts";
import { hostileReason, isPartFile, join, printable } from "./listing_names.ts";
import type { PosixStorage } from "./posix_storage.ts";
import { checkNamespacePath, StorageError } from "./storage_port.ts";

const RECORD = "%y\\0%s\\0%T@\\0%P\\0";
const EMPTY_DIR = "e\\0%T@\\0%P\\0";
const MAX_STDERR = 1 << 20;

export class PosixTreeReader implements TreeReader {
  readonly kind = "posix";
  readonly recursive = true;

  constructor(private readonly storage: PosixStorage) {}

  async *listTree(
    dir: string,
    options: { recursive: boolean; signal: AbortSignal },
  ): AsyncGenerator<TreeRecord[]> {
    const base = checkNamespacePath(dir);
    // find is given our open descriptor of the directory (-H follows that one name only), never the path:
    // a symlink swapped in at the path cannot lead the listing out of the root.
    const opened = this.storage.openLocalDir(base);
    if (opened === null) return;
    try {
      yield* this.#find(opened.path, base, options);
    } finally {
      opened.close();
    }
  }

  async *#find(
    full: string,
    base: string,
    options: { recursive: boolean; signal: AbortSignal },
  ): AsyncGenerator<TreeRecord[]> {
    options.signal.throwIfAborted();
    const args = [
      "-H",
      full,
      "-mindepth",
      "1",
      ...(options.recursive ? [] : ["-maxdepth", "1"]),
      "(",
      "-type",
      "d",
      "-empty",
      "-printf",
      EMPTY_DIR,
      ")",
      "-o",
      "-printf",
      RECORD,
    ];
    const child = new Deno.Command("find", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
      signal: options.signal,
    }).spawn();
    const stderr = boundedText(child.stderr);
    const parser = new FindOutputParser(base, options.recursive);
    try {
      for await (const chunk of child.stdout) {
        const batch = parser.push(chunk);
        if (batch.length > 0) yield batch;
      }
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    const status = await child.status;
    options.signal.throwIfAborted();
    const errors = await stderr;
    if (status.success) return;
    const unreadable = findErrors(errors, full, base, options.recursive);
    if (unreadable === null) {
      throw new StorageError("EIO", base, `find failed: ${errors.trim().slice(0, 300)}`);
    }
    if (unreadable.length > 0) yield unreadable;
  }
}

/**
 * Maps find's error lines (LC_ALL=C: `find: '/root/a/b': Permission denied`)
 * to records; throws when the start directory itself failed. null when a line
 * cannot be placed in the recursive case: then which subtree is incomplete is
 * unknown, and the caller lists the directory again, flat.
 */
function findErrors(text: string, full: string, base: string, recursive: boolean): TreeRecord[] | null {
  const out: TreeRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^find: '(.*)': (.*)$/.exec(line);
    if (m && m[1] === full) throw new StorageError(/denied/i.test(m[2]!) ? "EACCES" : "EIO", base, m[2]!);
    if (!recursive) continue; // a child's own listing will report it
    if (!m || !m[1]!.startsWith(full + "/")) return null;
    const path = join(base, m[1]!.slice(full.length + 1));
    if (hostileReason(base, path) !== null) return null;
    out.push({ type: "unreadable", path, reason: m[2]! });
  }
  return out;
}

/** Splits find's NUL-separated output into records, across chunk boundaries. */
export class FindOutputParser {
  #rest: Uint8Array = new Uint8Array(0);
  #fields: string[] = [];
  readonly #decoder = new TextDecoder();

  constructor(private readonly base: string, private readonly recursive: boolean) {}

  push(chunk: Uint8Array): TreeRecord[] {
    let bytes = chunk;
    if (this.#rest.length > 0) {
      bytes = new Uint8Array(this.#rest.length + chunk.length);
      bytes.set(this.#rest);
      bytes.set(chunk, this.#rest.length);
    }
    const last = bytes.lastIndexOf(0);
    if (last < 0) {
      this.#rest = bytes;
      return [];
    }
    // A NUL is never inside a UTF-8 sequence, so decoding up to it never splits a character.
    const parts = this.#decoder.decode(bytes.subarray(0, last)).split("\0");
    this.#rest = bytes.slice(last + 1);
    const fields = this.#fields.length > 0 ? this.#fields.concat(parts) : parts;
    const out: TreeRecord[] = [];
    let i = 0;
    for (;;) {
      const kind = fields[i];
      const need = kind === "e" ? 3 : 4;
      if (kind === undefined || i + need > fields.length) break;
      const record = kind === "e"
        ? this.#record("e", 0, fields[i + 1]!, fields[i + 2]!)
        : this.#record(kind, Number(fields[i + 1]), fields[i + 2]!, fields[i + 3]!);
      if (record) out.push(record);
      i += need;
    }
    this.#fields = fields.slice(i);
    return out;
  }

  #record(kind: string, size: number, mtime: string, rel: string): TreeRecord | null {
    const path = join(this.base, rel);
    const reason = hostileReason(this.base, path);
    if (reason !== null) return { type: "hostile", path: printable(path), reason };
    const mtimeMs = Math.round(Number(mtime) * 1000);
    switch (kind) {
      case "f":
        return isPartFile(path) ? null : { type: "file", path, size, mtimeMs };
      case "e":
        return { type: "dir", path, mtimeMs, empty: true };
      case "d":
        return this.recursive ? { type: "dir", path, mtimeMs, empty: false } : { type: "dir", path, mtimeMs };
      case "l":
        return { type: "hostile", path, reason: "symbolic link; not followed" };
      default:
        return { type: "hostile", path, reason: `not a regular file or directory (find type ${kind})` };
    }
  }
}

async function boundedText(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    if (text.length < MAX_STDERR) text += decoder.decode(chunk, { stream: true });
  }
  return text;
}
