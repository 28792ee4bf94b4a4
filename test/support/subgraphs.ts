/**
 * Starts real subgraph servers in the test process (on random ports, against the real
 * Cassandra node) and talks to them over HTTP with a router-signed identity.
 */
import { createLogger } from '../../platform/logger.js';
import { signIdentity, type Identity } from '../../platform/contract/identity.js';
import {
  createSubgraphServer,
  type BaseContext,
  type SubgraphDefinition,
  type SubgraphServer,
} from '../../subgraphs/kit/server.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { testSubgraphConfig } from './stack.js';

export interface RunningSubgraph {
  readonly server: SubgraphServer;
  readonly url: string;
  request<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    identity?: Identity,
  ): Promise<{
    status: number;
    body: {
      data?: T;
      errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
    };
  }>;
  /** Sum of a counter's samples whose labels include `labels`, read from GET /metrics. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export async function startSubgraph<T extends BaseContext>(
  definition: SubgraphDefinition<T>,
  cassandra: CassandraClient,
  port = 0,
  env: Readonly<Record<string, string>> = {},
): Promise<RunningSubgraph> {
  const config = testSubgraphConfig(definition.name, env);
  const server = await createSubgraphServer(definition, {
    config,
    cassandra,
    logger: createLogger(config, `test-${definition.name}`),
  });
  const url = await server.listen(port, '127.0.0.1');
  const base = url.replace(/\/graphql$/, '');
  return {
    server,
    url,
    async request(query, variables = {}, identity = ADMIN_OF_ORG0) {
      const body = JSON.stringify({ query, variables });
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signIdentity(identity, config.identitySigningSecret, {
            subgraph: definition.name,
            body,
          }),
        },
        body,
      });
      return { status: response.status, body: (await response.json()) as never };
    },
    async metric(name, labels = {}) {
      const text = await (await fetch(`${base}/metrics`)).text();
      return sumMetric(text, name, labels);
    },
    close: () => server.close(),
  };
}

/** Parses Prometheus text and sums the samples of `name` that carry all of `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const sample = Object.fromEntries(
      [...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => sample[k] === v)) total += Number(match[2]);
  }
  return total;
}

export const ADMIN_OF_ORG0: Identity = {
  kind: 'user',
  userId: seedIds.user(0, 0),
  organizationId: seedIds.organization(0),
  roles: ['admin', 'operator', 'viewer'],
  sessionId: seedIds.session(0, 0, 0),
};

/** The auth service, which starts sessions on sign-in (sessions' startSession is service-only). */
export const AUTH_SERVICE: Identity = { kind: 'service', service: 'auth' };

/** The router's own identity for its session revocation check (sessionValidity). */
export const ROUTER_SERVICE: Identity = { kind: 'service', service: 'router' };
