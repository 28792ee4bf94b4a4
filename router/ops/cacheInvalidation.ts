/**
 * Out-of-band invalidation (a write that did not go through a subgraph mutation):
 * `POST /cache/invalidate` with `{"typename": "Robot", "id": "…"}` (one entity),
 * `{"typename": "Robot"}` (every entry holding a Robot) or `{"all": true}`. Two endpoints:
 *
 * - **Public port, organization admins** (JWT admin role): one entity, and only one their
 *   organization owns (entityOwnership.ts asks the subgraphs with the caller's identity).
 *   Another tenant's entity and a missing one are both 404 NOT_FOUND, same message and shape:
 *   no existence oracle. A type or everything is 403 FORBIDDEN — it empties every tenant's
 *   cache, so it is operator-only. Rate limited per caller (CACHE_INVALIDATION_RATE_LIMIT a
 *   minute, 429 RATE_LIMITED with Retry-After), checked before the ownership fetches it bounds.
 * - **Operations listener, operators** (../http/opsServer.ts, `Bearer OPERATOR_TOKEN`): every
 *   form, any tenant; 401 otherwise. Not rate limited: a bulk sync may purge many entities,
 *   the listener is not public, and the token is ≥ 32 random characters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../../platform/contract/errors.js';
import { headerMapOf, readBody, sendJson } from '../../platform/http.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { TagVersions } from '../cache/tagVersions.js';
import { safeJson, sendErrors } from '../http/responses.js';
import type { RateLimiter } from '../rateLimit.js';
import type { OwnershipCheck } from './entityOwnership.js';
import { bearerTokenMatcher } from './operatorToken.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The rate class of public invalidations (its limit is given to the RateLimiter). */
export const INVALIDATION_RATE_CLASS = 'cache-invalidation';

const BAD_BODY = 'Body must be {"typename", "id"}, {"typename"} or {"all": true}';
const OPERATOR_ONLY =
  'Purging a whole type or the whole cache is operator-only (the operations listener); an organization admin may purge one entity of their organization';
/** The one answer for another tenant's entity and for a missing one. */
const NOT_FOUND = 'No such entity in your organization';

type Purge =
  | { readonly form: 'entity'; readonly typename: string; readonly id: string }
  | { readonly form: 'type'; readonly typename: string }
  | { readonly form: 'all' };

/** The public endpoint: organization admins, one entity of their own. */
export function tenantCacheInvalidationEndpoint(deps: {
  readonly authenticator: Authenticator;
  readonly versions: TagVersions | undefined;
  readonly rateLimiter: RateLimiter;
  readonly ownershipOf: OwnershipCheck;
}): Handler {
  const { authenticator, versions, rateLimiter, ownershipOf } = deps;
  return async function invalidateOwnEntity(req, res) {
    const headers = headerMapOf(req);
    const auth = await authenticator.authenticate(headers, req.socket.remoteAddress ?? 'unknown');
    if (!auth.ok && auth.retryAfterSeconds !== undefined) {
      // Too many failed authentications from this address: the same answer as /graphql's.
      res.setHeader('retry-after', auth.retryAfterSeconds);
      return sendErrors(res, 429, auth.message, ErrorCode.RATE_LIMITED);
    }
    if (!auth.ok) return sendErrors(res, 401, auth.message, ErrorCode.UNAUTHENTICATED);
    const rate = rateLimiter.check(
      `${INVALIDATION_RATE_CLASS}:${auth.rateSubject}`,
      INVALIDATION_RATE_CLASS,
    );
    res.setHeader('x-ratelimit-limit', rate.limit);
    res.setHeader('x-ratelimit-remaining', rate.remaining);
    if (!rate.allowed) {
      res.setHeader('retry-after', rate.retryAfterSeconds);
      const message = `Rate limit of ${rate.limit} cache invalidations per minute exceeded; retry after ${rate.retryAfterSeconds}s`;
      return sendErrors(res, 429, message, ErrorCode.RATE_LIMITED);
    }
    const { identity } = auth;
    if (identity.kind !== 'user' || !identity.roles.includes('admin'))
      return sendErrors(res, 403, 'Only admins may invalidate the cache', ErrorCode.FORBIDDEN);
    const purge = await purgeRequested(req);
    if (!purge) return sendErrors(res, 400, BAD_BODY, ErrorCode.BAD_USER_INPUT);
    if (purge.form !== 'entity') return sendErrors(res, 403, OPERATOR_ONLY, ErrorCode.FORBIDDEN);
    const ownership = await ownershipOf(identity, purge.typename, purge.id);
    if (ownership === 'unavailable')
      return sendErrors(
        res,
        503,
        'Ownership of the entity could not be checked; retry later',
        ErrorCode.SUBGRAPH_UNAVAILABLE,
      );
    if (ownership !== 'owned') return sendErrors(res, 404, NOT_FOUND, ErrorCode.NOT_FOUND);
    return purgeTag(res, versions, tagOf(purge));
  };
}

/** The operations listener's endpoint: every form, for the operator token's holder. */
export function operatorCacheInvalidationEndpoint(deps: {
  readonly operatorToken: string;
  readonly versions: TagVersions | undefined;
}): Handler {
  const { versions } = deps;
  const isOperator = bearerTokenMatcher(deps.operatorToken);
  return async function invalidateAsOperator(req, res) {
    if (!isOperator(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendErrors(res, 401, 'The operator token is required', ErrorCode.UNAUTHENTICATED);
    }
    const purge = await purgeRequested(req);
    if (!purge) return sendErrors(res, 400, BAD_BODY, ErrorCode.BAD_USER_INPUT);
    return purgeTag(res, versions, tagOf(purge));
  };
}

async function purgeTag(
  res: ServerResponse,
  versions: TagVersions | undefined,
  tag: string,
): Promise<void> {
  // Every router takes part in invalidation, whatever its own cache setting.
  if (!versions) return sendJson(res, 200, { purged: false, cache: 'disabled' });
  if (await versions.purge([tag])) return sendJson(res, 200, { purged: true, tag });
  // Not confirmed: kept out of this instance's cache and retried until Redis takes it.
  return sendErrors(
    res,
    503,
    'The purge could not be confirmed; it is retried, and this instance serves nothing it covers meanwhile',
    ErrorCode.CACHE_UNAVAILABLE,
  );
}

/** The purge a request body names, or undefined when it names none. */
async function purgeRequested(req: IncomingMessage): Promise<Purge | undefined> {
  const raw = await readBody(req);
  const request = (raw ? safeJson(raw) : undefined) as
    { typename?: unknown; id?: unknown; all?: unknown } | undefined;
  if (request?.all === true) return { form: 'all' };
  const typename =
    typeof request?.typename === 'string' && /^[A-Z]\w{0,99}$/.test(request.typename)
      ? request.typename
      : undefined;
  if (!typename) return undefined;
  if (request?.id === undefined) return { form: 'type', typename };
  // Keys are UUIDs, which the subgraphs tag in lower case (subgraphs/kit/cassandra/entityTags.ts).
  const id = typeof request.id === 'string' && request.id.length <= 100 ? request.id : undefined;
  return id ? { form: 'entity', typename, id: id.toLowerCase() } : undefined;
}

function tagOf(purge: Purge): string {
  if (purge.form === 'all') return '*';
  return purge.form === 'type' ? `type:${purge.typename}` : `${purge.typename}:${purge.id}`;
}
