/** The Dynamo policy language (spec §2). */
export * from "./errors.ts";
export * from "./time_expression.ts";
export * from "./targets.ts";
export * from "./variables.ts";
export * from "./condition.ts";
export * from "./source_lines.ts";
export * from "./json_source.ts";
export * from "./limits.ts";
