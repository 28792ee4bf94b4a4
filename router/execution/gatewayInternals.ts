/**
 * The parts of @apollo/gateway (2.14.x) the lean executor reuses rather than rewrites: its
 * data rewrites (@interfaceObject's `__typename` rewriting), its error-path hydration for
 * `_entities` errors, its OpenTelemetry span names and exception recording, and the module
 * whose `executeQueryPlan` export the gateway calls (planExecutor.ts replaces it).
 *
 * These live in the package's dist folder, not its public entry, so they are loaded by path
 * from where the entry resolves; test/unit/lean-executor.test.ts fails if a gateway upgrade
 * moves or renames them.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Span, Tracer } from '@opentelemetry/api';
import type { GraphQLSchema } from 'graphql';
import type { FetchDataRewrite } from '@apollo/query-planner';

const require = createRequire(import.meta.url);
const distDir = dirname(require.resolve('@apollo/gateway'));

export const gatewayExecution = require(join(distDir, 'executeQueryPlan.js')) as {
  executeQueryPlan: (...args: unknown[]) => Promise<unknown>;
  generateHydratedPaths: (
    parent: (string | number)[],
    path: readonly (string | number)[],
    data: unknown,
    result: (string | number)[][],
  ) => void;
};

export const dataRewrites = require(join(distDir, 'dataRewrites.js')) as {
  applyRewrites: (
    schema: GraphQLSchema,
    rewrites: readonly FetchDataRewrite[] | undefined,
    value: unknown,
  ) => void;
  isObjectOfType: (schema: GraphQLSchema, object: object, typeCondition: string) => boolean;
};

export const gatewayTelemetry = require(join(distDir, 'utilities/opentelemetry.js')) as {
  tracer: Tracer;
  OpenTelemetrySpanNames: { EXECUTE: string; FETCH: string; POST_PROCESSING: string };
  recordExceptions: (span: Span, exceptions: readonly unknown[], config: unknown) => void;
};
