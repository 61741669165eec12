/**
 * `deno run --allow-read simulate/tune.ts [--days N] [--seeds K]`: our
 * configuration variants on the same traces, against LRU and the oracle:
 * the defaults (examples/demo/), each change of the tuning undone, and Detox
 * making room for waiting copy requests (docs/simulate.md). TUNE_ONLY=name runs one variant.
 */
import { parseArgs } from "node:util";
import type { OursConfig } from "./ours.ts";
import { demoConfig, simulate } from "./simulation.ts";

type Variant = { name: string; apply: (c: OursConfig) => OursConfig };

const dealer = (f: (d: OursConfig["dealer"]) => Partial<OursConfig["dealer"]>): Variant["apply"] => (c) => ({
  ...c,
  dealer: { ...c.dealer, ...f(c.dealer) },
});

const TAPE_AWARE = "Protect dataset.num_full_disk_copy < 2 and dataset.on_tape != FULL";

/** Every last disk copy protected, even of data safe on tape (the demo's policy before the tuning). */
const alwaysLastCopy = (c: OursConfig): OursConfig => ({
  ...c,
  detoxPolicy: c.detoxPolicy.replace(TAPE_AWARE, "Protect dataset.num_full_disk_copy < 2"),
  dealer: balancerReason("dataset.num_full_disk_copy < 2")(c).dealer,
});

/** Detox deletes down to 70 % instead of 85 % (the demo's policy before the tuning). */
const until070 = (c: OursConfig): OursConfig => ({
  ...c,
  detoxPolicy: c.detoxPolicy.replace("site.occupancy < 0.85", "site.occupancy < 0.7"),
});

/** The Dealer's target occupancy 0.8 (the demo's before the tuning). */
const target080 = dealer(() => ({ targetSiteOccupancy: 0.8 }));

/** The balancer moves the last copies protected by this Detox line. */
function balancerReason(reason: string): Variant["apply"] {
  return dealer((d) => ({
    plugins: d.plugins.map((p) =>
      p.module === "BalancingHandler"
        ? { ...p, config: { ...p.config, targetReasons: new Map([[reason, 1]]) } }
        : p
    ),
  }));
}

/** Variants of the defaults (examples/demo/), each undoing one change of the tuning, and all of them. */
export const VARIANTS: Variant[] = [
  { name: "defaults", apply: (c) => c },
  { name: "target 0.8", apply: target080 },
  { name: "last copy always", apply: alwaysLastCopy },
  { name: "until 0.7", apply: until070 },
  {
    name: "no balancer",
    apply: dealer((d) => ({ plugins: d.plugins.filter((p) => p.module !== "BalancingHandler") })),
  },
  { name: "room 0.2", apply: (c) => ({ ...c, roomForRequests: 0.2 }) },
  { name: "room 0.05", apply: (c) => ({ ...c, roomForRequests: 0.05 }) },
  { name: "the old demo's", apply: (c) => until070(alwaysLastCopy(target080(c))) },
];

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { days: { type: "string", default: "60" }, seeds: { type: "string", default: "3" } },
  });
  const days = Number(values.days);
  const only = Deno.env.get("TUNE_ONLY");
  const seeds = Number(values.seeds);
  for (const v of VARIANTS.filter((x) => !only || x.name === only)) {
    const acc = { ours: 0, lru: 0, oracle: 0, copied: 0, lruCopied: 0, over: 0, lost: 0, wait: 0 };
    for (let seed = 1; seed <= seeds; seed++) {
      const r = simulate({
        seed,
        days,
        scale: "small",
        ours: v.apply(demoConfig()),
        only: ["ours", "lru", "oracle"],
      });
      const [o, l, b] = r.strategies;
      acc.ours += o!.hitRate / seeds;
      acc.lru += l!.hitRate / seeds;
      acc.oracle += b!.hitRate / seeds;
      acc.copied += o!.bytesCopied;
      acc.lruCopied += l!.bytesCopied;
      acc.over += o!.quotaViolations.byStrategy;
      acc.lost += o!.lastCopiesLost;
      acc.wait += o!.meanWaitHours / seeds;
    }
    console.log(
      `${v.name.padEnd(24)} ours ${acc.ours.toFixed(4)} lru ${acc.lru.toFixed(4)} oracle ${
        acc.oracle.toFixed(4)
      } ` +
        `ours/oracle ${(acc.ours / acc.oracle).toFixed(4)} copied/lru ${
          (acc.copied / acc.lruCopied).toFixed(3)
        } ` +
        `wait ${acc.wait.toFixed(1)} h over-by-us ${acc.over} lost ${acc.lost}`,
    );
  }
}
