/**
 * The router's revocation check runs on behind the cache lookup and a wait for another
 * request's execution (router/auth/authenticate.ts, "Deferred revocation"); nothing may be sent
 * to a revoked session meanwhile. Here every revocation question is slow: the router reaches the
 * sessions subgraph through a proxy holding its answers back 300 ms, so the answer a revoked
 * session's request could be given (a cache hit, or a leader's shared answer) is ready long
 * before its check says no. Robots 115+ of organization 2's fleet (2, 0): read only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedIds } from '../../scripts/seed-ids.js';
import { startDelayProxy, type DelayProxy } from '../support/delayProxy.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { readBattery, warm } from '../support/robotBattery.js';
import { startSession } from '../support/sessions.js';

const ORG = 2;
const USER = 0;
const robot = (n: number) => seedIds.robot(ORG, 0, 115 + n);
const ROBOT = 'query Robot($id: ID!) { robot(id: $id) { id batteryPercent } }';
const CHECK_DELAY_MS = 300;

describe('a revocation check still running when the answer is ready', () => {
  let proxy: DelayProxy;
  let federation: Federation;
  let valid: string;

  before(async () => {
    proxy = await startDelayProxy();
    federation = await startFederation(
      { RATE_LIMITS: 'user=1000000' },
      { routeSubgraph: (name, url) => (name === 'sessions' ? proxy.route(url) : url) },
    );
    valid = await tokenFor(federation.config, ORG, USER);
  });
  after(async () => {
    await federation?.close();
    await proxy?.close();
  });

  /** A token of the same user (so the same cache entries) for a session this router never saw. */
  async function tokenOfNewSession(revoked: boolean): Promise<string> {
    const user = { userId: seedIds.user(ORG, USER), organizationId: seedIds.organization(ORG) };
    const sessionId = await startSession(federation, user, { revoked });
    return tokenFor(federation.config, ORG, USER, undefined, { sessionId });
  }

  /** Runs `steps` with every revocation answer held back CHECK_DELAY_MS. */
  async function whileChecksAreSlow(steps: () => Promise<void>): Promise<void> {
    proxy.delay(CHECK_DELAY_MS);
    try {
      await steps();
    } finally {
      proxy.pass();
    }
  }

  async function ask(token: string, id: string) {
    const response = await fetch(federation.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ROBOT, variables: { id } }),
    });
    const text = await response.text();
    return { status: response.status, text, cache: response.headers.get('x-cache') };
  }

  function assertRefused(answer: { status: number; text: string }, what: string) {
    assert.equal(answer.status, 401, `${what}: ${answer.text}`);
    const body = JSON.parse(answer.text) as {
      data?: unknown;
      errors?: { extensions?: { code?: string } }[];
    };
    assert.equal(body.data, undefined, `${what}: no data is sent: ${answer.text}`);
    assert.equal(body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', answer.text);
    assert.ok(!answer.text.includes('batteryPercent'), `${what}: ${answer.text}`);
  }

  it('when a revoked session asks for what is in the cache, then it is refused, not answered from the cache', async () => {
    const id = robot(0);
    await warm(federation, valid, id);
    const revoked = await tokenOfNewSession(true);
    await whileChecksAreSlow(async () => {
      assertRefused(await ask(revoked, id), 'a cached answer');
      // The entry was there to be served: the valid caller (its answer cached) is answered from it.
      assert.equal((await readBattery(federation, valid, id)).cache, 'HIT');
    });
  });

  it("when a revoked session joins another caller's execution, then it is refused, while the other caller is answered", async () => {
    const revoked = await tokenOfNewSession(true);
    await whileChecksAreSlow(async () => {
      // Robots not read yet in this file: the valid caller leads an execution, the revoked
      // caller's identical request (same user, same cache key) waits for it and would share it.
      for (const n of [1, 2, 3]) {
        const [leader, follower] = await Promise.all([
          ask(valid, robot(n)),
          ask(revoked, robot(n)),
        ]);
        assert.equal(leader.status, 200, leader.text);
        assert.match(leader.text, /"batteryPercent"/);
        assertRefused(follower, `robot ${n}, a shared answer`);
      }
      // Alone, it leads: refused before its execution is admitted.
      assertRefused(await ask(revoked, robot(5)), 'its own execution');
    });
  });

  it('when a caller whose check is still running asks first, then it does not lead: a caller already checked does not wait for that check', async () => {
    const fresh = await tokenOfNewSession(false);
    await whileChecksAreSlow(async () => {
      const id = robot(6); // not read yet in this file: no entry, no flight
      const order: string[] = [];
      const newCaller = ask(fresh, id).then((answer) => (order.push('new caller'), answer));
      await sleep(20); // its check is under way (held back by the proxy)
      const checked = ask(valid, id).then((answer) => (order.push('checked caller'), answer));
      const [first, second] = await Promise.all([newCaller, checked]);
      assert.equal(first.status, 200, first.text);
      assert.equal(second.status, 200, second.text);
      // Had the new caller led, the checked caller would have waited for its check and execution.
      assert.deepEqual(order, ['checked caller', 'new caller']);
    });
  });

  it('when a new session is valid, then its cached answer waits for its check and is then served', async () => {
    const id = robot(4);
    await warm(federation, valid, id);
    const fresh = await tokenOfNewSession(false);
    await whileChecksAreSlow(async () => {
      const started = performance.now();
      const answer = await ask(fresh, id);
      const elapsed = performance.now() - started;
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.cache, 'HIT');
      // Not sent before the check could have answered (the proxy holds that answer back).
      assert.ok(elapsed >= CHECK_DELAY_MS - 5, `answered after ${elapsed.toFixed(0)} ms`);
    });
  });
});
