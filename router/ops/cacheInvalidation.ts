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
import type { TagVersions } from '../cache/tagVersions.js';
import { safeJson, sendErrors } from '../http/responses.js';

export function cacheInvalidationEndpoint(deps: {
  readonly authenticator: Authenticator;
  readonly versions: TagVersions | undefined;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { authenticator, versions } = deps;
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
