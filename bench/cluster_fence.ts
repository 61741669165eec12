/**
 * The cost of fencing a cluster leader's registry writes (docs/cluster.md): the
 * same Detox lock writes on the plain database and on the fenced one (which
 * adds the key record and the `FOR SHARE` check of the lease row to each
 * transaction). PostgreSQL only. Alone: `deno run -A bench/cluster_fence.ts URL`.
 */
import { openDatabase } from "../adapters/db/database.ts";
import { migrate } from "../adapters/db/migrate.ts";
import { SqlClusterStore } from "../adapters/db/cluster_store.ts";
import { fencedDatabase } from "../adapters/db/fenced_database.ts";
import { SqlLockStore } from "../adapters/db/lock_store.ts";
import { freshClusterDatabase } from "../tests/helpers/cluster.ts";

const WRITES = 500;

export async function benchClusterFence(baseUrl: string): Promise<Record<string, number>> {
  const { url, drop } = await freshClusterDatabase(baseUrl);
  const db = await openDatabase({ url, maxConnections: 4 });
  try {
    await migrate(db, Date.now());
    const generation = await new SqlClusterStore(db).takeLease("bench", Date.now());
    let n = 0;
    const fenced = fencedDatabase(db, {
      fence: SqlClusterStore.fence(() => generation),
      idempotencyKey: () => `bench-${n}`,
    });
    const timeWrites = async (store: SqlLockStore, prefix: string) => {
      const ms: number[] = [];
      for (let i = 0; i < WRITES; i++) {
        n += 1;
        const request = {
          item: `/${prefix}/D${i}/RAW`,
          expiresAt: 2e9,
          sites: [],
          groups: [],
          service: null,
          comment: null,
        };
        const t0 = performance.now();
        await store.lock("bench", request, Date.now());
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      return Math.round(ms[Math.floor(ms.length / 2)]! * 1000) / 1000;
    };
    const plain = await timeWrites(new SqlLockStore(db), "Plain");
    const withFence = await timeWrites(new SqlLockStore(fenced), "Fenced");
    return {
      "cluster.fenced_registry_write_median_ms": withFence,
      "cluster.unfenced_registry_write_median_ms": plain,
    };
  } finally {
    await db.close();
    await drop();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchClusterFence(Deno.args[0]!), null, 2));
}
