/**
 * The one place where paths from the environment are resolved (docs/configuration.md:
 * "every path … is resolved once, at the edge"). A relative path means
 * "relative to the directory the command was started in"; left relative, it
 * would mean something else wherever it is used later: inside a `file://` URL
 * (`file://.dynamo/…` names a host), in a child process started elsewhere, or
 * after a `chdir`. The entry points (the CLI, the demo) call
 * `resolvePathEnvironment` before anything reads the environment, so every
 * later reader, and every child process, sees absolute paths.
 *
 * Paths in a configuration file are resolved against the file's folder by the
 * configuration reader; this module handles the environment and the default.
 */
import { isAbsolute, resolve } from "node:path";

/** The data directory used when `DYNAMO_HOME` is not set, relative to the working directory. */
export const DEFAULT_HOME = ".dynamo";

/** Variables that name one file or folder. */
const PATH_VARIABLES = [
  "DYNAMO_HOME",
  "DYNAMO_PARTITIONS",
  "DYNAMO_SEQUENCES",
  "DYNAMO_ENFORCER_RULES",
  "DYNAMO_DEALER_CONFIG",
  "DYNAMO_POLICIES",
  "DYNAMO_CONSISTENCY_CONFIG",
] as const;

/** Variables that name a comma-separated list of files (an entry may be `FILE@PARTITION`). */
const PATH_LIST_VARIABLES = ["DYNAMO_DETOX_POLICIES"] as const;

export interface MutableEnvironment {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

/**
 * Rewrites every path variable that is set to an absolute path against `cwd`,
 * and sets `DYNAMO_HOME` to the absolute default when it is not set. Returns
 * the names it changed. An empty `DYNAMO_HOME` is an error (it would silently
 * mean the working directory).
 */
export function resolvePathEnvironment(env: MutableEnvironment, cwd: string): string[] {
  const changed: string[] = [];
  const update = (name: string, value: string) => {
    if (env.get(name) === value) return;
    env.set(name, value);
    changed.push(name);
  };
  const home = env.get("DYNAMO_HOME");
  if (home !== undefined && home.trim() === "") {
    throw new TypeError('DYNAMO_HOME is set but empty: unset it (default "./.dynamo") or name a folder');
  }
  if (home === undefined) update("DYNAMO_HOME", resolve(cwd, DEFAULT_HOME));
  for (const name of PATH_VARIABLES) {
    const value = env.get(name);
    if (value === undefined || value === "" || isAbsolute(value)) continue;
    update(name, resolve(cwd, value));
  }
  for (const name of PATH_LIST_VARIABLES) {
    const value = env.get(name);
    if (value === undefined) continue;
    const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const absolute = items.map((item) => isAbsolute(item) ? item : resolve(cwd, item)).join(",");
    if (absolute !== items.join(",")) update(name, absolute);
  }
  return changed;
}

/** The process's own environment, for the entry points. */
export const processEnvironment: MutableEnvironment = {
  get: (name) => Deno.env.get(name),
  set: (name, value) => Deno.env.set(name, value),
};
