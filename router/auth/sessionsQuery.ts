/**
 * The router's own questions to the sessions subgraph (revocation checks), asked directly over
 * HTTP as the service `router` — not through the gateway, which serves clients.
 */
import { request } from 'undici';
import { signIdentity } from '../../platform/contract/identity.js';

export interface SessionsSubgraph {
  /** Its URL, as the supergraph (or SUBGRAPH_URLS) says now. */
  readonly url: () => string;
  readonly signingSecret: string;
  readonly timeoutMs: number;
}

const ROUTER = { kind: 'service', service: 'router' } as const;

/** The query's `data`, or undefined when the subgraph did not answer with it. */
export async function askSessions<T>(
  subgraph: SessionsSubgraph,
  query: string,
  variables: Record<string, unknown>,
): Promise<T | undefined> {
  const url = subgraph.url();
  const at = url.indexOf('?');
  const body = JSON.stringify({ query, variables });
  try {
    const response = await request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // Signed for this subgraph and this body only (platform/contract/identity.ts).
        ...signIdentity(ROUTER, subgraph.signingSecret, {
          subgraph: 'sessions',
          body,
          search: at < 0 ? '' : url.slice(at),
        }),
      },
      body,
      // A deadline on the whole answer: header and body timeouts alone let a subgraph that
      // drips its body hold authentication for as long as it drips.
      signal: AbortSignal.timeout(subgraph.timeoutMs),
    });
    const answer = (await response.body.json()) as { data?: T | null };
    return answer.data ?? undefined;
  } catch {
    return undefined;
  }
}
