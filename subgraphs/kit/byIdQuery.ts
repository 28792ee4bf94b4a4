/**
 * The by-id fields every subgraph has (`robot(id:)`, `robots(ids:)`, `user(id:)`…): validate
 * the argument, then read through the request's loader — never the repository, so an object
 * asked for twice, or also reached through another field, is read once.
 *
 * @remarks
 * The loaders are tenant-scoped (loaderTable.ts), so an object the caller may not see answers
 * null, like an unknown id; an id that is not a UUID is BAD_USER_INPUT naming the argument.
 */
import type { Loadable } from './loadOrNotFound.js';
import { requireUuid, requireUuids } from './validate.js';

type IdValidator = (argumentName: string, value: string) => string;

/**
 * `field(id: ID!)`: the object with that id, or null. `requireId` validates the id (default: a
 * UUID; fleet's missions need a version-1 one).
 */
export function byIdQuery<T, TContext>(
  loaderOf: (ctx: TContext) => Loadable<T>,
  requireId: IdValidator = requireUuid,
): (root: unknown, args: { id: string }, ctx: TContext) => Promise<T | null> {
  return (_root, args, ctx) => loaderOf(ctx).load(requireId('id', args.id));
}

/** `field(ids: [ID!]!)`: per id, the object or null, in the order asked for. */
export function byIdsQuery<T, TContext>(
  loaderOf: (ctx: TContext) => { loadMany(keys: readonly string[]): Promise<(T | null | Error)[]> },
): (root: unknown, args: { ids: string[] }, ctx: TContext) => Promise<(T | null | Error)[]> {
  return (_root, args, ctx) => loaderOf(ctx).loadMany(requireUuids('ids', args.ids));
}
