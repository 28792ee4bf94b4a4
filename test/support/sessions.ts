/**
 * Sessions made the way the auth service makes them: straight through the sessions subgraph as
 * the service `auth` (nobody starts a session for themselves through the router), for tests
 * that need a session the router has never seen, active or already revoked.
 */
import assert from 'node:assert/strict';
import type { Federation } from './federation.js';
import { AUTH_SERVICE } from './subgraphs.js';

/** Starts a 10-minute session of the user in the organization (revoked at once if asked); its id. */
export async function startSession(
  federation: Federation,
  user: { readonly userId: string; readonly organizationId: string },
  options: { readonly revoked?: boolean } = {},
): Promise<string> {
  const sessions = federation.subgraphs.sessions;
  const started = await sessions.request<{ startSession: { id: string } }>(
    'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
    { input: { ...user, ttlSeconds: 600 } },
    AUTH_SERVICE,
  );
  const id = started.body.data?.startSession.id;
  assert.ok(id, JSON.stringify(started.body));
  if (options.revoked) {
    const ended = await sessions.request(
      'mutation($id: ID!) { revokeSession(id: $id) { id } }',
      { id },
      AUTH_SERVICE,
    );
    assert.equal(ended.body.errors, undefined, JSON.stringify(ended.body.errors));
  }
  return id;
}
