/**
 * A subgraph's DataLoaders declared as a table: per loader, what it reads and, for an entity
 * loader, the object-level check that scopes it to the caller's tenant.
 *
 * @remarks
 * Why a table rather than a `createLoader(…)` call per loader in each context factory: the
 * factories then differed only in names, and a new loader could silently skip the tenant check
 * (or get the wrong name in the metrics). Here the key is the loader's name everywhere — in
 * `ctx.loaders` and in the batch metrics — and the check sits next to the read it guards, so a
 * reviewer sees in one line whether a loader is tenant-scoped. The table is module-level data;
 * {@link createLoaders} builds a fresh set from it per request (see loaders.ts for why).
 */
import type DataLoader from 'dataloader';
import { tenantScoped, type EntityCheck } from './authz/objects.js';
import type { Db } from './cassandra/db.js';
import { createLoader, DEFAULT_LOADER_OPTIONS } from './loaders.js';
import type { BaseContext } from './server.js';

/** One loader of a table. */
export interface LoaderSpec<V> {
  /** Reads distinct keys: one value, `null` or `Error` per key, in key order (a repository's). */
  readonly fetch: (db: Db, keys: readonly string[]) => Promise<readonly (V | null | Error)[]>;
  /**
   * For a loader of objects: who may see each one. An object of another tenant then loads as
   * `null`, exactly like an unknown key. Absent for id lists, whose ids are loaded through a
   * checked loader.
   */
  readonly check?: EntityCheck<V>;
}

/** Loader name → spec; `V` is each loader's value type. */
export type LoaderTable<T> = { readonly [K in keyof T]: LoaderSpec<T[K]> };

/** The loaders a table declares, as resolvers see them on `ctx.loaders`. */
export type Loaders<T> = { readonly [K in keyof T]: DataLoader<string, T[K] | null> };

/** The loaders of a table value, e.g. `LoadersOf<typeof fleetLoaders>`. */
export type LoadersOf<Table> = Table extends LoaderTable<infer T> ? Loaders<T> : never;

/** Declares a table; the identity function that lets TypeScript infer each loader's value type. */
export function loaderTable<T>(table: LoaderTable<T>): LoaderTable<T> {
  return table;
}

/**
 * A fresh set of the table's loaders for one request: reading through `db`, checked for `identity`.
 */
export function createLoaders<T>(
  table: LoaderTable<T>,
  request: Pick<BaseContext, 'db' | 'metrics' | 'identity' | 'loaderOptions'>,
): Loaders<T> {
  const { db, metrics, identity } = request;
  const options = request.loaderOptions ?? DEFAULT_LOADER_OPTIONS;
  const loaders: Partial<Record<keyof T, unknown>> = {};
  for (const name of Object.keys(table) as (keyof T & string)[]) {
    const { fetch, check } = table[name];
    const read = (keys: readonly string[]) => fetch(db, keys);
    loaders[name] = createLoader(
      name,
      metrics,
      check ? tenantScoped(identity, check, read) : read,
      options,
    );
  }
  return loaders as Loaders<T>;
}

/**
 * The context factory of a subgraph whose per-request state is the base context plus the
 * table's loaders — what `SubgraphDefinition.createContext` takes.
 */
export function withLoaders<T>(
  table: LoaderTable<T>,
): (base: BaseContext) => BaseContext & { readonly loaders: Loaders<T> } {
  return (base) => ({ ...base, loaders: createLoaders(table, base) });
}
