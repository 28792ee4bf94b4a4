/**
 * An `_entities` fetch through the entity cache (cache/entityCache.ts): every representation is
 * looked up first, only the misses go to the subgraph — in a smaller `_entities` call — and the
 * results are merged back in the order the gateway asked for, the partial fetch's errors moved
 * to the indices of the representations they concern.
 *
 * @remarks
 * Only queries come here (never a mutation's fetches). The gateway repeats a representation once
 * per parent (100 robots, ~10 operators): the lookup and the partial fetch each use one per
 * distinct representation. A hit adds the entry's read tags to the request (a response cached
 * whole depends on them too) and restricts the request's cache policy with the entry's scope and
 * remaining maxAge, as the fetch's Cache-Control would have.
 */
import type {
  GatewayGraphQLRequest,
  GatewayGraphQLResponse,
} from '@apollo/server-gateway-interface';
import type { GraphQLFormattedError } from 'graphql';
import { policyTag } from '../platform/contract/entityTags.js';
import type { EntityCache } from './cache/entityCache.js';
import type { CachePolicy } from './cache/keys.js';
import type { RouterContext } from './graphql/context.js';
import type { RouterMetrics } from './metrics.js';

/** One fetch's answer, parsed, with its Cache-Control and the read tags it reported. */
export interface Fetched {
  readonly response: GatewayGraphQLResponse;
  readonly cacheControl: string | undefined;
  readonly reads: readonly string[] | undefined;
}

export interface EntityFetch {
  readonly cache: EntityCache;
  readonly subgraph: string;
  readonly metrics: Pick<RouterMetrics, 'entityCacheHits' | 'entityCacheMisses' | 'redisBypasses'>;
  readonly context: RouterContext;
  readonly request: GatewayGraphQLRequest;
  /** The request's overall cache policy (the gateway's), restricted by every hit. */
  readonly overallPolicy: unknown;
}

type Variables = Record<string, unknown>;

/** Whether a fetch is the gateway's fetch of entities by key (and nothing else). */
export function isEntitiesFetch(request: GatewayGraphQLRequest): boolean {
  return (
    /^\s*query\b[^{]*\{\s*_entities\s*\(/.test(request.query ?? '') &&
    Array.isArray(request.variables?.['representations'])
  );
}

export async function fetchEntities(
  fetch: EntityFetch,
  send: (variables: Variables) => Promise<Fetched>,
): Promise<GatewayGraphQLResponse> {
  const { cache, subgraph, metrics, context, request } = fetch;
  const variables = request.variables ?? {};
  const all = async () => (await send(variables)).response;
  if (cache.isKnownUncacheable(subgraph, request.query!)) {
    const fetched = await send(variables);
    if (isStorable(fetched)) cache.forgetUncacheable(subgraph, request.query!);
    return fetched.response;
  }
  if (!cache.available) {
    metrics.redisBypasses.inc({ purpose: 'entity_cache' });
    return all();
  }
  // Distinct representations, each with the indices where the gateway wants it.
  const positions = new Map<string, { rep: unknown; at: number[] }>();
  (variables['representations'] as unknown[]).forEach((rep, at) => {
    const key = JSON.stringify(rep);
    const known = positions.get(key);
    if (known) known.at.push(at);
    else positions.set(key, { rep, at: [at] });
  });
  const distinct = [...positions.keys()];
  const caller = { identity: context.identity, restricted: context.restricted ?? false };
  const shape = cache.shapeOf(subgraph, request.query!, variables);
  // Before anything is read: a purge after this moment keeps what the fetch reads out.
  const snapshot = cache.snapshot();
  let found;
  try {
    found = await cache.lookup(shape, caller, distinct);
  } catch {
    metrics.redisBypasses.inc({ purpose: 'entity_cache' });
    return all();
  }
  const results = new Map<string, unknown>();
  const misses: string[] = [];
  distinct.forEach((rep, i) => {
    const hit = found[i];
    if (!hit) return void misses.push(rep);
    results.set(rep, hit.entity);
    recordHit(fetch, hit);
  });
  metrics.entityCacheHits.inc({ subgraph }, distinct.length - misses.length);
  metrics.entityCacheMisses.inc({ subgraph }, misses.length);
  let errors: GraphQLFormattedError[] | undefined;
  if (misses.length > 0) {
    const reps = misses.map((rep) => positions.get(rep)!.rep);
    const fetched = await send({ ...variables, representations: reps });
    const got = (fetched.response.data as { _entities?: unknown[] } | null | undefined)?._entities;
    misses.forEach((rep, i) => results.set(rep, got?.[i] ?? null));
    const moved = moveErrors(fetched.response.errors, misses, positions);
    errors = moved.errors;
    const policy = policyOf(fetched.cacheControl);
    // Only a complete answer says the shape is uncacheable; a failed fetch says nothing.
    if (!isStorable(fetched) && Array.isArray(got) && !fetched.response.errors?.length)
      cache.rememberUncacheable(subgraph, request.query!);
    if (policy && fetched.reads && Array.isArray(got) && got.length === misses.length) {
      const storable = misses
        .filter((_, i) => moved.failed !== 'all' && !moved.failed.has(i))
        .map((rep) => ({ rep, entity: results.get(rep) }));
      const reads = [...fetched.reads, policyTag(subgraph)];
      await cache
        .store(shape, caller, policy, storable, reads, snapshot)
        .catch(() => metrics.redisBypasses.inc({ purpose: 'entity_cache' }));
    }
  }
  const entities: unknown[] = [];
  for (const [rep, { at }] of positions) {
    const result = results.get(rep);
    // Distinct objects per position, as the subgraph would send: the gateway merges into them.
    at.forEach((index, n) => (entities[index] = n === 0 ? result : copyOf(result)));
  }
  return { data: { _entities: entities }, ...(errors ? { errors } : {}) };
}

/**
 * A deep copy of an entity: a spread when every value is a scalar (the common case, e.g. a
 * user's `displayName`: ~80 copies per fleet dashboard, where structuredClone was ~2 % of the
 * router's busy time), structuredClone otherwise.
 */
export function copyOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype)
    return structuredClone(value);
  const record = value as Record<string, unknown>;
  for (const key in record)
    if (typeof record[key] === 'object' && record[key] !== null) return structuredClone(value);
  return { ...record };
}

/**
 * The partial fetch's errors at the indices of the full fetch (one copy per index a
 * representation fills), and which partial indices failed ('all' when an error names none).
 */
function moveErrors(
  errors: readonly GraphQLFormattedError[] | undefined,
  misses: readonly string[],
  positions: ReadonlyMap<string, { at: number[] }>,
): { errors: GraphQLFormattedError[] | undefined; failed: Set<number> | 'all' } {
  if (!errors || errors.length === 0) return { errors: undefined, failed: new Set() };
  let failed: Set<number> | 'all' = new Set();
  const moved: GraphQLFormattedError[] = [];
  for (const error of errors) {
    const path = error.path;
    const index = path?.[0] === '_entities' ? path[1] : undefined;
    const rep = typeof index === 'number' ? misses[index] : undefined;
    if (rep === undefined) {
      moved.push(error);
      failed = 'all';
      continue;
    }
    if (failed !== 'all') failed.add(index as number);
    for (const at of positions.get(rep)!.at)
      moved.push({ ...error, path: ['_entities', at, ...path!.slice(2)] });
  }
  return { errors: moved, failed };
}

/**
 * Whether a fetch's entities could be stored: a cacheable policy *and* the read tags their
 * freshness is checked against. A subgraph that reports no tags (one not built on
 * subgraphs/kit, such as the router-bound benchmark's) gives nothing the versions could
 * invalidate, so its entities are never stored — and looking them up would only ever miss.
 */
function isStorable(fetched: Fetched): boolean {
  return policyOf(fetched.cacheControl) !== undefined && fetched.reads !== undefined;
}

/** A fetch's Cache-Control as a policy to store under; undefined: not cacheable. */
export function policyOf(header: string | undefined): CachePolicy | undefined {
  const maxAge = Number(header ? (/max-age=(\d+)/.exec(header)?.[1] ?? 0) : 0);
  if (!header || maxAge <= 0) return undefined;
  if (/\bprivate\b/.test(header)) return { maxAge, scope: 'PRIVATE' };
  return /\bpublic\b/.test(header) ? { maxAge, scope: 'PUBLIC' } : undefined;
}

/**
 * Folds a subgraph's Cache-Control into the request's overall policy, as the gateway's own
 * data source does: no header or no max-age means "do not cache".
 */
export function restrictCachePolicy(policy: unknown, header: string | undefined): void {
  const maxAge = header ? /max-age=(\d+)/.exec(header)?.[1] : undefined;
  const scope =
    header && /\bprivate\b/.test(header)
      ? 'PRIVATE'
      : header && /\bpublic\b/.test(header)
        ? 'PUBLIC'
        : undefined;
  restrict(policy, { maxAge: maxAge ? Number(maxAge) : 0, ...(scope ? { scope } : {}) });
}

function restrict(policy: unknown, hint: { maxAge: number; scope?: CachePolicy['scope'] }): void {
  if (!policy || typeof (policy as { restrict?: unknown }).restrict !== 'function') return;
  (policy as { restrict(hint: { maxAge: number; scope?: CachePolicy['scope'] }): void }).restrict(
    hint,
  );
}

/** What a hit tells the request: its read tags, its policy, and whether it is caller-scoped. */
function recordHit(
  fetch: EntityFetch,
  hit: { reads: readonly string[]; expiresAt: number; scope: CachePolicy['scope'] },
): void {
  const { cache } = fetch.context;
  for (const tag of hit.reads) cache.reads.add(tag);
  // As a PRIVATE reply does (subgraphClient.ts): what was read may differ for another caller of
  // the same organization and roles, so a subscription group stops sharing its executions.
  if (hit.scope === 'PRIVATE') cache.callerScoped = true;
  restrict(fetch.overallPolicy, {
    maxAge: Math.max(0, Math.floor((hit.expiresAt - Date.now()) / 1000)),
    scope: hit.scope,
  });
}
