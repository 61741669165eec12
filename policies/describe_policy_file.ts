/**
 * `dynamo policy check`: parses a Detox policy, a partitions file, an
 * enforcer rules file or a scheduler sequence file (recognised by content)
 * and describes it, or throws PolicySyntaxError with its position.
 */
import { hasPartitionLine, parseDetoxPolicy } from "./detox/detox_policy.ts";
import { parseEnforcerRules } from "./enforcer_rules.ts";
import { sourceLines } from "./language/source_lines.ts";
import { parsePartitions } from "./partitions.ts";
import { parseSequenceFile } from "./scheduler/sequence_file.ts";

const DETOX_KEYWORDS =
  /^(Partition|On|When|Until|Order|Algo|Protect|Delete|Dismiss|Ignore|ProtectBlock|DeleteBlock|DismissBlock|Strategy|AlwaysDelete|DeleteOwner\([^)]*\))(\s|$)/;

/** Stands for the partition a file without a Partition line gets from the Detox configuration. */
const FROM_CONFIGURATION = "FromConfiguration";

export function describePolicyFile(text: string, file: string, nowMs: number): string[] {
  if (text.trimStart().startsWith("{")) {
    const r = parseEnforcerRules(text, file, nowMs);
    return [
      `${file}: enforcer rules for partition ${r.partition} (default destination group ${r.defaultDestinationGroup})`,
      ...r.rules.map((rule) =>
        `  ${rule.name}: ${rule.numCopies} cop${
          rule.numCopies === 1 ? "y" : "ies"
        } of ${rule.replicas.length} replica pattern(s), ` +
        `${rule.destinations.length} destination and ${rule.sources.length} source condition(s)${
          rule.protect ? ", protected" : ""
        }`
      ),
    ];
  }
  if (/^\s*\[SEQUENCE\s/m.test(text)) {
    const seq = parseSequenceFile(text, file);
    return [
      `${file}: ${seq.apps.size} applications, ${seq.sequences.length} sequences`,
      ...[...seq.apps.values()].map((a) => `  ${a.write ? `<${a.title}>` : `{${a.title}}`} = ${a.path}`),
      ...seq.sequences.map((s) => {
        const runs = s.steps.filter((step) => step.kind === "run").length;
        const wait = s.steps.reduce((sum, step) => sum + (step.kind === "wait" ? step.seconds : 0), 0);
        return `  [${s.name}]${s.restart ? " restart" : ""}: ${runs} step(s), waits ${wait} s`;
      }),
    ];
  }
  const first = sourceLines(text)[0];
  if (first && DETOX_KEYWORDS.test(first.text)) {
    const p = parseDetoxPolicy(text, {
      file,
      nowMs,
      ...(hasPartitionLine(text) ? {} : { partition: FROM_CONFIGURATION }),
    });
    const perAction = new Map<string, number>();
    for (const l of p.lines) perAction.set(l.action, (perAction.get(l.action) ?? 0) + 1);
    return [
      p.partitionSource === "file"
        ? `${file}: Detox policy for partition ${p.partition} (hash ${p.hash})`
        : `${file}: Detox policy without a Partition line: its partition comes from the Detox configuration ` +
          `or --partition (hash ${p.hash})`,
      `  targets: ${p.targets.map((c) => c.text).join(" | ")}`,
      `  deletion trigger: ${p.triggers.map((c) => c.text).join(" | ")}`,
      `  stop condition: ${p.stops.map((c) => c.text).join(" | ")}`,
      `  rules: ${
        [...perAction].map(([a, n]) => `${n} ${a}`).join(", ") || "none"
      }; default ${p.defaultAction}`,
      `  order: ${p.order.length ? p.order.map((k) => `${k.direction} ${k.variable}`).join(", ") : "none"}; ${
        p.iterative ? "iterative" : "static"
      }`,
      `  variables: ${p.variables.join(", ")}`,
      `  attributes needed: ${p.attributes.join(", ") || "none"}`,
    ];
  }
  const defs = parsePartitions(text, file);
  return [
    `${file}: ${defs.length} partitions`,
    ...defs.map((d) => `  ${d.name}: ${d.subpartitions ? `[${d.subpartitions.join(", ")}]` : d.text}`),
  ];
}
