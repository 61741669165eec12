/**
 * The checks every listed name goes through before it may become a path we
 * compare or act on: a listing is input from a storage system we do not
 * control, and a name with a newline, a NUL, a "..", bytes that are not
 * UTF-8, or a path outside the listed directory is reported, not used.
 */
import { PART_SUFFIX } from "./storage_port.ts";

/** Why a listed child path is not usable, or null when it is. */
export function hostileReason(parent: string, path: string): string | null {
  if (path.includes("\uFFFD")) return "name is not valid UTF-8";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return "name contains control characters (newline, NUL, …)";
  // One regex rather than checkNamespacePath's split: this runs once per listed file.
  if (!path.startsWith("/") || /\/\/|\/\.\.?(\/|$)|.\/$/.test(path)) {
    return 'path has empty, "." or ".." segments';
  }
  if (path.length > 4096) return "path too long";
  const prefix = parent === "/" ? "/" : `${parent}/`;
  if (!path.startsWith(prefix)) return "path is outside the directory being listed";
  return null;
}

/** A path as it may be shown: JSON-escaped when it holds anything unprintable. */
export function printable(path: string): string {
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u001f\u007f\uFFFD"\\]/.test(path) ? JSON.stringify(path) : path;
}

/** Files being written by us (temp-then-rename) are never listed. */
export function isPartFile(path: string): boolean {
  return path.endsWith(PART_SUFFIX);
}

export function join(dir: string, rel: string): string {
  return dir === "/" ? `/${rel}` : `${dir}/${rel}`;
}
