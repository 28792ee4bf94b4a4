/**
 * Out-of-band invalidation (a write that did not go through a subgraph mutation):
 * `POST /cache/invalidate` with `{"typename": "Robot", "id": "…"}` (one entity),
 * `{"typename": "Robot"}` (every entry holding a Robot) or `{"all": true}`.
 * Allowed to admins (JWT with the admin role) and to the router's own services.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '../../platform/contract/errors.js';
import { headerMapOf, readBody, sendJson } from '../../platform/http.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { ResponseCache } from '../cache/responseCache.js';
import { safeJson, sendErrors } from '../http/responses.js';

export function cacheInvalidationEndpoint(deps: {
  readonly authenticator: Authenticator;
  readonly responseCache: ResponseCache | undefined;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { authenticator, responseCache } = deps;
  return async function invalidateCache(req, res) {
    const headers = headerMapOf(req);
    const auth = await authenticator.authenticate(headers, req.socket.remoteAddress ?? 'unknown');
    if (!auth.ok) return sendErrors(res, 401, auth.message, ErrorCode.UNAUTHENTICATED);
    const isAdmin = auth.identity.kind === 'user' && auth.identity.roles.includes('admin');
    if (!isAdmin)
      return sendErrors(res, 403, 'Only admins may invalidate the cache', ErrorCode.FORBIDDEN);
    const raw = await readBody(req);
    const tag = tagToPurge(raw ? safeJson(raw) : undefined);
    if (!tag)
      return sendErrors(
        res,
        400,
        'Body must be {"typename", "id"}, {"typename"} or {"all": true}',
        ErrorCode.BAD_USER_INPUT,
      );
    if (!responseCache) return sendJson(res, 200, { purged: 0, cache: 'disabled' });
    try {
      return sendJson(res, 200, { purged: await responseCache.purge([tag]), tag });
    } catch {
      return sendErrors(
        res,
        503,
        'The cache is unavailable; entries expire on their own',
        ErrorCode.CACHE_UNAVAILABLE,
      );
    }
  };
}

/** The entity tag a request body names, or undefined when it names none. */
function tagToPurge(body: unknown): string | undefined {
  const request = body as { typename?: unknown; id?: unknown; all?: unknown } | undefined;
  const typename =
    typeof request?.typename === 'string' && /^[A-Z]\w*$/.test(request.typename)
      ? request.typename
      : undefined;
  const id = typeof request?.id === 'string' && request.id.length <= 100 ? request.id : undefined;
  return request?.all === true
    ? '*'
    : typename && id
      ? `${typename}:${id}`
      : typename
        ? `type:${typename}`
        : undefined;
}
