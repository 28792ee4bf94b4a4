/**
 * The OpenTelemetry SDK of a traced process: imported (dynamically, by platform/telemetry.ts)
 * only when tracing is on.
 *
 * @remarks
 * What is traced, and by what:
 * - incoming HTTP requests (the router's /graphql, a subgraph's /graphql): instrumentation-http,
 *   which also continues the trace a `traceparent` header carries (W3C trace context, the
 *   propagator the provider registers);
 * - the router's outgoing calls: the subgraph fetches and session checks go through undici
 *   (router/subgraphClient.ts), traced by instrumentation-undici from undici's diagnostics
 *   channels, which also adds `traceparent` to each request; query planning and execution by
 *   @apollo/gateway's own spans (gateway.request, gateway.plan, gateway.fetch, …), which it
 *   makes through @opentelemetry/api and which therefore exist only once a provider is
 *   registered;
 * - Cassandra statements and Redis commands: instrumentation-cassandra-driver and
 *   instrumentation-ioredis, which patch the drivers when they are loaded — hence
 *   {@link startTracing} before they are imported. Both are CommonJS packages, but imported
 *   from our ES modules they are loaded by the ESM loader, which require-in-the-middle does not
 *   see (verified: no spans without it): import-in-the-middle's loader hook is registered,
 *   for these two packages only. A Redis command outside any request (a subscriber's) is not
 *   traced.
 * Spans leave in batches (BatchSpanProcessor) over OTLP/HTTP, protobuf or JSON.
 */
import { register } from 'node:module';
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { CassandraDriverInstrumentation } from '@opentelemetry/instrumentation-cassandra-driver';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { TelemetrySettings } from '../config/load.js';

type Enabled = Extract<TelemetrySettings, { enabled: true }>;

/** Paths probed by load balancers and scrapers: not worth a trace each. */
const UNTRACED_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

/** The CommonJS packages the instrumentations patch, as ES modules import them. */
const HOOKED_PACKAGES = ['cassandra-driver', 'ioredis'] as const;

export async function startTracing(
  settings: Enabled,
): Promise<{ tracer: Tracer; shutdown(): Promise<void> }> {
  const Exporter = settings.protocol === 'http/json' ? JsonExporter : ProtobufExporter;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      ...settings.resourceAttributes,
      'service.name': settings.serviceName,
    }),
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(settings.sampleRatio),
    }),
    spanProcessors: [
      new BatchSpanProcessor(new Exporter({ url: settings.url, headers: settings.headers })),
    ],
  });
  provider.register(); // global provider, AsyncLocalStorage context, W3C trace-context propagator
  // The drivers, imported from ES modules, pass through the ESM loader: hook those two only.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
    data: { include: [...HOOKED_PACKAGES] },
  });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
      }),
      new UndiciInstrumentation(),
      new CassandraDriverInstrumentation(),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  return {
    tracer: trace.getTracer('fleetgraph'),
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
}
