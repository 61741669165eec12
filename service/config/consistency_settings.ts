/**
 * Site consistency settings: the configuration file named by
 * DYNAMO_CONSISTENCY_CONFIG (or "consistency": {"config": FILE} in the
 * service configuration).
 */
import type { SiteLister } from "../../adapters/storage/listing_port.ts";
import {
  type ConsistencyConfig,
  parseConsistencyConfig,
} from "../../policies/consistency/consistency_config.ts";

export interface ConsistencySettings {
  config: ConsistencyConfig;
  /** How sites are listed (default: through their storage adapters). */
  lister?: SiteLister;
  /** How often the schedule is looked at (default: an hour, or the interval when shorter); 0 = on request only. */
  tickMs?: number;
}

/** The consistency configuration named by DYNAMO_CONSISTENCY_CONFIG, or null when none. */
export async function consistencyFromEnv(
  env: (name: string) => string | undefined,
): Promise<ConsistencySettings | null> {
  const file = env("DYNAMO_CONSISTENCY_CONFIG");
  if (!file) return null;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new TypeError(`DYNAMO_CONSISTENCY_CONFIG: cannot read ${file}: ${(e as Error).message}`);
  }
  return { config: parseConsistencyConfig(text, file) };
}
