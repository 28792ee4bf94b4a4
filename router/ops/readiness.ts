/** `/readyz`: ready when the supergraph is loaded and every subgraph answers its /healthz. */
import type { ServerResponse } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { sendJson } from '../../platform/http.js';
import type { SupergraphState } from '../supergraph.js';

export function readinessEndpoint(deps: {
  readonly supergraph: SupergraphState;
  readonly agent: Dispatcher;
}): (res: ServerResponse) => Promise<void> {
  const { supergraph, agent } = deps;
  return async function readiness(res) {
    const entries = Object.entries(supergraph.subgraphUrls);
    const checks = await Promise.all(
      entries.map(async ([name, url]) => {
        try {
          const health = await request(new URL('/healthz', url), {
            headersTimeout: 1000,
            bodyTimeout: 1000,
            dispatcher: agent,
          });
          await health.body.dump();
          return [name, health.statusCode === 200] as const;
        } catch {
          return [name, false] as const;
        }
      }),
    );
    const ready = entries.length > 0 && checks.every(([, ok]) => ok);
    sendJson(res, ready ? 200 : 503, { ready, subgraphs: Object.fromEntries(checks) });
  };
}
