import type { InventoryPublication } from "../inventory/publication.ts";
import type { ActorSystem } from "../runtime/mod.ts";
import type { ReplicaSlot } from "../inventory/replica_host.ts";

/**
 * Prometheus text for the actor runtime and the inventory: mailbox depths,
 * restarts, failures, dead letters, inventory generation and size.
 */
export class ServiceMetrics {
  #restarts = new Map<string, number>();
  #failures = new Map<string, number>();

  constructor(
    private readonly system: ActorSystem,
    private readonly publication: InventoryPublication,
    /** The reader replica's slot, when one runs. */
    private readonly replicas: () => ReplicaSlot | null = () => null,
  ) {
    system.inspection.subscribe((e) => {
      if (e.type === "restart") this.#restarts.set(e.address, (this.#restarts.get(e.address) ?? 0) + 1);
      if (e.type === "failure") this.#failures.set(e.address, (this.#failures.get(e.address) ?? 0) + 1);
    });
  }

  /** Restarts per actor address so far. */
  get restarts(): ReadonlyMap<string, number> {
    return this.#restarts;
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
    };
    const addresses = this.system.addresses().filter((a) => a !== "/").sort();
    metric(
      "dynamo_actor_mailbox_depth",
      "gauge",
      "Queued messages per actor.",
      addresses.map((a) => [`{actor="${a}"}`, this.system.mailboxDepth(a)]),
    );
    metric(
      "dynamo_actor_restarts_total",
      "counter",
      "Actor restarts.",
      [...this.#restarts].map(([a, n]) => [`{actor="${a}"}`, n]),
    );
    metric(
      "dynamo_actor_failures_total",
      "counter",
      "Actor failures.",
      [...this.#failures].map(([a, n]) => [`{actor="${a}"}`, n]),
    );
    metric("dynamo_dead_letters_total", "counter", "Undeliverable messages.", [[
      "",
      this.system.deadLetters.count,
    ]]);
    if (this.publication.isReady) {
      const snap = this.publication.snapshot();
      metric("dynamo_inventory_generation", "gauge", "Journal sequence of the published inventory.", [[
        "",
        snap.generation,
      ]]);
      const c = snap.counts;
      metric("dynamo_inventory_objects", "gauge", "Objects in the inventory by kind.", [
        ['{kind="dataset"}', c.datasets],
        ['{kind="block"}', c.blocks],
        ['{kind="site"}', c.sites],
        ['{kind="group"}', c.groups],
        ['{kind="dataset_replica"}', c.datasetReplicas],
        ['{kind="block_replica"}', c.blockReplicas],
      ]);
      const slot = this.replicas();
      if (slot) {
        const lag = slot.lag(snap.generation);
        metric("dynamo_replica_ready", "gauge", "Whether the reader replica is built and following.", [[
          "",
          lag === null ? 0 : 1,
        ]]);
        if (lag !== null) {
          metric(
            "dynamo_replica_lag_generations",
            "gauge",
            "Generations the reader replica is behind the writer.",
            [["", lag]],
          );
        }
      }
    }
    return out.join("\n") + "\n";
  }
}
