/**
 * The partition definition file (spec §2.3): one partition per line,
 * `Name: <condition on block replicas>` or `Name: [Sub1, Sub2, …]`; `#`
 * comments. Conditions may use only variables of the block replica itself,
 * its block, dataset, site and owner, so that membership can be kept up to
 * date by the inventory reducer.
 */
import type { Group, MembershipContext, PartitionDefinition } from "../registry/inventory/mod.ts";
import { compileReplicaCondition } from "./language/condition.ts";
import { PolicySyntaxError } from "./language/errors.ts";
import { sourceLines } from "./language/source_lines.ts";
import { checkPolicySize } from "./language/limits.ts";
import {
  type EvalBlockReplica,
  type EvalReplica,
  type EvalWorld,
  NO_ATTRIBUTES,
} from "./language/targets.ts";

export function parsePartitions(text: string, file = "<partitions>"): PartitionDefinition[] {
  checkPolicySize(text, file);
  const defs: PartitionDefinition[] = [];
  const seen = new Map<string, number>();
  for (const l of sourceLines(text)) {
    const colon = l.text.indexOf(":");
    if (colon <= 0) {
      throw new PolicySyntaxError(
        file,
        l.line,
        l.column,
        'expected "Name: condition" or "Name: [Sub1, Sub2]"',
      );
    }
    const name = l.text.slice(0, colon).trim();
    if (seen.has(name)) {
      throw new PolicySyntaxError(
        file,
        l.line,
        l.column,
        `partition "${name}" is already defined on line ${seen.get(name)}`,
      );
    }
    seen.set(name, l.line);
    const body = l.text.slice(colon + 1);
    const bodyColumn = l.column + colon + 1 + (body.length - body.trimStart().length);
    const def = body.trim();
    if (def === "") {
      throw new PolicySyntaxError(
        file,
        l.line,
        bodyColumn,
        `expected a condition or a list of subpartitions for "${name}"`,
      );
    }
    if (def.startsWith("[")) {
      if (!def.endsWith("]")) {
        throw new PolicySyntaxError(
          file,
          l.line,
          bodyColumn + def.length,
          'expected "]" closing the list of subpartitions',
        );
      }
      const subs = def.slice(1, -1).split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      if (subs.length === 0) {
        throw new PolicySyntaxError(
          file,
          l.line,
          bodyColumn,
          "a superpartition needs at least one subpartition",
        );
      }
      defs.push({ name, subpartitions: subs, text: def });
      continue;
    }
    const condition = compileReplicaCondition(def, {
      loc: { file, line: l.line, column: bodyColumn },
      nowMs: 0,
      localOnly: true,
    });
    defs.push({
      name,
      condition: membershipPredicate(condition.match),
      text: def,
      siteAndOwnerOnly: condition.variables.every((v) => v === "blockreplica.owner" || v.startsWith("site.")),
    });
  }
  for (const d of defs) {
    for (const sub of d.subpartitions ?? []) {
      const target = defs.find((x) => x.name === sub);
      if (!target || target.subpartitions) {
        const l = seen.get(d.name)!;
        throw new PolicySyntaxError(
          file,
          l,
          1,
          `"${sub}" in "${d.name}" is not a partition defined by a condition in this file`,
        );
      }
    }
  }
  if (defs.length === 0) throw new PolicySyntaxError(file, 1, 1, "no partition defined");
  return defs;
}

/**
 * Adapts a compiled condition to the reducer's membership context through one
 * reused target: membership is computed for every block replica at load, so
 * it must not allocate.
 */
function membershipPredicate(match: (t: EvalBlockReplica) => boolean): (c: MembershipContext) => boolean {
  let ctx: MembershipContext | null = null;
  const world: EvalWorld = {
    replicasOf: () => {
      throw new Error("Partition conditions cannot look at other replicas");
    },
    group: (): Group => ctx!.group,
    attrs: NO_ATTRIBUTES,
  };
  const replica: EvalReplica = {
    get dataset() {
      return ctx!.dataset;
    },
    get site() {
      return ctx!.site;
    },
    get growing() {
      return ctx!.datasetReplica?.growing ?? false;
    },
    visible: () => [target],
    world,
  };
  const target: EvalBlockReplica = {
    get block() {
      return ctx!.block;
    },
    get blockId() {
      return ctx!.block.id;
    },
    get br() {
      return ctx!.blockReplica;
    },
    get groupId() {
      return ctx!.blockReplica.groupId;
    },
    replica,
  };
  return (c) => {
    ctx = c;
    return match(target);
  };
}
