/**
 * The configured Detox policies (`DYNAMO_DETOX_POLICIES`, or `detox.policies`
 * in the service configuration): comma-separated files, each optionally
 * followed by `@PARTITION`, the partition of a file without a Partition line
 * (a campaign file, or an early version of a partition's policy):
 *
 *   DYNAMO_DETOX_POLICIES=detox/Physics.txt,detox/campaigns/190604_disk.txt@Physics
 *
 * A file that has no Partition line and no `@PARTITION` is accepted: it runs
 * only on request, with `detox run --policy FILE --partition NAME`.
 */
import { checkPartitionName, hasPartitionLine, parseDetoxPolicy } from "../../policies/detox/detox_policy.ts";
import type { DetoxPolicySource } from "./detox.ts";

export interface DetoxPolicyEntry {
  file: string;
  partition?: string;
}

export function parseDetoxPolicyEntries(value: string, variable: string): DetoxPolicyEntry[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "").map((item) => {
    const at = item.lastIndexOf("@");
    // A path may hold "@" in a folder name; a partition never holds "/".
    if (at < 0 || item.slice(at + 1).includes("/")) return { file: item };
    const file = item.slice(0, at).trim();
    const partition = item.slice(at + 1).trim();
    const bad = checkPartitionName(partition);
    if (bad) throw new TypeError(`${variable}: ${item}: the partition after "@" is ${bad}`);
    if (file === "") throw new TypeError(`${variable}: ${item}: expected FILE@PARTITION`);
    return { file, partition };
  });
}

/** The entries as one setting again (the service configuration writes the variable). */
export function formatDetoxPolicyEntries(entries: readonly DetoxPolicyEntry[]): string {
  return entries.map((e) => (e.partition === undefined ? e.file : `${e.file}@${e.partition}`)).join(",");
}

/**
 * Parses each configured file now, so that a broken one stops the start with
 * its line and column, and checks that the partition it runs on is defined.
 */
export function detoxPolicySource(
  entry: DetoxPolicyEntry,
  text: string,
  partitions: readonly { name: string }[],
  nowMs: number,
  variable: string,
): DetoxPolicySource {
  const { file, partition } = entry;
  const onRequest = partition === undefined && !hasPartitionLine(text);
  // A file that gets its partition on request is checked with a stand-in partition.
  const policy = parseDetoxPolicy(text, {
    file,
    nowMs,
    ...(partition !== undefined ? { partition } : onRequest ? { partition: "OnRequest" } : {}),
  });
  if (!onRequest && !partitions.some((p) => p.name === policy.partition)) {
    throw new TypeError(`${variable}: ${file} runs on partition "${policy.partition}", which is not defined`);
  }
  return { file, text, ...(partition !== undefined ? { partition } : {}) };
}

/**
 * `detox.policies` of the service configuration: file names, or
 * `{"file": …, "partition": …}` for a file without a Partition line.
 * Relative files are resolved by `resolve`; mistakes go to `fail` with the key.
 */
export function configuredDetoxPolicies(
  list: readonly unknown[],
  resolve: (path: string) => string,
  fail: (path: string, reason: string) => never,
): DetoxPolicyEntry[] {
  return list.map((item, i) => {
    const at = `detox.policies[${i}]`;
    if (typeof item === "string" && item.trim() !== "") return { file: resolve(item) };
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      return fail(at, 'expected a file name or {"file": …, "partition": …}');
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== "file" && k !== "partition") fail(`${at}.${k}`, "unknown key");
    if (typeof o.file !== "string" || o.file.trim() === "") {
      return fail(`${at}.file`, "expected a non-empty string");
    }
    if (o.partition === undefined) return { file: resolve(o.file) };
    if (typeof o.partition !== "string") return fail(`${at}.partition`, "expected a partition name");
    const bad = checkPartitionName(o.partition);
    if (bad) fail(`${at}.partition`, bad);
    return { file: resolve(o.file), partition: o.partition };
  });
}
