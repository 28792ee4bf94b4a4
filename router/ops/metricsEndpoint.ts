/** `/metrics`: the router's Prometheus metrics (../metrics.ts). */
import type { ServerResponse } from 'node:http';
import type { RouterMetrics } from '../metrics.js';

export function metricsEndpoint(metrics: RouterMetrics): (res: ServerResponse) => Promise<void> {
  return async function serveMetrics(res) {
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(await metrics.registry.metrics());
  };
}
