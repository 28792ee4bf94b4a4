/**
 * router/cache/flights.ts: who waits for whom. The versions are a stand-in (only `snapshot()`,
 * what this instance knows of the purge sequence, is read); what may be served is decided by
 * pipeline/singleFlight.ts and tested against the real stack (test/e2e/cache-freshness.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Flights, type Flight } from '../../router/cache/flights.js';
import type { TagVersions, VersionSnapshot } from '../../router/cache/tagVersions.js';

function knownVersions(start: { epoch: string; seq: number }) {
  let known = start;
  const versions = {
    snapshot: (): VersionSnapshot => ({ ...known, mark: 0 }),
  } as unknown as TagVersions;
  return { versions, purged: () => (known = { ...known, seq: known.seq + 1 }) };
}

/** A leader's computation that records its snapshot, then waits until released. */
function heldLeader(versions: TagVersions) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let flight: Flight | undefined;
  const compute = async (f: Flight) => {
    flight = f;
    f.snapshot = versions.snapshot();
    await released;
  };
  return { compute, release, flight: () => flight! };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('flights: concurrent misses of one key', () => {
  it('when asked whether a newcomer would follow, then it answers as join would decide: no flight or an outdated one, no; a current one, yes', async () => {
    const { versions, purged } = knownVersions({ epoch: 'e', seq: 5 });
    const flights = new Flights(versions);
    assert.equal(flights.wouldFollow('k'), false, 'no flight');
    const leader = heldLeader(versions);
    const led = flights.join('k', leader.compute);
    await tick();
    assert.equal(flights.wouldFollow('k'), true, 'a current flight');
    assert.equal(flights.wouldFollow('other'), false, 'another key');
    purged();
    assert.equal(flights.wouldFollow('k'), false, 'an outdated flight');
    leader.release();
    await led;
    assert.equal(flights.wouldFollow('k'), false, 'finished');
  });

  it('when nothing was purged since the leader began, then newcomers join its flight', async () => {
    const { versions } = knownVersions({ epoch: 'e', seq: 5 });
    const flights = new Flights(versions);
    const leader = heldLeader(versions);
    const led = flights.join('k', leader.compute);
    const followed = flights.join('k', () => assert.fail('a follower does not compute'));
    await tick();
    assert.equal(leader.flight().followers, 1);
    leader.release();
    assert.deepEqual(await led, { role: 'leader', replaced: false });
    assert.equal((await followed).role, 'follower');
  });

  it('when a purge newer than the leader’s snapshot is known, then a newcomer starts the current flight, later ones join it, and the outdated one still finishes for its own followers', async () => {
    const { versions, purged } = knownVersions({ epoch: 'e', seq: 5 });
    const flights = new Flights(versions);
    const old = heldLeader(versions);
    const oldLed = flights.join('k', old.compute);
    const oldFollower = flights.join('k', () => assert.fail('joins the running flight'));
    await tick();
    purged();
    const current = heldLeader(versions);
    const currentLed = flights.join('k', current.compute);
    const laterFollower = flights.join('k', () => assert.fail('joins the current flight'));
    await tick();
    assert.equal(old.flight().followers, 1, 'the outdated flight keeps its follower');
    assert.equal(current.flight().followers, 1, 'the later newcomer joined the current flight');
    assert.ok(current.flight().id > old.flight().id);
    // The outdated flight ends first: it must not unregister the current one.
    old.release();
    assert.equal((await oldFollower).role, 'follower');
    await oldLed;
    const afterOld = flights.join('k', () => assert.fail('the current flight is still running'));
    await tick();
    assert.equal(current.flight().followers, 2);
    current.release();
    assert.deepEqual(await currentLed, { role: 'leader', replaced: true });
    assert.equal((await laterFollower).role, 'follower');
    assert.equal((await afterOld).role, 'follower');
  });

  it('when a follower looks again, then it joins only a flight started after its arrival', async () => {
    const { versions } = knownVersions({ epoch: 'e', seq: 5 });
    const flights = new Flights(versions);
    const running = heldLeader(versions);
    const led = flights.join('k', running.compute);
    const arrivedAt = flights.clock;
    let computed = false;
    const again = flights.join(
      'k',
      async () => {
        computed = true;
      },
      { startedAfter: arrivedAt },
    );
    assert.deepEqual(await again, { role: 'leader', replaced: true });
    assert.equal(computed, true, 'the flight it arrived during was not joined');
    running.release();
    await led;
  });

  it('when the epoch changed since the leader began, then its flight is outdated', async () => {
    let known = { epoch: 'e1', seq: 9 };
    const versions = {
      snapshot: (): VersionSnapshot => ({ ...known, mark: 0 }),
    } as unknown as TagVersions;
    const flights = new Flights(versions);
    const old = heldLeader(versions);
    const led = flights.join('k', old.compute);
    await tick();
    known = { epoch: 'e2', seq: 1 };
    const next = flights.join('k', async () => undefined);
    assert.deepEqual(await next, { role: 'leader', replaced: true });
    old.release();
    await led;
  });
});
