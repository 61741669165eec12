/**
 * The consistency configuration (spec §6), a JSON file:
 *
 *   {
 *     "interval": "1d", "concurrency": 1,
 *     "defaults": { "roots": ["/store"], "ignore_age": "2d", "confirm_after": "1d",
 *                   "max_missing": "1%", "max_orphan": { "count": 1000, "fraction": 0.01 },
 *                   "ignore_dirs": ["/RAW"], "never_delete_orphans": false, "max_empty_dirs": 10000,
 *                   "unmanaged": [{ "path": "/store/unmerged", "min_age": "28d" }],
 *                   "listing": { "concurrency": 4, "tree_timeout": "1h", "dir_timeout": "5m", "retries": 2,
 *                                "split_depth": 1 },
 *                   "include_tape": false, "enabled": true },
 *     "sites": { "T2_A": { …the same keys, overriding the defaults… } }
 *   }
 *
 * Durations are seconds or text ("90s", "30m", "36h", "2d"); thresholds are a
 * count (100), a fraction ("1%", or { "fraction": 0.01 }), or both ({ "count",
 * "fraction" }: above either is above the threshold). Every mistake is an
 * error naming the key.
 */
import { PolicySyntaxError } from "../language/errors.ts";
import { isJsonObject, jsonReader, lineOfKey, parseJsonSource } from "../language/json_source.ts";

export interface Threshold {
  /** Files; Infinity = no count limit. */
  readonly count: number;
  /** Of the site's file count; Infinity = no fraction limit. */
  readonly fraction: number;
}

export interface UnmanagedArea {
  readonly path: string;
  readonly minAgeMs: number;
}

export interface ListingSettings {
  readonly concurrency: number;
  readonly treeTimeoutMs: number;
  readonly dirTimeoutMs: number;
  readonly retries: number;
  readonly splitDepth: number;
}

export interface SiteConsistencyConfig {
  readonly enabled: boolean;
  readonly roots: readonly string[];
  readonly ignoreDirs: readonly string[];
  readonly ignoreAgeMs: number;
  readonly confirmAfterMs: number;
  readonly maxMissing: Threshold;
  readonly maxOrphan: Threshold;
  readonly neverDeleteOrphans: boolean;
  readonly maxEmptyDirs: number;
  readonly unmanaged: readonly UnmanagedArea[];
  readonly listing: ListingSettings;
  readonly includeTape: boolean;
}

export interface ConsistencyConfig {
  /** Between scheduled checks of one site. */
  readonly intervalMs: number;
  /** Sites checked at the same time. */
  readonly concurrency: number;
  readonly defaults: SiteConsistencyConfig;
  readonly sites: ReadonlyMap<string, SiteConsistencyConfig>;
}

const DAY = 86_400_000;

export const DEFAULT_SITE_CONSISTENCY: SiteConsistencyConfig = Object.freeze({
  enabled: true,
  roots: ["/store"],
  ignoreDirs: [],
  ignoreAgeMs: 2 * DAY,
  confirmAfterMs: DAY,
  maxMissing: { count: Infinity, fraction: 0.01 },
  maxOrphan: { count: Infinity, fraction: 0.01 },
  neverDeleteOrphans: false,
  maxEmptyDirs: 10_000,
  unmanaged: [],
  listing: { concurrency: 4, treeTimeoutMs: 3600_000, dirTimeoutMs: 300_000, retries: 2, splitDepth: 1 },
  includeTape: false,
});

export const DEFAULT_CONSISTENCY: ConsistencyConfig = Object.freeze({
  intervalMs: DAY,
  concurrency: 1,
  defaults: DEFAULT_SITE_CONSISTENCY,
  sites: new Map(),
});

/** The settings of one site: its own section over the defaults. */
export function siteConsistency(config: ConsistencyConfig, site: string): SiteConsistencyConfig {
  return config.sites.get(site) ?? config.defaults;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: DAY };

/** "90s", "30m", "36h", "2d" or a number of seconds → ms; null when it is none of these. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  }
  if (typeof value !== "string") return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(value);
  if (!m) return null;
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

const PATH = /^\/[A-Za-z0-9._+\-/]*$/;

export function parseConsistencyConfig(text: string, file: string): ConsistencyConfig {
  const doc = parseJsonSource(text, file);
  const fail = (path: string, reason: string): never => {
    throw new PolicySyntaxError(file, lineOfKey(text, path), 1, `${path}: ${reason}`);
  };
  if (!isJsonObject(doc)) fail("(top)", "expected an object");
  const top = jsonReader(doc, "", fail);
  top.allowKeys(["interval", "concurrency", "defaults", "sites"]);
  const duration = (
    o: Record<string, unknown>,
    at: string,
    key: string,
    fallback: number,
    max = 365 * DAY,
  ) => {
    if (o[key] === undefined) return fallback;
    const ms = parseDuration(o[key]);
    if (ms === null || ms > max) {
      return fail(
        `${at}${key}`,
        `expected a duration ("90s", "30m", "36h", "2d" or seconds) up to ${max / DAY} days`,
      );
    }
    return ms;
  };
  const intervalMs = duration(doc as Record<string, unknown>, "", "interval", DEFAULT_CONSISTENCY.intervalMs);
  if (intervalMs < 60_000) fail("interval", "must be at least one minute");
  const concurrency = top.number("concurrency", 1, 1, 64);
  if (!Number.isInteger(concurrency)) fail("concurrency", "expected a whole number");
  const defaults = parseSite(
    top.object("defaults", {}),
    "defaults.",
    DEFAULT_SITE_CONSISTENCY,
    fail,
    duration,
  );
  const sites = new Map<string, SiteConsistencyConfig>();
  const sitesRaw = top.object("sites", {});
  for (const [name, raw] of Object.entries(sitesRaw)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/.test(name)) fail(`sites.${name}`, "not a site name");
    sites.set(name, parseSite(raw, `sites.${name}.`, defaults, fail, duration));
  }
  return { intervalMs, concurrency, defaults, sites };
}

type Fail = (path: string, reason: string) => never;
type Duration = (
  o: Record<string, unknown>,
  at: string,
  key: string,
  fallback: number,
  max?: number,
) => number;

function parseSite(
  raw: unknown,
  at: string,
  base: SiteConsistencyConfig,
  fail: Fail,
  duration: Duration,
): SiteConsistencyConfig {
  const r = jsonReader(raw, at, fail);
  const o = raw as Record<string, unknown>;
  r.allowKeys([
    "enabled",
    "roots",
    "ignore_dirs",
    "ignore_age",
    "confirm_after",
    "max_missing",
    "max_orphan",
    "never_delete_orphans",
    "max_empty_dirs",
    "unmanaged",
    "listing",
    "include_tape",
  ]);
  const paths = (key: string, fallback: readonly string[]) => {
    if (o[key] === undefined) return fallback;
    const list = r.texts(key);
    for (const p of list) {
      if (!PATH.test(p) || p.split("/").some((s, i) => i > 0 && (s === "" || s === "." || s === ".."))) {
        fail(`${at}${key}`, `${JSON.stringify(p)} is not an absolute path of plain names`);
      }
    }
    return list;
  };
  const roots = paths("roots", base.roots);
  if (roots.length === 0) fail(`${at}roots`, "give at least one root");
  const unmanaged = o.unmanaged === undefined ? base.unmanaged : r.list("unmanaged").map((u, i) => {
    const area = jsonReader(u, `${at}unmanaged.${i}.`, fail);
    area.allowKeys(["path", "min_age"]);
    const path = area.text("path");
    if (
      !PATH.test(path) || path === "/" ||
      path.split("/").slice(1).some((s) => s === "" || s === "." || s === "..")
    ) {
      fail(`${at}unmanaged.${i}.path`, `${JSON.stringify(path)} is not an absolute path of plain names`);
    }
    const minAgeMs = duration(u as Record<string, unknown>, `${at}unmanaged.${i}.`, "min_age", 28 * DAY);
    if (minAgeMs < 3600_000) fail(`${at}unmanaged.${i}.min_age`, "must be at least one hour");
    return { path, minAgeMs };
  });
  const listingRaw = o.listing === undefined ? undefined : r.object("listing");
  let listing = base.listing;
  if (listingRaw) {
    const l = jsonReader(listingRaw, `${at}listing.`, fail);
    l.allowKeys(["concurrency", "tree_timeout", "dir_timeout", "retries", "split_depth"]);
    const whole = (key: string, fallback: number, min: number, max: number) => {
      const v = l.number(key, fallback, min, max);
      if (!Number.isInteger(v)) fail(`${at}listing.${key}`, "expected a whole number");
      return v;
    };
    listing = {
      concurrency: whole("concurrency", base.listing.concurrency, 1, 256),
      treeTimeoutMs: duration(
        listingRaw,
        `${at}listing.`,
        "tree_timeout",
        base.listing.treeTimeoutMs,
        7 * DAY,
      ),
      dirTimeoutMs: duration(listingRaw, `${at}listing.`, "dir_timeout", base.listing.dirTimeoutMs, DAY),
      retries: whole("retries", base.listing.retries, 0, 10),
      splitDepth: whole("split_depth", base.listing.splitDepth, 0, 10),
    };
    if (listing.dirTimeoutMs < 1000) fail(`${at}listing.dir_timeout`, "must be at least one second");
  }
  const maxEmptyDirs = r.number("max_empty_dirs", base.maxEmptyDirs, 0, 10_000);
  if (!Number.isInteger(maxEmptyDirs)) fail(`${at}max_empty_dirs`, "expected a whole number");
  return {
    enabled: r.boolean("enabled", base.enabled),
    roots,
    ignoreDirs: paths("ignore_dirs", base.ignoreDirs),
    ignoreAgeMs: duration(o, at, "ignore_age", base.ignoreAgeMs),
    confirmAfterMs: duration(o, at, "confirm_after", base.confirmAfterMs),
    maxMissing: threshold(o.max_missing, `${at}max_missing`, base.maxMissing, fail),
    maxOrphan: threshold(o.max_orphan, `${at}max_orphan`, base.maxOrphan, fail),
    neverDeleteOrphans: r.boolean("never_delete_orphans", base.neverDeleteOrphans),
    maxEmptyDirs,
    unmanaged,
    listing,
    includeTape: r.boolean("include_tape", base.includeTape),
  };
}

function threshold(v: unknown, at: string, fallback: Threshold, fail: Fail): Threshold {
  if (v === undefined) return fallback;
  const count = (x: unknown) =>
    typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 1e12
      ? x
      : fail(at, `expected a whole number of files, got ${JSON.stringify(x)}`);
  const fraction = (x: unknown) =>
    typeof x === "number" && Number.isFinite(x) && x >= 0 && x <= 1
      ? x
      : fail(at, `expected a fraction from 0 to 1, got ${JSON.stringify(x)}`);
  if (typeof v === "number") return { count: count(v), fraction: Infinity };
  if (typeof v === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
    if (!m) return fail(at, `expected a count, "N%" or { "count", "fraction" }, got ${JSON.stringify(v)}`);
    return { count: Infinity, fraction: fraction(Number(m[1]) / 100) };
  }
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) if (k !== "count" && k !== "fraction") fail(`${at}.${k}`, "unknown key");
    if (v.count === undefined && v.fraction === undefined) fail(at, 'give "count", "fraction" or both');
    return {
      count: v.count === undefined ? Infinity : count(v.count),
      fraction: v.fraction === undefined ? Infinity : fraction(v.fraction),
    };
  }
  return fail(at, `expected a count, "N%" or { "count", "fraction" }, got ${JSON.stringify(v)}`);
}
