/**
 * Configuration: the only module that reads `process.env`.
 *
 * @remarks
 * Every process calls one loader once at start-up and receives its own typed, deeply frozen
 * slice (slices.ts): {@link loadRouterConfig}, {@link loadSubgraphConfig} or
 * {@link loadToolConfig}. Validation happens here, with zod, so a bad variable stops the process
 * before anything listens, with one line that names the variable (values of secrets are never
 * echoed).
 */
import type { z } from 'zod';
import {
  routerConfigSchema,
  subgraphConfigSchema,
  toolConfigSchema,
  type RouterConfig,
  type SubgraphConfig,
  type ToolConfig,
} from './slices.js';
import type { SubgraphName } from './variables.js';

export { ALL_VARIABLES, type ConsistencyName, type SubgraphName } from './variables.js';
export type {
  CassandraSettings,
  JwtSettings,
  RedisSettings,
  RouterConfig,
  SubgraphConfig,
  ToolConfig,
} from './slices.js';
export type { TelemetrySettings } from './telemetry.js';

/** Thrown for a bad configuration; its message is one line naming the variable(s). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Environment = Readonly<Record<string, string | undefined>>;

export function loadRouterConfig(source: Environment = process.env): RouterConfig {
  return parse(routerConfigSchema, source);
}

export function loadSubgraphConfig(
  name: SubgraphName,
  source: Environment = process.env,
): SubgraphConfig {
  return parse(subgraphConfigSchema(name), source);
}

export function loadToolConfig(source: Environment = process.env): ToolConfig {
  return parse(toolConfigSchema, source);
}

/** Parses a slice; throws {@link ConfigError} naming every bad variable. */
function parse<S extends z.ZodType>(schema: S, source: Environment): z.output<S> {
  // Empty strings mean "unset" (docker-compose passes `VAR=` through for unset variables).
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([, v]) => v !== undefined && v !== ''),
  ) as Record<string, string>;
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || 'environment';
      const received = cleaned[name];
      const shown = received !== undefined && !/SECRET|PASSWORD/.test(name);
      return `${name} ${issue.message}${shown ? ` (got "${received}")` : ''}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
