/**
 * The service's settings, one model read from DYNAMO_* variables (the
 * environment, or a configuration file turned into the same variables by
 * service_config.ts): the database, the edge's limits, every agent.
 */
import { parseDeadlineSeconds } from "../../registry/http/request_budget.ts";
import { type AgentsConfig, agentsConfigFromEnv } from "./agents_config.ts";
import { consistencyFromEnv, type ConsistencySettings } from "./consistency_settings.ts";
import { inConfigTerms, type ServiceConfig } from "./service_config.ts";

export interface ServiceSettings extends AgentsConfig {
  home?: string;
  databaseUrl?: string;
  maxBodyBytes?: number;
  trustedDnHeader?: string;
  requestDeadlineMs?: number;
  cycleBudgetMs?: number;
  consistency: ConsistencySettings | null;
}

/**
 * Reads every setting; a bad value stops the start with an error naming the
 * variable (or, with a configuration file, its key where the agents' settings
 * are concerned).
 */
export async function serviceSettingsFromEnv(
  env: (name: string) => string | undefined,
  { nowMs, config }: { nowMs: number; config: ServiceConfig | null },
): Promise<ServiceSettings> {
  const maxBodyText = env("DYNAMO_MAX_BODY_BYTES");
  const maxBodyBytes = maxBodyText === undefined ? undefined : Number(maxBodyText);
  if (maxBodyBytes !== undefined && !(Number.isInteger(maxBodyBytes) && maxBodyBytes > 0)) {
    throw new TypeError(`DYNAMO_MAX_BODY_BYTES must be a positive integer, got "${maxBodyText}"`);
  }
  const trustedDnHeader = env("DYNAMO_TRUSTED_DN_HEADER");
  const requestDeadlineMs = parseDeadlineSeconds(env("DYNAMO_REQUEST_DEADLINE"), "DYNAMO_REQUEST_DEADLINE");
  const cycleBudgetMs = parseDeadlineSeconds(env("DYNAMO_CYCLE_BUDGET"), "DYNAMO_CYCLE_BUDGET");
  const agents = await agentsConfigFromEnv(env, nowMs).catch((e) => {
    throw config && e instanceof TypeError ? new TypeError(inConfigTerms(e.message, config)) : e;
  });
  const home = env("DYNAMO_HOME");
  const databaseUrl = env("DYNAMO_DATABASE_URL");
  return {
    ...(home ? { home } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...agents,
    consistency: await consistencyFromEnv(env),
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
    ...(trustedDnHeader ? { trustedDnHeader } : {}),
    ...(requestDeadlineMs !== undefined ? { requestDeadlineMs } : {}),
    ...(cycleBudgetMs !== undefined ? { cycleBudgetMs } : {}),
  };
}
