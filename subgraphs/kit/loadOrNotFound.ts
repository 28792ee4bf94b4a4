/**
 * The object a mutation (or a required relation) acts on: loaded through its request loader, or
 * NOT_FOUND.
 *
 * @remarks
 * The loaders are tenant-scoped (loaderTable.ts), so another organization's object loads as
 * null like an unknown id, and this answers NOT_FOUND for both: the caller never learns that
 * the object exists. Going through the loader (never the repository) also means a mutation
 * that loads what an earlier field of the same request loaded costs no second read.
 */
import { notFound } from '../../platform/contract/errors.js';
import { requireUuid } from './validate.js';

/** What is loaded from: a DataLoader, or a guarded view of one (objects.ts `guardedLoader`). */
export interface Loadable<T> {
  load(key: string): Promise<T | null>;
}

export interface LoadOptions<T> {
  /**
   * The argument `id` came from, unvalidated: it is checked as a UUID first (BAD_USER_INPUT
   * naming it) and loaded lowercased, while NOT_FOUND names the id as the caller wrote it.
   * Absent: `id` is already a validated key.
   */
  readonly argument?: string;
  /** A loaded object that no longer counts (an expired session whose row has not vanished yet). */
  readonly isGone?: (value: T) => boolean;
}

/** `id`'s `typename` object, or a NOT_FOUND error saying `<typename> <id> was not found`. */
export async function loadOrNotFound<T>(
  loader: Loadable<T>,
  typename: string,
  id: string,
  options: LoadOptions<T> = {},
): Promise<T> {
  const key = options.argument === undefined ? id : requireUuid(options.argument, id);
  const value = await loader.load(key);
  if (value === null || options.isGone?.(value)) throw notFound(typename, id);
  return value;
}
