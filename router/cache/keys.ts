/**
 * The response cache's keys (the scheme is described in responseCache.ts): a request is
 * identified by its bytes before parsing, an entry by that and by who may share it.
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../../platform/contract/identity.js';

export interface CachePolicy {
  readonly maxAge: number;
  readonly scope: 'PUBLIC' | 'PRIVATE';
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Identifies a request before parsing: its bytes and how it wants the answer encoded. */
export function requestHash(
  method: string,
  requestText: string,
  accept: string | undefined,
): string {
  return sha256(`${method}\n${accept ?? ''}\n${requestText}`);
}

/** The key of a request's entry for one caller, under the scope of the request's policy. */
export function entryKey(
  requestHash: string,
  identity: Identity,
  scope: CachePolicy['scope'],
  restricted: boolean,
): string {
  return sha256(`${requestHash}|${scopeKey(identity, scope, restricted)}`);
}

/**
 * Who may share an entry. Authorization decides visibility by organization and roles/scopes,
 * so PUBLIC entries are shared only by callers alike in those; PRIVATE ones only by one caller.
 */
export function scopeKey(
  identity: Identity,
  scope: CachePolicy['scope'],
  restricted: boolean,
): string {
  const base = (() => {
    switch (identity.kind) {
      case 'anonymous':
        return 'anonymous';
      case 'user':
        return `user|${identity.organizationId}|${[...identity.roles].sort().join(',')}`;
      case 'partner':
        return `partner|${identity.organizationId}|${[...identity.scopes].sort().join(',')}|${restricted ? 'trusted-only' : 'any'}`;
      case 'service':
        return `service|${identity.service}`;
    }
  })();
  if (scope === 'PUBLIC') return base;
  const who =
    identity.kind === 'user'
      ? identity.userId
      : identity.kind === 'partner'
        ? identity.apiKeyId
        : base;
  return `${base}|${who}`;
}
