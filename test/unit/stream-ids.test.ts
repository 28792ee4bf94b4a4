/**
 * router/subscriptions/streamIds.ts `compareIds`: stream ids (`<ms>-<seq>`) compared as the
 * numbers they are, without parsing — checked against BigInt on ids of every length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareIds } from '../../router/subscriptions/streamIds.js';

function byBigInt(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  if (am !== bm) return BigInt(am) < BigInt(bm) ? -1 : 1;
  if (as === bs) return 0;
  return BigInt(as) < BigInt(bs) ? -1 : 1;
}

/** A decimal without leading zeros, 1 to `digits` digits. */
function decimal(random: () => number, digits: number): string {
  const length = 1 + Math.floor(random() * digits);
  let text = String(1 + Math.floor(random() * 9));
  for (let i = 1; i < length; i++) text += String(Math.floor(random() * 10));
  return random() < 0.1 ? '0' : text;
}

describe('stream id order', () => {
  it('orders ids as numbers: by time, then by sequence, whatever their lengths', () => {
    assert.equal(compareIds('9-0', '10-0'), -1, 'not as text');
    assert.equal(compareIds('10-2', '10-10'), -1);
    assert.equal(compareIds('1796564633179-0', '1796564633179-0'), 0);
    assert.equal(compareIds('0-0', '1-0'), -1);
    assert.equal(compareIds('5', '5-0'), 0, 'an id without a sequence is sequence 0');
    let seed = 17;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      const a = `${decimal(random, 16)}-${decimal(random, 10)}`;
      const b =
        random() < 0.3
          ? `${a.split('-')[0]}-${decimal(random, 10)}`
          : `${decimal(random, 16)}-${decimal(random, 10)}`;
      assert.equal(compareIds(a, b), byBigInt(a, b), `${a} vs ${b}`);
      assert.equal(compareIds(b, a), byBigInt(b, a), `${b} vs ${a}`);
    }
  });
});
