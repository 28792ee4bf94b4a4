/**
 * An OTLP/HTTP trace receiver on 127.0.0.1 for tests and benchmarks: accepts POST /v1/traces in
 * the JSON encoding (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and keeps the spans, flattened, or
 * (`discard`) only counts the requests — a sink that costs the exporters nothing but the send.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly service: string;
  readonly scope: string;
  readonly name: string;
  /** OTLP's: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** POSTs received. */
  exports: number;
  close(): Promise<void>;
}

type KeyValue = { key: string; value: Record<string, unknown> };
type Json = {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        name: string;
        kind: number;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes?: KeyValue[];
      }[];
    }[];
  }[];
};

const attributesOf = (list: KeyValue[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

export async function startOtlpReceiver(
  options: { discard?: boolean } = {},
): Promise<OtlpReceiver> {
  const receiver: OtlpReceiver = {
    endpoint: '',
    spans: [],
    exports: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receiver.exports++;
      if (!options.discard && request.url === '/v1/traces') collect(receiver, chunks);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { endpoint: `http://127.0.0.1:${port}` });
}

function collect(receiver: OtlpReceiver, chunks: Buffer[]): void {
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        receiver.spans.push({
          service,
          scope: scopeSpans.scope?.name ?? '',
          name: span.name,
          kind: span.kind,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          attributes: attributesOf(span.attributes),
        });
      }
    }
  }
}
