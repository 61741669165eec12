/**
 * A storage site behind an XRootD endpoint (`root://host:port//base`), driven
 * with the XRootD client tools `xrdfs` and `xrdcp` (Debian: xrootd-client).
 * Every call is a child process with a timeout; its error text is mapped to
 * the errno-like codes the transfer layer classifies. A process start costs
 * as much as a small copy, so calls made at the same time share one: copies
 * from a local site to one directory go in one `xrdcp` (#copyBatch), stats in
 * one `xrdfs` session (#statBatch).
 */
import { BatchQueue } from "./batch_queue.ts";
import { PosixStorage } from "./posix_storage.ts";
import {
  batchablePath,
  type BatchFile,
  batchKey,
  batchTimeoutMs,
  failsWholeBatch,
  parseMissing,
  parseStatBlocks,
  parseXrdcpReport,
  type StatBlock,
  writtenProblem,
} from "./xrootd_batch.ts";
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

export interface XrootdEndpoint {
  /** host:port */
  readonly host: string;
  /** Server-side directory that is the site's "/" ("" for the export root). */
  readonly base: string;
}

/** Parses `root://host[:port]//base`; anything else is a clear error. */
export function parseXrootdUrl(url: string): XrootdEndpoint {
  const m = /^root:\/\/([A-Za-z0-9.\-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?\/(\/.*)?$/.exec(url);
  if (!m) throw new StorageError("EINVAL", url, "an XRootD site must look like root://host:port//path");
  const port = m[2] === undefined ? 1094 : Number(m[2]);
  if (port < 1 || port > 65535) throw new StorageError("EINVAL", url, "port out of range");
  if (m[3]?.includes("?")) throw new StorageError("EINVAL", url, 'an XRootD site path cannot hold "?"');
  const base = m[3] === undefined || m[3] === "/" ? "" : checkNamespacePath(m[3]);
  return { host: `${m[1]}:${port}`, base };
}

export interface XrootdOptions {
  /** Seconds for metadata calls (stat, ls, rm, query). */
  metadataTimeoutS?: number;
  /** Seconds for one file copy (a batch of files copied by one xrdcp gets this per file). */
  copyTimeoutS?: number;
  /** Most files one xrdcp copies from a local site (default 8); 1 copies file by file, without batches. */
  batchFiles?: number;
  /** Most batches running at once (default 2); more copies wait and go together in the next. */
  batchesAtOnce?: number;
}

/** One local file waiting for its batch. */
interface LocalCopy {
  /** /proc/PID/fd/N of the opened source file. */
  readonly local: string;
  readonly file: BatchFile;
}

/**
 * What a batch says of one file: in place; failed (the error is the file's
 * own); written and verified under its temporary name, whose server id is
 * `id`, but not renamed (the final name was taken: the one-file rename
 * replaces it); or not known (the one-file path copies it again and reports
 * its own error).
 */
type BatchOutcome =
  | { readonly kind: "done" }
  | { readonly kind: "failed"; readonly error: StorageError }
  | { readonly kind: "verified"; readonly id: string }
  | { readonly kind: "unknown" };

export class XrootdStorage implements StorageAdapter {
  readonly kind = "xrootd" as const;
  readonly capabilities: StorageCapabilities = DISK_CAPABILITIES;
  readonly endpoint: XrootdEndpoint;
  readonly #metadataMs: number;
  readonly #copyMs: number;
  readonly #batches: BatchQueue<LocalCopy, BatchOutcome>;
  readonly #stats: BatchQueue<string, StatBlock | null | undefined>;
  readonly #batching: boolean;
  readonly #started = { xrdcp: 0, xrdfs: 0 };
  /** The last copy to each destination path (settled, never rejected), which the next one waits for. */
  readonly #copying = new Map<string, Promise<void>>();

  constructor(url: string, options: XrootdOptions = {}) {
    this.endpoint = parseXrootdUrl(url);
    this.#metadataMs = (options.metadataTimeoutS ?? 60) * 1000;
    this.#copyMs = (options.copyTimeoutS ?? 3600) * 1000;
    this.#batching = (options.batchFiles ?? 8) > 1;
    this.#batches = new BatchQueue({
      maxBatch: options.batchFiles ?? 8,
      maxRunning: options.batchesAtOnce ?? 2,
      run: (dir, copies) => this.#copyBatch(dir, copies),
    });
    this.#stats = new BatchQueue({
      maxBatch: 64,
      maxRunning: options.batchesAtOnce ?? 2,
      run: (_, paths) => this.#statBatch(paths),
    });
  }

  /** Client processes started so far, by tool (what a copy costs; the bench reports it per file). */
  clientProcesses(): { readonly xrdcp: number; readonly xrdfs: number } {
    return { ...this.#started };
  }

  url(path: string): string {
    return `root://${this.endpoint.host}/${this.#server(path)}`;
  }

  /**
   * Stats that run at the same time (a link's tasks each look at their
   * destination first) share one xrdfs session when their names are plain.
   */
  async stat(path: string): Promise<StorageEntry | null> {
    const server = this.#server(path);
    if (this.#batching && batchablePath(server)) {
      const found = await this.#stats.submit("", server);
      if (found === null) return null;
      if (found !== undefined) {
        return {
          path: checkNamespacePath(path),
          size: found.size,
          mtimeMs: parseXrootdTime(found.mtime),
          isDirectory: found.isDirectory,
        };
      }
    }
    const out = await this.#xrdfs(["stat", server], path, { missingOk: true });
    if (out === null) return null;
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(out)?.[1]?.trim() ?? "";
    return {
      path: checkNamespacePath(path),
      size: Number(field("Size")) || 0,
      mtimeMs: parseXrootdTime(field("MTime")),
      isDirectory: /IsDir/.test(field("Flags")),
    };
  }

  async *list(dir: string, options: { recursive?: boolean } = {}): AsyncIterable<StorageEntry> {
    const args = ["ls", "-l", ...(options.recursive ? ["-R"] : []), this.#server(dir)];
    const out = await this.#xrdfs(args, dir, { missingOk: true });
    if (out === null) return;
    const entries: StorageEntry[] = [];
    for (const line of out.split("\n")) {
      // drwxr-xr-x owner group 4096 2026-11-25 04:07:20 /base/a/b
      const m = /^([d-])\S*\s+\S+\s+\S+\s+(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\/.*)$/.exec(line);
      if (!m) continue;
      const local = this.#local(m[4]!);
      if (local === null || local.endsWith(PART_SUFFIX)) continue;
      entries.push({
        path: local,
        size: Number(m[2]),
        mtimeMs: parseXrootdTime(m[3]!),
        isDirectory: m[1] === "d",
      });
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    yield* entries;
  }

  read(path: string): Promise<ReadableStream<Uint8Array>> {
    this.#started.xrdcp++;
    const child = new Deno.Command("xrdcp", {
      args: ["-s", "-f", this.url(path), "-"],
      stdout: "piped",
      stderr: "piped",
      env: CLIENT_ENV,
      signal: AbortSignal.timeout(this.#copyMs),
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // The exit status arrives after the last byte: a failed read errors the stream at its end.
    return Promise.resolve(child.stdout.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        async flush() {
          const status = await child.status;
          if (!status.success) throw xrootdError(await stderr, path);
        },
      }),
    ));
  }

  write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void> {
    return this.#oneAtATime(path, () => this.#write(path, data, expect));
  }

  /**
   * Runs the writes to one destination path one after another, in the order
   * they were asked: they share its temporary name, so two at once could move
   * a half-written file into place.
   */
  #oneAtATime(path: string, copy: () => Promise<void>): Promise<void> {
    let key = path;
    try {
      key = checkNamespacePath(path);
    } catch { /* copy() refuses it with its own error */ }
    const result = (this.#copying.get(key) ?? Promise.resolve()).then(copy);
    const settled = result.then(() => {}, () => {});
    this.#copying.set(key, settled);
    settled.then(() => {
      if (this.#copying.get(key) === settled) this.#copying.delete(key);
    });
    return result;
  }

  async #write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void> {
    await this.#writeVia(path, expect, async (tmpUrl, verify) => {
      this.#started.xrdcp++;
      const child = new Deno.Command("xrdcp", {
        args: ["-s", "-f", ...verify, "-", tmpUrl],
        stdin: "piped",
        stdout: "null",
        stderr: "piped",
        env: CLIENT_ENV,
        signal: AbortSignal.timeout(this.#copyMs),
      }).spawn();
      const stderr = new Response(child.stderr).text();
      await data.pipeTo(child.stdin).catch(() => {}); // a dead child shows in its status
      const status = await child.status;
      if (!status.success) throw xrootdError(await stderr, path);
    });
  }

  copyFrom(
    source: StorageAdapter,
    sourcePath: string,
    path: string,
    expect: WriteExpectation,
  ): Promise<void> {
    return this.#oneAtATime(path, () => this.#copyFrom(source, sourcePath, path, expect));
  }

  async #copyFrom(
    source: StorageAdapter,
    sourcePath: string,
    path: string,
    expect: WriteExpectation,
  ): Promise<void> {
    // xrdcp reads a local file or another endpoint itself; tape goes through read() for its staging check.
    const copy = (origin: string) =>
      this.#writeVia(path, expect, async (tmpUrl, verify) => {
        await this.#run("xrdcp", ["-s", "-f", ...verify, origin, tmpUrl], path, this.#copyMs);
      });
    if (source instanceof XrootdStorage) return await copy(source.url(sourcePath));
    if (source instanceof PosixStorage && !source.capabilities.stage) {
      // The file it opened, not its path again; copied in a batch with the others of its directory.
      return await source.withLocalFile(sourcePath, (local) => this.#copyLocal(local, path, expect, copy));
    }
    await this.#write(path, await source.read(sourcePath), expect);
  }

  /**
   * A local file goes into the batch of its destination directory when the
   * catalogue has its Adler-32 (the batch checks every file against it) and
   * its name is plain (batchablePath); otherwise, and whenever the batch
   * cannot say what became of it, it is copied on its own.
   */
  async #copyLocal(
    local: string,
    path: string,
    expect: WriteExpectation,
    copyAlone: (origin: string) => Promise<void>,
  ): Promise<void> {
    const checked = checkNamespacePath(path);
    if (checked === "/") throw new StorageError("EISDIR", path, "the site root is a directory");
    if (!this.#batching || expect.adler32 === undefined || !batchablePath(this.#server(checked))) {
      return await copyAlone(local);
    }
    const file = { path: checked, size: expect.size, adler32: normalizedAdler32(path, expect.adler32) };
    const outcome = await this.#batches.submit(batchKey(checked), { local, file });
    const tmp = temporaryName(checked);
    switch (outcome.kind) {
      case "done":
        return;
      case "failed":
        await this.delete(tmp).catch(() => {});
        throw outcome.error;
      case "verified": {
        // Still the very file the batch verified? Otherwise it is copied again alone.
        const server = this.#server(tmp);
        const out = await this.#xrdfs(["stat", server], tmp, { missingOk: true }).catch(() => null);
        const now = out === null ? undefined : parseStatBlocks(out).get(server);
        if (now?.id !== outcome.id) return await copyAlone(local);
        await this.#moveIntoPlace(tmp, checked).catch(async (e) => {
          await this.delete(tmp).catch(() => {});
          throw e;
        });
        return;
      }
      case "unknown":
        return await copyAlone(local);
    }
  }

  /**
   * One xrdcp for the files of a directory, asking it for the server's
   * Adler-32 of each file it wrote (`--cksum adler32:print`: the destination
   * server sums its copy, as `--cksum adler32:VALUE` does, but for every file
   * of the batch), compared here with the catalogue's; then one xrdfs session
   * stats the temporary files (their sizes), and one renames the good ones
   * and stats both names, so that a file counts as in place only when its
   * final name carries the very file (same server id) that was verified.
   * Three client processes per batch instead of three per file.
   */
  async #copyBatch(dir: string, copies: LocalCopy[]): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = copies.map(() => ({ kind: "unknown" }));
    // The same file twice cannot happen (#oneAtATime); should it, the second goes alone.
    const seen = new Set<string>();
    const batch = copies.flatMap((c, i) => (seen.has(c.file.path) ? [] : (seen.add(c.file.path), [i])));
    const links = await Deno.makeTempDir({ prefix: "dynamo-xrdcp-" });
    try {
      const sources: string[] = [];
      for (const i of batch) {
        const link = `${links}/${lastName(temporaryName(copies[i]!.file.path))}`;
        await Deno.symlink(copies[i]!.local, link);
        sources.push(link);
      }
      const serverDir = this.#server(dir);
      const target = batch.length === 1
        ? this.url(temporaryName(copies[batch[0]!]!.file.path))
        : `root://${this.endpoint.host}/${serverDir}${serverDir.endsWith("/") ? "" : "/"}`;
      const timeoutMs = batchTimeoutMs(this.#copyMs, batch.length);
      const xrdcp = () =>
        this.#spawn("xrdcp", [
          "-f",
          "--nopbar",
          "--parallel",
          String(batch.length),
          "--cksum",
          "adler32:print",
          ...sources,
          target,
        ], timeoutMs);
      let run = await xrdcp();
      if (!run.ok && /target is not a directory/.test(run.text)) {
        // A directory target must exist (a single file's parents are made by xrdcp); another batch may make it first.
        await this.mkdir(dir).catch(() => {});
        run = await xrdcp();
      }
      const report = parseXrdcpReport(run.text);
      if (report.sums.size === 0 && report.jobErrors.size === 0 && !run.ok) {
        const error = run.timedOut
          ? new StorageError("ETIMEDOUT", dir, `xrdcp timed out after ${timeoutMs / 1000} s`)
          : xrootdError(run.text, dir);
        // The endpoint itself failed: every file would fail alone too. Otherwise each goes alone.
        if (failsWholeBatch(error.code, batch.length)) {
          return outcomes.map((_, i) =>
            batch.includes(i)
              ? { kind: "failed", error: new StorageError(error.code, copies[i]!.file.path, error.message) }
              : { kind: "unknown" }
          );
        }
      }
      const written: number[] = [];
      batch.forEach((i, position) => {
        const file = copies[i]!.file;
        const printed = report.sums.get(lastName(temporaryName(file.path)));
        const jobError = report.jobErrors.get(position + 1);
        if (printed) {
          const problem = writtenProblem(file, printed, undefined);
          if (problem) outcomes[i] = { kind: "failed", error: problem };
          else written.push(i);
        } else if (jobError !== undefined) {
          outcomes[i] = { kind: "failed", error: xrootdError(jobError, file.path) };
        }
      });
      if (written.length === 0) return outcomes;
      const tmpOf = (i: number) => this.#server(temporaryName(copies[i]!.file.path));
      const finalOf = (i: number) => this.#server(copies[i]!.file.path);
      const before = parseStatBlocks((await this.#session(written.map((i) => `stat ${tmpOf(i)}`))).stdout);
      const movable = written.filter((i) => {
        const stat = before.get(tmpOf(i));
        if (!stat) return false; // not known: copied again alone
        const file = copies[i]!.file;
        const problem = stat.isDirectory
          ? new StorageError("EISDIR", file.path, "the temporary name is a directory")
          : writtenProblem(file, report.sums.get(lastName(temporaryName(file.path)))!, stat);
        if (problem) outcomes[i] = { kind: "failed", error: problem };
        return problem === null;
      });
      if (movable.length === 0) return outcomes;
      const renamed = await this.#session([
        ...movable.map((i) => `mv ${tmpOf(i)} ${finalOf(i)}`),
        ...movable.flatMap((i) => [`stat ${tmpOf(i)}`, `stat ${finalOf(i)}`]),
      ]);
      const after = parseStatBlocks(renamed.stdout);
      for (const i of movable) {
        const verified = before.get(tmpOf(i))!;
        const moved = after.get(finalOf(i));
        if (after.has(tmpOf(i))) {
          // xrdfs mv does not replace; an id to check again before the one-file rename.
          if (verified.id !== "") outcomes[i] = { kind: "verified", id: verified.id };
        } else if (moved && verified.id !== "" && moved.id === verified.id && moved.size === verified.size) {
          outcomes[i] = { kind: "done" };
        }
      }
      return outcomes;
    } catch {
      // A local failure (no symlink, no client): what is not known yet is copied alone, with its own error.
      return outcomes;
    } finally {
      await Deno.remove(links, { recursive: true }).catch(() => {});
    }
  }

  /**
   * One session for several stats: a path's block, null when the server said
   * it is not there, undefined when the session does not say (stat alone then
   * gives its own answer or error).
   */
  async #statBatch(paths: string[]): Promise<(StatBlock | null | undefined)[]> {
    const run = await this.#session(paths.map((p) => `stat ${p}`));
    const [blocks, missing] = [parseStatBlocks(run.stdout), parseMissing(run.stderr)];
    return paths.map((p) => {
      const block = blocks.get(p);
      if (block && block.size >= 0) return block;
      return missing.has(p) ? null : undefined;
    });
  }

  /** Runs `xrdfs host` with commands on its stdin: one process for all of them. */
  async #session(commands: string[]): Promise<ClientRun> {
    try {
      return await this.#spawn("xrdfs", [this.endpoint.host], this.#metadataMs, commands.join("\n") + "\n");
    } catch {
      return { ok: false, timedOut: false, stdout: "", stderr: "", text: "" }; // nothing known: each goes alone
    }
  }

  async delete(path: string): Promise<boolean> {
    return (await this.#xrdfs(["rm", this.#server(path)], path, { missingOk: true })) !== null;
  }

  async checksum(path: string): Promise<string> {
    const out = await this.#xrdfs(["query", "checksum", this.#server(path)], path);
    const m = /adler32\s+([0-9a-fA-F]{1,8})/.exec(out!);
    if (!m) throw new StorageError("EIO", path, `the server gave no adler32 checksum: ${out!.trim()}`);
    return m[1]!.toLowerCase().padStart(8, "0");
  }

  async mkdir(dir: string): Promise<void> {
    await this.#xrdfs(["mkdir", "-p", this.#server(dir)], dir);
  }

  async rmdir(dir: string): Promise<boolean> {
    if (checkNamespacePath(dir) === "/") {
      throw new StorageError("EINVAL", dir, "the site root cannot be removed");
    }
    // `xrdfs rmdir` of a missing directory succeeds silently, so ask first.
    if (!(await this.stat(dir))) return false;
    return (await this.#xrdfs(["rmdir", this.#server(dir)], dir, { missingOk: true })) !== null;
  }

  /**
   * xrdcp to the temporary name, asking it (`--cksum adler32:VALUE`) to compare
   * the destination server's checksum of what it wrote with the expected one,
   * then the size, then `mv` into place. Every client call is a process start
   * (~10 ms, and on some hosts an occasional 5 s stall in the client's start-up),
   * so the fewer the better: no separate checksum query, and the old file is
   * removed only when `mv` finds one.
   */
  async #writeVia(
    path: string,
    expect: WriteExpectation,
    fill: (tmpUrl: string, verifyArgs: string[]) => Promise<void>,
  ) {
    const checked = checkNamespacePath(path);
    if (checked === "/") throw new StorageError("EISDIR", path, "the site root is a directory");
    const tmp = temporaryName(checked);
    const adler32 = expect.adler32 === undefined ? null : normalizedAdler32(path, expect.adler32);
    try {
      await fill(this.url(tmp), adler32 === null ? [] : ["--cksum", `adler32:${adler32}`]);
      // The checksum was compared by xrdcp; the size is ours to check.
      await verifyWritten(
        path,
        { size: expect.size },
        (await this.stat(tmp))?.size ?? 0,
        () => this.checksum(tmp),
      );
      await this.#moveIntoPlace(tmp, checked);
    } catch (e) {
      await this.delete(tmp).catch(() => {});
      throw e;
    }
  }

  /** Renames a verified temporary file to its final name, replacing a file there. */
  async #moveIntoPlace(tmp: string, checked: string): Promise<void> {
    const move = () => this.#xrdfs(["mv", this.#server(tmp), this.#server(checked)], checked);
    await move().catch(async (e) => {
      if (!(e instanceof StorageError) || e.code !== "EEXIST") throw e;
      await this.delete(checked); // xrdfs mv does not replace
      await move();
    });
  }

  #server(path: string): string {
    const checked = checkNamespacePath(path);
    if (checked.includes("?")) {
      // The clients read what follows "?" as opaque data: "/a?b" would be "/a", another file.
      throw new StorageError("EINVAL", JSON.stringify(path.slice(0, 256)), 'an XRootD path cannot hold "?"');
    }
    return checked === "/" ? (this.endpoint.base || "/") : this.endpoint.base + checked;
  }

  #local(serverPath: string): string | null {
    const base = this.endpoint.base;
    if (base === "") return serverPath;
    if (serverPath === base) return "/";
    return serverPath.startsWith(base + "/") ? serverPath.slice(base.length) : null;
  }

  async #xrdfs(args: string[], path: string, options: { missingOk?: boolean } = {}): Promise<string | null> {
    try {
      return await this.#run("xrdfs", [this.endpoint.host, ...args], path, this.#metadataMs);
    } catch (e) {
      if (options.missingOk && e instanceof StorageError && e.code === "ENOENT") return null;
      throw e;
    }
  }

  async #run(command: "xrdcp" | "xrdfs", args: string[], path: string, timeoutMs: number): Promise<string> {
    let run: ClientRun;
    try {
      run = await this.#spawn(command, args, timeoutMs);
    } catch (e) {
      throw new StorageError("EIO", path, e instanceof Error ? e.message : String(e));
    }
    if (run.timedOut) {
      throw new StorageError("ETIMEDOUT", path, `${command} timed out after ${timeoutMs / 1000} s`);
    }
    if (!run.ok) throw xrootdError(run.text, path);
    return run.stdout;
  }

  /** One client process; throws only when it cannot be started. */
  async #spawn(
    command: "xrdcp" | "xrdfs",
    args: string[],
    timeoutMs: number,
    stdin?: string,
  ): Promise<ClientRun> {
    let out: Deno.CommandOutput;
    this.#started[command]++;
    try {
      const child = new Deno.Command(command, {
        args,
        stdin: stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        env: CLIENT_ENV,
        signal: AbortSignal.timeout(timeoutMs),
      }).spawn();
      if (stdin !== undefined) {
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(stdin)).catch(() => {}); // a dead child shows in its status
        await writer.close().catch(() => {});
      }
      out = await child.output();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`${command} is not installed (Debian package xrootd-client)`);
      }
      throw e;
    }
    const [stdout, stderr] = [new TextDecoder().decode(out.stdout), new TextDecoder().decode(out.stderr)];
    return {
      ok: out.success,
      timedOut: out.signal === "SIGTERM" || out.signal === "SIGKILL",
      stdout,
      stderr,
      text: stderr + stdout,
    };
  }
}

interface ClientRun {
  readonly ok: boolean;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** stderr then stdout, for error messages and xrdcp's report. */
  readonly text: string;
}

function lastName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * The client retries an unreachable endpoint for minutes by default; one try
 * within 10 s lets the transfer layer count the failure and pick another source.
 */
const CLIENT_ENV = { XRD_CONNECTIONRETRY: "1", XRD_CONNECTIONWINDOW: "10" };

/** Maps the clients' error text ("[3011] … no such file or directory") to a code. */
export function xrootdError(text: string, path: string): StorageError {
  const message = text.trim().split("\n").filter((l) => l.trim() !== "").pop() ?? "xrootd client failed";
  const table: [RegExp, StorageErrorCode][] = [
    [/\[3011\]|no such file|not found/i, "ENOENT"],
    [/\[3010\]|permission denied|not authorized|unable to.*access/i, "EACCES"],
    [/\[3018\]|file exists|already exists/i, "EEXIST"],
    [/is a directory/i, "EISDIR"],
    [/not a directory/i, "ENOTDIR"],
    [/no space|\[3019\]/i, "ENOSPC"],
    [/checksum/i, "ECHECKSUM"],
    [/timed? ?out|timeout/i, "ETIMEDOUT"],
    [/connection (error|refused)|\[3\d\d\]|socket/i, "ECONNREFUSED"],
  ];
  const code = table.find(([re]) => re.test(text))?.[1] ?? "EIO";
  return new StorageError(code, path, message.replace(/^\[ERROR\]\s*/, ""));
}

function parseXrootdTime(text: string): number {
  const ms = Date.parse(text.replace(" ", "T") + "Z");
  return Number.isNaN(ms) ? 0 : ms;
}

/** Eight hex digits, as xrdcp wants them; anything else cannot be an Adler-32. */
function normalizedAdler32(path: string, text: string): string {
  const hex = text.trim().toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{1,8}$/.test(hex)) {
    throw new StorageError("EINVAL", path, `not an adler32: ${JSON.stringify(text)}`);
  }
  return hex.padStart(8, "0");
}
