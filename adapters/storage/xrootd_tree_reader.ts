/**
 * Lists an XRootD site with `xrdfs ls -l [-R]`, as the CMS consistency scanner
 * does. A recursive listing that the client reports as incomplete ("Some of
 * the requests failed") is an error here, so the walker lists that subtree
 * again flat, directory by directory, and the one bad directory is isolated.
 * The server resolves symbolic links itself, so they cannot be seen from here;
 * names that are not valid UTF-8 arrive as U+FFFD and are reported.
 */
import type { TreeReader, TreeRecord } from "./listing_port.ts";
import { hostileReason, isPartFile, printable } from "./listing_names.ts";
import { checkNamespacePath, parentOf, StorageError } from "./storage_port.ts";
import { xrootdError, type XrootdStorage } from "./xrootd_storage.ts";

const LINE = /^([d-])\S*\s+\S+\s+\S+\s+(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\/.*)$/;
const CLIENT_ENV = { XRD_CONNECTIONRETRY: "1", XRD_CONNECTIONWINDOW: "10" };

export class XrootdTreeReader implements TreeReader {
  readonly kind = "xrootd";
  readonly recursive = true;

  constructor(private readonly storage: XrootdStorage) {}

  async *listTree(
    dir: string,
    options: { recursive: boolean; signal: AbortSignal },
  ): AsyncGenerator<TreeRecord[]> {
    const base = checkNamespacePath(dir);
    const { host, base: serverBase } = this.storage.endpoint;
    const server = base === "/" ? (serverBase || "/") : serverBase + base;
    options.signal.throwIfAborted();
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("xrdfs", {
        args: [host, "ls", "-l", ...(options.recursive ? ["-R"] : []), server],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: CLIENT_ENV,
        signal: options.signal,
      }).output();
    } catch (e) {
      options.signal.throwIfAborted();
      throw new StorageError("EIO", base, e instanceof Error ? e.message : String(e));
    }
    options.signal.throwIfAborted();
    const stderr = new TextDecoder().decode(out.stderr);
    if (!out.success) {
      const error = xrootdError(stderr, base);
      if (error.code === "ENOENT") return;
      throw error;
    }
    if (/may be incomplete|request.* failed/i.test(stderr)) {
      throw new StorageError(
        "EIO",
        base,
        `the server's listing is incomplete: ${stderr.trim().slice(0, 200)}`,
      );
    }
    yield parseListing(new TextDecoder().decode(out.stdout), base, serverBase, options.recursive);
  }
}

/** `ls -l` lines to records; for a recursive listing, directories with no entry below them are empty. */
export function parseListing(
  text: string,
  base: string,
  serverBase: string,
  recursive: boolean,
): TreeRecord[] {
  const out: TreeRecord[] = [];
  const parents = new Set<string>();
  const dirs: { path: string; mtimeMs: number }[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const m = LINE.exec(line);
    if (!m) {
      out.push({
        type: "hostile",
        path: printable(line.slice(0, 300)),
        reason: "listing line not understood",
      });
      continue;
    }
    const serverPath = m[4]!;
    const path = serverBase === ""
      ? serverPath
      : serverPath.startsWith(serverBase + "/")
      ? serverPath.slice(serverBase.length)
      : null;
    if (path === null) {
      out.push({ type: "hostile", path: printable(serverPath), reason: "outside the site's base directory" });
      continue;
    }
    const reason = hostileReason(base, path);
    if (reason !== null) {
      out.push({ type: "hostile", path: printable(path), reason });
      continue;
    }
    parents.add(parentOf(path));
    const mtimeMs = Date.parse(m[3]!.replace(" ", "T") + "Z") || 0;
    if (m[1] === "d") dirs.push({ path, mtimeMs });
    else if (!isPartFile(path)) out.push({ type: "file", path, size: Number(m[2]), mtimeMs });
  }
  for (const d of dirs) {
    out.push(recursive ? { type: "dir", ...d, empty: !parents.has(d.path) } : { type: "dir", ...d });
  }
  return out;
}
