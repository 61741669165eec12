/**
 * A storage site behind an XRootD endpoint (`root://host:port//base`), driven
 * with the XRootD client tools `xrdfs` and `xrdcp` (Debian: xrootd-client).
 * Every call is a child process with a timeout; its error text is mapped to
 * the errno-like codes the transfer layer classifies.
 */
import { PosixStorage } from "./posix_storage.ts";
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
  const base = m[3] === undefined || m[3] === "/" ? "" : checkNamespacePath(m[3]);
  return { host: `${m[1]}:${port}`, base };
}

export interface XrootdOptions {
  /** Seconds for metadata calls (stat, ls, rm, query). */
  metadataTimeoutS?: number;
  /** Seconds for one file copy. */
  copyTimeoutS?: number;
}

export class XrootdStorage implements StorageAdapter {
  readonly kind = "xrootd" as const;
  readonly capabilities: StorageCapabilities = DISK_CAPABILITIES;
  readonly endpoint: XrootdEndpoint;
  readonly #metadataMs: number;
  readonly #copyMs: number;

  constructor(url: string, options: XrootdOptions = {}) {
    this.endpoint = parseXrootdUrl(url);
    this.#metadataMs = (options.metadataTimeoutS ?? 60) * 1000;
    this.#copyMs = (options.copyTimeoutS ?? 3600) * 1000;
  }

  url(path: string): string {
    return `root://${this.endpoint.host}/${this.#server(path)}`;
  }

  async stat(path: string): Promise<StorageEntry | null> {
    const out = await this.#xrdfs(["stat", this.#server(path)], path, { missingOk: true });
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

  async write(path: string, data: ReadableStream<Uint8Array>, expect: WriteExpectation): Promise<void> {
    await this.#writeVia(path, expect, async (tmpUrl, verify) => {
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

  async copyFrom(
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
      return await source.withLocalFile(sourcePath, copy); // the file it opened, not its path again
    }
    await this.write(path, await source.read(sourcePath), expect);
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
      const move = () => this.#xrdfs(["mv", this.#server(tmp), this.#server(checked)], path);
      await move().catch(async (e) => {
        if (!(e instanceof StorageError) || e.code !== "EEXIST") throw e;
        await this.delete(checked); // xrdfs mv does not replace
        await move();
      });
    } catch (e) {
      await this.delete(tmp).catch(() => {});
      throw e;
    }
  }

  #server(path: string): string {
    const checked = checkNamespacePath(path);
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

  async #run(command: string, args: string[], path: string, timeoutMs: number): Promise<string> {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(command, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: CLIENT_ENV,
        signal: AbortSignal.timeout(timeoutMs),
      }).output();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new StorageError("EIO", path, `${command} is not installed (Debian package xrootd-client)`);
      }
      throw new StorageError("EIO", path, e instanceof Error ? e.message : String(e));
    }
    if (out.signal === "SIGTERM" || out.signal === "SIGKILL") {
      throw new StorageError("ETIMEDOUT", path, `${command} timed out after ${timeoutMs / 1000} s`);
    }
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) throw xrootdError(new TextDecoder().decode(out.stderr) + text, path);
    return text;
  }
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
