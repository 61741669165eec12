/**
 * A federation of real storage sites for file-operation tests: POSIX roots in
 * a temporary directory (and a tape emulation), a Dynamo over a real
 * database on a TestClock, and files written with their real checksums.
 */
import { adler32Hex } from "../../adapters/storage/adler32.ts";
import type { Database } from "../../adapters/db/database.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import { createDynamo, type DynamoOptions } from "../../service/create_dynamo.ts";
import { parseCommand } from "../../registry/inventory/mod.ts";
import type { NewReplicaOperation } from "../../adapters/db/replica_operations_port.ts";
import { assert } from "./assert.ts";
import { caller } from "./http.ts";

export const NOW = Date.UTC(2026, 10, 25);

export interface SiteSpec {
  name: string;
  type?: "disk" | "mss";
  status?: string;
  backend?: string;
  /** The local directory behind the site when the backend is not a file:// root (an XRootD server's). */
  root?: string;
}

export async function fileopsFederation(
  db: Database,
  sites: SiteSpec[],
  options: Partial<DynamoOptions> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "dynamo-fileops-" });
  const clock = new TestClock(NOW);
  const { token } = await new SqlUserStore(db).addUser({
    name: "ops",
    authorizations: ["admin:inventory", "admin:application"].map(parseAuthorization),
  }, 0);
  const dynamo = await createDynamo({
    database: db,
    clock,
    fileops: { intervalMs: 0 },
    requestIntervalMs: 0,
    ...options,
  });
  await dynamo.ready;
  const call = caller(dynamo.app);
  const rootOf = (site: string) => sites.find((s) => s.name === site)?.root ?? `${dir}/${site}`;
  const commands: Record<string, unknown>[] = [{
    op: "group.upsert",
    name: "AnalysisOps",
    olevel: "Dataset",
  }];
  for (const s of sites) {
    if (!s.root) await Deno.mkdir(rootOf(s.name));
    commands.push({
      op: "site.upsert",
      name: s.name,
      storage_type: s.type ?? "disk",
      status: s.status ?? "ready",
      backend: s.backend ??
        `file://${rootOf(s.name)}${s.type === "mss" ? "?stage_seconds=60&pin_seconds=3600" : ""}`,
    });
  }
  const submit = async (cmds: Record<string, unknown>[], operations: NewReplicaOperation[] = []) => {
    const reply = await dynamo.tree.gateway.submit(
      { commands: cmds.map((c) => parseCommand(c)), atomic: true },
      { operations },
    );
    assert(reply.ok && reply.outcomes.every((o) => o.status === "applied"), JSON.stringify(reply));
  };
  await submit(commands);

  /** A dataset of one block with n files of `size` bytes, written at the given sites (complete replicas). */
  const dataset = async (name: string, n: number, at: string[], size = 1000) => {
    const files = Array.from({ length: n }, (_, i) => {
      const bytes = new Uint8Array(size);
      for (let j = 0; j < size; j++) bytes[j] = (i * 31 + j * 7 + name.length) & 255;
      return { lfn: `/store${name.toLowerCase()}/file_${String(i).padStart(4, "0")}.root`, bytes };
    });
    for (const site of at) {
      for (const f of files) {
        await Deno.mkdir(`${rootOf(site)}${f.lfn.slice(0, f.lfn.lastIndexOf("/"))}`, { recursive: true });
        await Deno.writeFile(`${rootOf(site)}${f.lfn}`, f.bytes);
      }
    }
    await submit([
      { op: "dataset.upsert", name, status: "valid" },
      { op: "block.upsert", dataset: name, block: "b1" },
      {
        op: "files.add",
        dataset: name,
        block: "b1",
        files: files.map((f) => ({
          lfn: f.lfn,
          size: f.bytes.length,
          checksum: { adler32: adler32Hex(f.bytes) },
        })),
      },
      ...at.flatMap((site) => [
        { op: "dataset_replica.upsert", dataset: name, site, group: "AnalysisOps", growing: false },
        { op: "block_replica.upsert", dataset: name, block: "b1", site },
      ]),
    ]);
    return files;
  };

  /** What the Dealer commits for a copy: an empty block replica and a copy operation. */
  const scheduleCopy = (name: string, site: string) =>
    submit([
      { op: "dataset_replica.upsert", dataset: name, site, group: "AnalysisOps", growing: true },
      { op: "block_replica.upsert", dataset: name, block: "b1", site, files: [] },
    ], [{ kind: "copy", cycleId: null, requestId: null, site, dataset: name, blocks: null, size: 0 }]);

  /** What Detox commits for a deletion: the replica passes to the null group, and a deletion operation. */
  const scheduleDeletion = (name: string, site: string) =>
    submit([
      { op: "dataset_replica.upsert", dataset: name, site, group: null, growing: false },
      { op: "block_replica.upsert", dataset: name, block: "b1", site, group: null },
    ], [{ kind: "deletion", cycleId: null, requestId: null, site, dataset: name, blocks: null, size: 0 }]);

  const pass = async () => {
    const r = await call("POST", "/data/fileops/run", { token });
    assert(r.status === 200, JSON.stringify(r.body));
    return r.body.data as Record<string, number>;
  };

  const blockReplica = (name: string, site: string) => {
    const snap = dynamo.tree.gateway.snapshot();
    const d = snap.dataset(name);
    const s = snap.site(site);
    const dr = d && s ? snap.replica(d.id, s.id) : undefined;
    return dr ? snap.blockReplica(dr, snap.block(d!.id, "b1")!.id) : undefined;
  };

  return {
    dir,
    clock,
    dynamo,
    call,
    token,
    rootOf,
    submit,
    dataset,
    scheduleCopy,
    scheduleDeletion,
    pass,
    blockReplica,
    async close() {
      await dynamo.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
