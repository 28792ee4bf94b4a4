/**
 * bench/lib/prometheus.ts histogramQuantile: the fan-out report's per-stage latencies come from
 * router histograms scraped around the window, so the delta and the interpolation must be right.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramQuantile, parseMetrics } from '../../bench/lib/prometheus.js';

const scrapeOf = (counts: readonly number[], label = '') =>
  parseMetrics(
    ['0.01', '0.05', '0.1', '+Inf']
      .map((le, i) => `h_seconds_bucket{${label}le="${le}"} ${counts[i]}`)
      .join('\n'),
  );

describe('histogramQuantile', () => {
  it('reads the window only: what the buckets held before it does not count', () => {
    const before = scrapeOf([1000, 1000, 1000, 1000]);
    // In the window: 50 under 10 ms, 40 in (10, 50], 10 in (50, 100].
    const after = scrapeOf([1050, 1090, 1100, 1100]);
    assert.equal(histogramQuantile(before, after, 'h_seconds', 0.5), 0.01);
    assert.ok(Math.abs(histogramQuantile(before, after, 'h_seconds', 0.99)! - 0.095) < 1e-9);
  });

  it('answers null for an empty window, and the last finite bound for the +Inf bucket', () => {
    const same = scrapeOf([5, 5, 5, 5]);
    assert.equal(histogramQuantile(same, same, 'h_seconds', 0.5), null);
    const slow = scrapeOf([0, 0, 0, 10]);
    assert.equal(histogramQuantile(parseMetrics(''), slow, 'h_seconds', 0.99), 0.1);
  });

  it('keeps to the labels asked for', () => {
    const after = parseMetrics(
      [
        scrapeOf([10, 10, 10, 10], 'subgraph="fleet",'),
        scrapeOf([0, 0, 10, 10], 'subgraph="users",'),
      ]
        .map((samples) => [...samples].map(([key, value]) => `${key} ${value}`).join('\n'))
        .join('\n'),
    );
    const none = parseMetrics('');
    assert.ok(histogramQuantile(none, after, 'h_seconds', 0.5, { subgraph: 'fleet' })! <= 0.01);
    assert.ok(histogramQuantile(none, after, 'h_seconds', 0.5, { subgraph: 'users' })! > 0.05);
  });
});
