/** The Dealer configuration of the benchmark: CMS's production values (spec §4.1). */
export const BENCH_DEALER_CONFIG = {
  partition_name: "Physics",
  group_name: "AnalysisOps",
  target_sites: ["T1_*_Disk", "T2_*"],
  target_site_occupancy: 0.93,
  max_site_pending_fraction: 0.03,
  max_total_cycle_volume: 200,
  plugins: {
    requests: {
      module: "CopyRequestsHandler",
      priority: 1,
      config: { max_size: 200, block_request_max: 0.5, overwritten_groups: ["DataOps"] },
    },
    enforcer: {
      module: "EnforcerHandler",
      priority: 2,
      config: { enforcer: { max_dataset_size: 50, policy: "inline" } },
    },
    undertaker: { module: "Undertaker", priority: 2, config: { additional_sites: [] } },
    popularity: {
      module: "PopularityHandler",
      priority: 3,
      config: {
        source_groups: ["AnalysisOps"],
        max_dataset_size: 50,
        max_replication: 10,
        request_to_replica_threshold: 1.75,
      },
    },
    balancer: {
      module: "BalancingHandler",
      priority: 8,
      config: {
        max_dataset_size: 50,
        max_cycle_volume: 5,
        target_reasons: {
          "dataset.name == /*/*/MINIAOD* and replica.num_full_other_copy_common_owner < 2": 2,
          "replica.num_full_other_copy_common_owner == 0": 1,
        },
      },
    },
  },
  attrs: { GlobalQueueRequestHistory: { weight_halflife: 3 } },
};
