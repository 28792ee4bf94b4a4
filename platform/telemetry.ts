/**
 * OpenTelemetry tracing of a service process (docs/observability.md): off unless configured
 * (platform/config/telemetry.ts), and then started before anything it instruments is loaded.
 *
 * @remarks
 * Off costs nothing: the SDK and its instrumentations live in telemetry/sdk.ts, imported
 * dynamically only when tracing is on, and {@link traceBatch} is a direct call. On, the
 * instrumentations patch cassandra-driver and ioredis as they are loaded, so an entry point
 * calls {@link startTelemetry} first and imports the rest of the service afterwards (router/
 * index.ts, subgraphs/kit/main.ts): ES module imports are all evaluated before the importing
 * module's body runs, so a static import would load the drivers unpatched.
 */
import type { Tracer } from '@opentelemetry/api';
import type { TelemetrySettings } from './config/load.js';

export interface Telemetry {
  /** Exports what is buffered and stops (before the process exits). */
  shutdown(): Promise<void>;
}

const OFF: Telemetry = { shutdown: async () => undefined };

/** This process's tracer, once tracing has started; undefined while it is off. */
let tracer: Tracer | undefined;

export async function startTelemetry(settings: TelemetrySettings): Promise<Telemetry> {
  if (!settings.enabled) return OFF;
  const { startTracing } = await import('./telemetry/sdk.js');
  const started = await startTracing(settings);
  tracer = started.tracer;
  return started;
}

/** Whether this process records spans (it loaded the SDK). */
export function isTracing(): boolean {
  return tracer !== undefined;
}

/**
 * Runs one DataLoader batch (or any unit of work) in a span named `name`, a child of the
 * active one; while tracing is off, just runs it.
 */
export function traceBatch<T>(
  name: string,
  attributes: Readonly<Record<string, string | number>>,
  run: () => Promise<T>,
): Promise<T> {
  if (!tracer) return run();
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await run();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: 2 }); // SpanStatusCode.ERROR, without importing the API's values
      throw error;
    } finally {
      span.end();
    }
  });
}
