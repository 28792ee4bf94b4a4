/**
 * The operator's bearer token (OPERATOR_TOKEN) on the operations listener, compared in
 * constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether an `Authorization` header carries exactly `Bearer <token>`. Both sides are hashed
 * first: timingSafeEqual needs equal lengths, and comparing the raw strings' lengths would tell
 * a prober the token's length; the digests are always 32 bytes.
 */
export function bearerTokenMatcher(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return function matches(authorization) {
    const presented = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? '')?.[1] ?? '';
    return timingSafeEqual(digest(presented), expected) && presented.length > 0;
  };
}
