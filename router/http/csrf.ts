/**
 * Apollo Server's CSRF prevention rule, for the one place that answers before Apollo Server
 * runs: the response cache's hit path (pipeline/cacheLookup.ts). A request a browser could send
 * cross-site without a preflight — no content type, or a "simple" one (text/plain, form data) —
 * and without a non-empty `x-apollo-operation-name` / `apollo-require-preflight` header is
 * refused by Apollo Server as CSRF; the cache must not answer it either, or a cached query would
 * be readable by exactly the request the rule exists to stop.
 *
 * @remarks
 * Hand-written because Apollo Server does not export its check (`preventCsrf` lives in an
 * internal module); this mirrors @apollo/server 5's `preventCsrf` with its recommended headers,
 * and test/security/csrf-cache.test.ts checks both answer alike.
 */
const NON_PREFLIGHTED_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);
const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'];

/** Whether Apollo Server would let this request through its CSRF prevention. */
export function passesCsrfPrevention(headers: { get(name: string): string | undefined }): boolean {
  const contentType = headers.get('content-type');
  if (contentType !== undefined) {
    const essence = contentType.split(';', 1)[0]!.trim().toLowerCase();
    // Apollo lets through what it cannot parse as a MIME type (the body parser refuses it).
    if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(essence)) return true;
    if (!NON_PREFLIGHTED_CONTENT_TYPES.has(essence)) return true;
  }
  return PREFLIGHT_HEADERS.some((name) => (headers.get(name) ?? '').length > 0);
}
