import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { randomFederation } from "../../tests/helpers/federation.ts";
import { type InventoryState, PartitionTable, Snapshot } from "../../registry/inventory/mod.ts";
import { InventoryLoader } from "../../registry/inventory/bulk_loader.ts";
import { feedRow, stateRows } from "../../registry/inventory/state_rows.ts";
import type { EvalBlockReplica, EvalReplica, EvalWorld, Value } from "../language/mod.ts";
import { REPLICA_VARIABLES } from "../language/variables.ts";
import { parseDetoxPolicy } from "./detox_policy.ts";
import { type ImageReplica, PartitionImage } from "./partition_image.ts";

const NOW = Date.UTC(2026, 10, 25);
const POLICY = `Partition Physics
On site.name in [T2_* T1_*]
When site.occupancy > 0.9
Until site.occupancy < 0.85
Dismiss
`;

/**
 * The image seen through views only (what conditions read before the cursor): plain copies of
 * `visible()`, replicas and world without `someVisible`, `visibleCount` or `someVisibleOfBlock`.
 */
function viewsOnly(image: PartitionImage) {
  const replicas = new Map<ImageReplica, EvalReplica>();
  const world: EvalWorld = {
    replicasOf: (id) => image.imageReplicasOf(id).map(wrap),
    group: (id) => image.group(id),
    attrs: image.attrs,
  };
  function wrap(r: ImageReplica): EvalReplica {
    let w = replicas.get(r);
    if (w === undefined) {
      const replica: EvalReplica = {
        dataset: r.dataset,
        site: r.site,
        growing: r.growing,
        world,
        visible: () => r.visible().map((v): EvalBlockReplica => copy(v, replica)),
      };
      replicas.set(r, w = replica);
    }
    return w;
  }
  const copy = (v: EvalBlockReplica, replica: EvalReplica): EvalBlockReplica => ({
    block: v.block,
    blockId: v.blockId,
    groupId: v.groupId,
    br: {
      size: v.br.size,
      lastUpdate: v.br.lastUpdate,
      isCustodial: v.br.isCustodial,
      fileIds: v.br.fileIds,
    },
    replica,
  });
  return { wrap, copy };
}

Deno.test("every replica variable reads the same through the image's cursor as through views, hidden rows too", () => {
  let compared = 0;
  let hiddenCases = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const { h, attrs } = randomFederation({ seed, quota: 6000, blocksPerDataset: 4 });
    const image = PartitionImage.build(
      new Snapshot(h.state),
      parseDetoxPolicy(POLICY, { nowMs: NOW }),
      attrs,
    );
    const { wrap, copy } = viewsOnly(image);
    for (const r of image.replicas) {
      // Once as the replica is, then with every other row hidden (as an earlier block-level line does).
      for (const hide of [false, true]) {
        r.hidden = hide ? new Set(r.rows.filter((_, i) => i % 2 === 0)) : null;
        if (hide) hiddenCases++;
        for (const [name, v] of REPLICA_VARIABLES) {
          const expected = v.get(wrap(r));
          assertEquals(v.get(r), expected, `${name}, seed ${seed}`);
          if (v.anyOf !== undefined) {
            // `anyOf(test)` is `some(test)` of the list, for tests that pass any one value of it or
            // none (tests are pure: it may ask fewer times than the list is long).
            const list = expected as readonly Value[];
            for (const one of [...new Set(list), "none"]) {
              const test = (x: Value) => x === one;
              assertEquals(v.anyOf(r, test), list.some(test), `${name} anyOf ${one}, seed ${seed}`);
            }
            assertEquals(v.anyOf(r, () => true), list.length > 0, `${name} anyOf anything, seed ${seed}`);
          }
          for (const b of r.visible()) {
            assertEquals(v.get(b), v.get(copy(b, wrap(r))), `${name} of a block replica, seed ${seed}`);
          }
          compared++;
        }
        image.releaseViews();
      }
      r.hidden = null;
    }
  }
  assert(compared > 1000 && hiddenCases > 50, `${compared} comparisons, ${hiddenCases} with hidden rows`);
});

/** The inventory of `state` loaded again with every block replica's size changed by `size`. */
function withSizes(state: InventoryState, size: (bytes: number) => number): InventoryState {
  const ids = new Map([...state.partitions.byName].map(([name, p]) => [name, p.id]));
  const loader = new InventoryLoader(new PartitionTable(state.partitions.definitions, ids));
  for (const row of stateRows(state)) {
    feedRow(
      loader,
      row[0] === "addBlockReplica" ? ["addBlockReplica", { ...row[1], size: size(row[1].size) }] : row,
    );
  }
  return loader.finish(state.generation, state.counters);
}

Deno.test("a site's usage in the image is its rows' sizes summed in its own order, fractional sizes too", () => {
  const policy = parseDetoxPolicy(POLICY, { nowMs: NOW });
  for (const seed of [1, 2, 3]) {
    // More datasets than a site's id set has shards (64): its order is not the datasets' order.
    const { h, attrs } = randomFederation({ seed, quota: 6000, datasets: 300 });
    for (const size of [(b: number) => b, (b: number) => b / 7 + 0.1]) {
      const snap = new Snapshot(withSizes(h.state, size));
      const image = PartitionImage.build(snap, policy, attrs);
      const mask = snap.state.partitions.maskOf(snap.partition("Physics")!);
      for (const s of image.sites) {
        let used = 0; // the walk the image made before it summed dataset by dataset
        for (const dr of snap.replicasAt(s.site.id)) {
          for (const br of dr.columns) if ((br.partitions & mask) !== 0) used += br.size;
        }
        assertEquals(s.used, used, `${s.site.name}, seed ${seed}`);
      }
    }
  }
});
