/**
 * The pure parts of copying a batch of files into one XRootD directory with a
 * single `xrdcp` (xrootd_storage.ts runs it): which paths may go in a batch,
 * and what the client tools' output says about each file. Every decision
 * about a file is made from what the server reported for that very file.
 */
import { parentOf, PART_SUFFIX, sameAdler32, StorageError, type StorageErrorCode } from "./storage_port.ts";

/**
 * Names that pass unchanged through a command line, a URL (no `?`, `#`, `%`:
 * xrdcp would read them as opaque data), an `xrdfs` session line (no blanks,
 * no quotes) and a local symlink name (with the suffix, within NAME_MAX).
 * Other paths take the one-file path, whose arguments are never split.
 */
export function batchablePath(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return /^(\/[A-Za-z0-9._+=,@-]+)+$/.test(path) && name.length + PART_SUFFIX.length <= 255;
}

/** One file of a batch: the final path (site-namespace) and what it must be. */
export interface BatchFile {
  readonly path: string;
  readonly size: number;
  readonly adler32: string;
}

/** What `xrdcp --cksum adler32:print` said about one target: the server's sum of what it wrote. */
export interface PrintedSum {
  readonly adler32: string;
  /** Bytes the client copied. */
  readonly size: number;
}

/**
 * Reads xrdcp's report: `adler32: 1a2b3c4 root://host:port/dir//name 4194304`
 * for each file copied (by the target's last name; all targets share a
 * directory), and `Job #N: [ERROR] …` for each file that failed (N counts the
 * sources from 1).
 */
export function parseXrdcpReport(
  text: string,
): { sums: Map<string, PrintedSum>; jobErrors: Map<number, string> } {
  const sums = new Map<string, PrintedSum>();
  const jobErrors = new Map<number, string>();
  for (const line of text.split("\n")) {
    const sum = /^adler32: ([0-9a-fA-F]{1,8}) \S*\/([^/\s]+) (\d+)\s*$/.exec(line);
    if (sum) sums.set(sum[2]!, { adler32: sum[1]!.toLowerCase().padStart(8, "0"), size: Number(sum[3]) });
    const job = /^Job #(\d+): (.*)$/.exec(line);
    if (job) jobErrors.set(Number(job[1]), job[2]!);
  }
  return { sums, jobErrors };
}

/** A file's entry in the output of `stat` commands of one `xrdfs` session. */
export interface StatBlock {
  readonly id: string;
  readonly size: number;
  readonly isDirectory: boolean;
  /** As printed: "2026-12-02 09:58:32" (UTC). */
  readonly mtime: string;
}

/**
 * Reads the `Path:`/`Id:`/`Size:`/`Flags:` blocks an `xrdfs` session prints
 * for its `stat` commands, by server path; a path that is not there prints
 * nothing on stdout (its error goes to stderr), so it is absent here.
 */
export function parseStatBlocks(stdout: string): Map<string, StatBlock> {
  const blocks = new Map<string, StatBlock>();
  let path: string | null = null;
  let block = { id: "", size: -1, isDirectory: false, mtime: "" };
  const close = () => {
    if (path !== null) blocks.set(path, block);
  };
  for (const line of stdout.split("\n")) {
    const field = /^(Path|Id|Size|Flags|MTime):\s+(.*?)\s*$/.exec(line);
    if (!field) continue;
    const [, name, value] = field as unknown as [string, string, string];
    if (name === "Path") {
      close();
      path = value;
      block = { id: "", size: -1, isDirectory: false, mtime: "" };
    } else if (name === "Id") block.id = value;
    else if (name === "Size") block.size = /^\d+$/.test(value) ? Number(value) : -1;
    else if (name === "Flags") block.isDirectory = /IsDir/.test(value);
    else block.mtime = value;
  }
  close();
  return blocks;
}

/**
 * The paths an `xrdfs` session's stderr says are not there
 * (`[3011] Unable to locate /a/b; no such file or directory`); for plain
 * paths (batchablePath) only, whose names hold no `;` nor blank.
 */
export function parseMissing(stderr: string): Set<string> {
  const missing = new Set<string>();
  for (const m of stderr.matchAll(/\[3011\] Unable to locate (\/[^;\s]*); no such file or directory/g)) {
    missing.add(m[1]!);
  }
  return missing;
}

/**
 * The verdict on a written temporary file before its rename: the server's
 * checksum and the client's byte count (from xrdcp), then the size the
 * server stats. Null when it may be renamed into place.
 */
export function writtenProblem(
  file: BatchFile,
  printed: PrintedSum,
  stat: StatBlock | undefined,
): StorageError | null {
  if (printed.size !== file.size || (stat && stat.size !== file.size)) {
    const wrote = stat && stat.size !== file.size ? stat.size : printed.size;
    return new StorageError("ESIZE", file.path, `size mismatch: wrote ${wrote} bytes, expected ${file.size}`);
  }
  if (!sameAdler32(printed.adler32, file.adler32)) {
    return new StorageError(
      "ECHECKSUM",
      file.path,
      `checksum mismatch: adler32 ${printed.adler32} (computed by the server), expected ${file.adler32}`,
    );
  }
  return null;
}

/**
 * A batch copies its files in parallel over one connection: it may take as
 * long as copying them one after another, so each file brings the one-file
 * timeout.
 */
export function batchTimeoutMs(copyMs: number, files: number): number {
  return copyMs * Math.max(1, files);
}

/**
 * Whether an xrdcp failure that reported nothing about any file fails every
 * file of the batch: a refused connection would fail each alone too, and so
 * would the timeout of a one-file batch (it had the one-file timeout). Any
 * other failure, a timeout of several files among them, sends each file to
 * be copied alone, which reports its own outcome.
 */
export function failsWholeBatch(code: StorageErrorCode, files: number): boolean {
  return code === "ECONNREFUSED" || (code === "ETIMEDOUT" && files === 1);
}

/** The directory a batch writes into: every file of a batch shares its parent. */
export function batchKey(path: string): string {
  return parentOf(path);
}
