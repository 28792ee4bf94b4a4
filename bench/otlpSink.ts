/**
 * An OTLP/HTTP sink for measuring what tracing costs (bench/README.md, "Tracing cost"): accepts
 * and discards trace exports on 127.0.0.1:<port> (default 4318) for at most <seconds> (default
 * 1200), then exits. Run it beside `npm run bench` with OTEL_EXPORTER_OTLP_ENDPOINT pointing at
 * it, so the routers export every sampled span to a real receiver that costs them nothing but
 * the send:
 *
 *   node --import tsx bench/otlpSink.ts 4318 1200 &
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_EXPORTER_OTLP_PROTOCOL=http/json \
 *     OTEL_TRACES_SAMPLER_ARG=0.1 BENCH_SCENARIOS=router-bound npm run bench
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 4318);
const seconds = Number(process.argv[3] ?? 1200);
let exports = 0;
let bytes = 0;
const server = createServer((request, response) => {
  request.on('data', (chunk: Buffer) => (bytes += chunk.length));
  request.on('end', () => {
    exports++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(port, '127.0.0.1', () =>
  console.log(`[otlp-sink] http://127.0.0.1:${port}, exits after ${seconds} s`),
);
const report = () => console.log(`[otlp-sink] ${exports} exports, ${bytes} bytes`);
setTimeout(() => {
  report();
  server.close();
  process.exit(0);
}, seconds * 1000).unref();
setInterval(report, 60_000).unref();
process.on('SIGTERM', () => {
  report();
  process.exit(0);
});
// Keeps the process alive until the timer above (the interval and timer are unref'd).
server.ref();
