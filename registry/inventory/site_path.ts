/**
 * The one rule for a path in a site's namespace, shared by the model (an LFN
 * is checked at injection) and the storage adapters (every path they touch),
 * so that nothing the inventory accepts is refused later by every site.
 */

/** Longest site path the storage adapters accept (PATH_MAX on Linux). */
export const MAX_SITE_PATH = 4096;

/**
 * Returns why `path` is not a clean absolute site path, or `null` when it is:
 * it starts with "/", has no NUL or other C0 control character nor DEL, is
 * well-formed Unicode (a lone surrogate would reach the file system as U+FFFD,
 * another name), and has no empty, "." or ".." segment. The root "/" is clean.
 */
export function sitePathProblem(path: string): string | null {
  if (!path.startsWith("/")) return `must be an absolute path starting with "/", got ${JSON.stringify(path)}`;
  if (path.length > MAX_SITE_PATH) return `must be at most ${MAX_SITE_PATH} characters, got ${path.length}`;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) {
    return `must not contain control characters, got ${JSON.stringify(path)}`;
  }
  if (!path.isWellFormed()) {
    return `must be well-formed Unicode (no lone surrogates), got ${JSON.stringify(path)}`;
  }
  if (path === "/") return null;
  let start = 1;
  for (;;) {
    const end = path.indexOf("/", start);
    const segment = end < 0 ? path.slice(start) : path.slice(start, end);
    if (segment === "" || segment === "." || segment === "..") {
      return `segment ${JSON.stringify(segment)} is not allowed (no empty, "." or ".." segments), got ${
        JSON.stringify(path)
      }`;
    }
    if (end < 0) return null;
    start = end + 1;
  }
}
