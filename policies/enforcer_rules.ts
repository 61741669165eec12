/**
 * Enforcer rules (spec §2.6): "keep N copies of datasets matching X at sites
 * matching Y", as in `common/enforcer_rules_physics.json`:
 * `{partition, default_destination_group, rules: {name: {replicas[], num_copies,
 * destinations[], sources[], protect?, destination_group?}}}`.
 * A rule's replica conditions are ORed, as are its site conditions.
 */
import {
  compileReplicaCondition,
  compileSiteCondition,
  type Condition,
  type EvalSite,
  isJsonObject,
  lineOfKey,
  parseJsonSource,
  PolicySyntaxError,
  type ReplicaTarget,
} from "./language/mod.ts";

export interface EnforcerRule {
  readonly name: string;
  readonly replicas: readonly Condition<ReplicaTarget>[];
  readonly numCopies: number;
  readonly destinations: readonly Condition<EvalSite>[];
  readonly sources: readonly Condition<EvalSite>[];
  readonly protect: boolean;
  readonly destinationGroup: string | null;
}

export interface EnforcerRules {
  readonly partition: string;
  readonly defaultDestinationGroup: string;
  readonly rules: readonly EnforcerRule[];
  /** What the rules were parsed from: a reader replica in a Worker parses them again (conditions cannot be posted). */
  readonly source?: { readonly text: string; readonly file: string; readonly nowMs: number };
}

export function parseEnforcerRules(text: string, file = "<enforcer rules>", nowMs = 0): EnforcerRules {
  const doc = parseJsonSource(text, file);
  const fail = (path: string, reason: string): never => {
    throw new PolicySyntaxError(file, lineOfKey(text, path), 1, `${path}: ${reason}`);
  };
  if (!isJsonObject(doc)) {
    fail("(top)", "expected an object with partition, default_destination_group and rules");
  }
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!["partition", "default_destination_group", "rules"].includes(key)) fail(key, "unknown key");
  }
  if (typeof top.partition !== "string" || top.partition === "") {
    fail("partition", "expected a partition name");
  }
  if (typeof top.default_destination_group !== "string") {
    fail("default_destination_group", "expected a group name");
  }
  if (!isJsonObject(top.rules)) fail("rules", "expected an object of named rules");
  const rules: EnforcerRule[] = [];
  for (const [name, raw] of Object.entries(top.rules as Record<string, unknown>)) {
    const at = `rules.${name}`;
    if (!isJsonObject(raw)) fail(at, "expected an object");
    const r = raw as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (
        !["replicas", "num_copies", "destinations", "sources", "protect", "destination_group"].includes(key)
      ) {
        fail(`${at}.${key}`, "unknown key");
      }
    }
    const texts = (key: string): string[] => {
      const v = r[key];
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string")) {
        return fail(`${at}.${key}`, "expected a non-empty list of conditions");
      }
      return v as string[];
    };
    const loc = (key: string) => ({ file, line: lineOfKey(text, name), column: 1, key });
    const compileAll = <T>(
      key: string,
      compile: (t: string, o: { nowMs: number; loc: { file: string; line: number; column: number } }) => T,
    ) =>
      texts(key).map((t) => {
        try {
          return compile(t, { nowMs, loc: loc(key) });
        } catch (e) {
          if (e instanceof PolicySyntaxError) fail(`${at}.${key}`, `"${t}": ${e.reason}`);
          throw e;
        }
      });
    if (!Number.isInteger(r.num_copies) || (r.num_copies as number) < 1) {
      fail(`${at}.num_copies`, "expected a positive integer");
    }
    if (r.protect !== undefined && typeof r.protect !== "boolean") {
      fail(`${at}.protect`, "expected true or false");
    }
    if (r.destination_group !== undefined && typeof r.destination_group !== "string") {
      fail(`${at}.destination_group`, "expected a group name");
    }
    rules.push({
      name,
      replicas: compileAll("replicas", compileReplicaCondition),
      numCopies: r.num_copies as number,
      destinations: compileAll("destinations", compileSiteCondition),
      sources: compileAll("sources", compileSiteCondition),
      protect: r.protect === true,
      destinationGroup: (r.destination_group as string | undefined) ?? null,
    });
  }
  return {
    partition: top.partition as string,
    defaultDestinationGroup: top.default_destination_group as string,
    rules,
    source: { text, file, nowMs },
  };
}
