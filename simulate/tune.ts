/**
 * `deno run --allow-read simulate/tune.ts [--days N] [--seeds K]`: our
 * configuration variants on the same traces, against LRU and the oracle:
 * what the tuning of docs/simulate.md was measured with.
 */
import { parseArgs } from "node:util";
import type { OursConfig } from "./ours.ts";
import { demoConfig, simulate } from "./simulation.ts";

type Variant = { name: string; apply: (c: OursConfig) => OursConfig };

const dealer = (f: (d: OursConfig["dealer"]) => Partial<OursConfig["dealer"]>): Variant["apply"] => (c) => ({
  ...c,
  dealer: { ...c.dealer, ...f(c.dealer) },
});

/** The demo's Detox policy with the last disk copy protected only when the dataset is not fully on tape. */
const tapeAware = (c: OursConfig): OursConfig => ({
  ...c,
  detoxPolicy: c.detoxPolicy.replace(
    "Protect dataset.num_full_disk_copy < 2",
    "Protect dataset.num_full_disk_copy < 2 and dataset.on_tape != FULL",
  ),
});

/** Detox deletes down to 85 % instead of 70 %: disks stay fuller. */
const until085 = (c: OursConfig): OursConfig => ({
  ...c,
  detoxPolicy: c.detoxPolicy.replace("site.occupancy < 0.7", "site.occupancy < 0.85"),
});

export const VARIANTS: Variant[] = [
  { name: "demo", apply: (c) => c },
  { name: "target 0.9", apply: dealer(() => ({ targetSiteOccupancy: 0.9 })) },
  { name: "tape-aware Detox", apply: tapeAware },
  {
    name: "tape-aware, target 0.9",
    apply: (c) => tapeAware(dealer(() => ({ targetSiteOccupancy: 0.9 }))(c)),
  },
  {
    name: "tape-aware, 0.9, until 0.85",
    apply: (c) => until085(tapeAware(dealer(() => ({ targetSiteOccupancy: 0.9 }))(c))),
  },
  {
    name: "tuned, popularity threshold 240",
    apply: (c) => threshold(until085(tapeAware(dealer(() => ({ targetSiteOccupancy: 0.9 }))(c))), 240),
  },
];

/** The popularity plugin's `request_to_replica_threshold` set to `t` (fewer copies ahead when larger). */
function threshold(c: OursConfig, t: number): OursConfig {
  return dealer((d) => ({
    plugins: d.plugins.map((p) =>
      p.module === "PopularityHandler" ? { ...p, config: { ...p.config, requestToReplicaThreshold: t } } : p
    ),
  }))(c);
}

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
