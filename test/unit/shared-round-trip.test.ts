/**
 * SharedRoundTrip (router/cache/sharedRoundTrip.ts): the purge barrier's Redis read, shared by
 * the callers that asked before it was sent and by no one who asked after. The read is a fake
 * that records when it was sent; the rule checked is the barrier's: every caller's answer comes
 * from a read sent after the caller asked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedRoundTrip } from '../../router/cache/sharedRoundTrip.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

function recordingRead() {
  let clock = 0;
  const sent: number[] = [];
  const pending: { sentAt: number; resolve: (value: number) => void }[] = [];
  return {
    now: () => ++clock,
    sent,
    /** Answers every read sent so far with the time it was sent. */
    answerAll: () => pending.splice(0).forEach(({ sentAt, resolve }) => resolve(sentAt)),
    read: () => {
      const sentAt = ++clock;
      sent.push(sentAt);
      return new Promise<number>((resolve) => pending.push({ sentAt, resolve }));
    },
  };
}

describe('SharedRoundTrip', () => {
  it('when several callers ask in one turn of the event loop, then one read answers them all', async () => {
    const fake = recordingRead();
    const shared = new SharedRoundTrip(fake.read);
    const answers = [shared.ask(), shared.ask(), shared.ask()];
    await tick();
    fake.answerAll();
    assert.deepEqual(await Promise.all(answers), [1, 1, 1]);
    assert.equal(fake.sent.length, 1);
  });

  it('when a caller asks after the read was sent, then it gets a read sent after it asked', async () => {
    const fake = recordingRead();
    const shared = new SharedRoundTrip(fake.read);
    const asks: { at: number; answer: Promise<number | undefined> }[] = [];
    const ask = () => asks.push({ at: fake.now(), answer: shared.ask() });
    ask();
    ask();
    await tick(); // the first read leaves, unanswered
    ask(); // asked while the first read is in flight
    await tick();
    ask();
    fake.answerAll();
    await tick();
    fake.answerAll();
    for (const { at, answer } of asks) {
      const sentAt = await answer;
      assert.ok(
        sentAt !== undefined && sentAt > at,
        `asked at ${at}, answered by a read sent at ${sentAt}`,
      );
    }
    assert.equal(fake.sent.length, 3, 'the two callers of the second turn shared one read');
  });

  it('when the read fails, then every caller waiting for it gets undefined and the next caller a new read', async () => {
    let calls = 0;
    const shared = new SharedRoundTrip(async () => {
      calls++;
      if (calls === 1) throw new Error('Redis down');
      return 'state';
    });
    assert.deepEqual(await Promise.all([shared.ask(), shared.ask()]), [undefined, undefined]);
    assert.equal(await shared.ask(), 'state');
    assert.equal(calls, 2);
  });
});
