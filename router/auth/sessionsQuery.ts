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

/** What the subgraph answered: `data`, and the first element of each error's `path`. */
export interface SessionsAnswer<T> {
  readonly data: T;
  /** Root fields (or aliases) that have an error: their value, even when null, is no answer. */
  readonly failedFields: ReadonlySet<string>;
  /** An error that names no field (the whole request failed). */
  readonly failedWhole: boolean;
}

/** The subgraph's answer, or undefined when it did not answer with `data`. */
export async function askSessions<T>(
  subgraph: SessionsSubgraph,
  query: string,
  variables: Record<string, unknown>,
): Promise<SessionsAnswer<T> | undefined> {
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
    const answer = (await response.body.json()) as {
      data?: T | null;
      errors?: readonly { path?: readonly (string | number)[] }[];
    };
    if (answer.data === null || answer.data === undefined) return undefined;
    const failedFields = new Set<string>();
    let failedWhole = false;
    for (const error of answer.errors ?? []) {
      const field = error.path?.[0];
      if (typeof field === 'string') failedFields.add(field);
      else failedWhole = true;
    }
    return { data: answer.data, failedFields, failedWhole };
  } catch {
    return undefined;
  }
}
