/**
 * The sessions subgraph down: signed-in users keep working (stale-if-error on the revocation
 * check, router/auth/sessionRevocation.ts), sessions this router never saw active are refused,
 * and the sessions fields themselves fail as partial data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

const FLEETS = '{ fleets { id name } }';
// activeSessionCount is Int!: its failure nulls `me` (nullable); fleets come from another subgraph.
const WITH_SESSIONS = '{ fleets { id } me { id activeSessionCount } }';

describe('the sessions subgraph down: revocation checks fail stale, then closed', () => {
  let federation: Federation;
  before(async () => {
    // Active answers are trusted 1 s (+ 1 s in process): past that the router must ask again.
    federation = await startFederation({
      SESSION_CHECK_CACHE_SECONDS: '1',
      RESPONSE_CACHE: 'false',
    });
  });
  after(() => federation.close());

  it('when a session was seen active before the outage, then its requests still answer, with the sessions fields as partial errors; an unseen session is refused', async () => {
    const seen = await tokenFor(federation.config, 0, 0, ['admin'], {
      sessionId: seedIds.session(0, 0, 0),
    });
    const unseen = await tokenFor(federation.config, 0, 1, ['admin'], {
      sessionId: seedIds.session(0, 1, 0),
    });
    assert.equal((await federation.query(FLEETS, {}, { token: seen })).status, 200);
    await federation.stopSubgraph('sessions');
    try {
      // Past every cache of the "active" answer: the check goes to the (dead) subgraph.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const fleets = await federation.query<{ fleets: { id: string }[] }>(
        FLEETS,
        {},
        { token: seen },
      );
      assert.equal(fleets.status, 200, JSON.stringify(fleets.body));
      assert.equal(fleets.body.errors, undefined);
      assert.ok(fleets.body.data!.fleets.length > 0);

      const partial = await federation.query<{
        fleets: { id: string }[];
        me: { id: string; activeSessionCount: number } | null;
      }>(WITH_SESSIONS, {}, { token: seen });
      assert.equal(partial.status, 200);
      assert.ok(partial.body.data!.fleets.length > 0, 'the other subgraphs still answer');
      assert.equal(partial.body.data!.me, null);
      assert.ok(
        partial.body.errors?.some((e) => e.extensions?.['code'] === 'SUBGRAPH_UNAVAILABLE'),
        JSON.stringify(partial.body.errors),
      );

      const refused = await federation.query(FLEETS, {}, { token: unseen });
      assert.equal(refused.status, 401, JSON.stringify(refused.body));
      assert.equal(refused.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
    } finally {
      await federation.restartSubgraph('sessions');
    }
    // Back: the unseen session is checked for real and accepted.
    assert.equal((await federation.query(FLEETS, {}, { token: unseen })).status, 200);
  });
});
