/**
 * The tracing settings of the router and the subgraphs (platform/telemetry.ts uses them).
 *
 * @remarks
 * Off unless an OTLP exporter is configured — OTEL_TRACES_EXPORTER=otlp, or an OTLP endpoint
 * (the OpenTelemetry SDK's own default exporter is `otlp`; ours is none, so that a process
 * started without the variables neither loads the SDK nor tries to reach a collector) — and
 * always off when OTEL_SDK_DISABLED is true.
 */
import type { z } from 'zod';
import { pairs, type telemetryVariables } from './variables.js';

type Env = z.output<z.ZodObject<typeof telemetryVariables>>;

export function telemetrySettings(env: Env, defaultServiceName: string) {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const exporter = env.OTEL_TRACES_EXPORTER ?? (endpoint || tracesEndpoint ? 'otlp' : 'none');
  if (env.OTEL_SDK_DISABLED || exporter === 'none') return { enabled: false as const };
  return {
    enabled: true as const,
    serviceName: env.OTEL_SERVICE_NAME ?? defaultServiceName,
    /** Where spans are POSTed: the specification's default is http://localhost:4318. */
    url: tracesEndpoint ?? `${endpoint ?? 'http://localhost:4318'}/v1/traces`,
    protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL,
    headers: pairs(env.OTEL_EXPORTER_OTLP_HEADERS) as Readonly<Record<string, string>>,
    resourceAttributes: pairs(env.OTEL_RESOURCE_ATTRIBUTES) as Readonly<Record<string, string>>,
    sampleRatio: env.OTEL_TRACES_SAMPLER_ARG,
  };
}
export type TelemetrySettings = ReturnType<typeof telemetrySettings>;
