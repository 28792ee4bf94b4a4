/**
 * The Relay-style connection every paged field answers with (`nodes` and `pageInfo`), from the
 * nodes of one page and the page's position (kit/cassandra/pagination.ts `Page`).
 */
import type { Page } from './cassandra/pagination.js';

/** The arguments of every paged field: `first` (validated by requirePageSize) and `after`. */
export interface PageArgs {
  readonly first?: number | null;
  readonly after?: string | null;
}

export interface Connection<T> {
  readonly nodes: T[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

/**
 * `nodes` are what the page's rows became (loaded, filtered) — which is why they are passed
 * apart from the page whose cursor they share.
 */
export function connection<T>(
  nodes: T[],
  page: Pick<Page<unknown>, 'hasNextPage' | 'endCursor'>,
): Connection<T> {
  return { nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor } };
}

/** A connection without nodes or a next page (what a caller who may see nothing gets). */
export function emptyConnection<T>(): Connection<T> {
  return connection([], { hasNextPage: false, endCursor: null });
}
