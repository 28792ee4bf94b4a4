/**
 * Every fixed port of the benchmark, and every benchmark router's operations port (its port +
 * ROUTER_OPS_PORT_OFFSET), must be one `fetch()` will call: the WHATWG fetch standard blocks a
 * list of "bad ports" (6000 for X11, 6665-6669 for IRC, …), and a scrape of such a port fails
 * before any connection, which the benchmark's scrapes read as "no metrics". The main router
 * once had its /metrics on 6000 and its fetches per request read 0 for every product scenario.
 *
 * Checked with fetch itself: a blocked port fails with "bad port"; an allowed one that nothing
 * listens on fails with a connection error, or answers if something happens to listen there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FANOUT_PORTS } from '../../bench/fanout/scenario.js';
import { PROFILE_LIVE_PORTS } from '../../bench/lib/liveProfileStack.js';
import { PORTS, ROUTER_OPS_PORT_OFFSET } from '../../bench/lib/stack.js';
import { LIVE_PORTS } from '../../bench/livefleet/scenario.js';

/** Every number in a (nested) port table. */
function portsIn(table: unknown): number[] {
  if (typeof table === 'number') return [table];
  if (table && typeof table === 'object') return Object.values(table).flatMap(portsIn);
  return [];
}

/** Whether fetch() refuses the port outright (the WHATWG bad-port check). */
async function blocked(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    return cause?.message === 'bad port';
  }
}

describe('the benchmark ports', () => {
  it('when fetch() is pointed at the port 6000, then it refuses it (the check below can fail)', async () => {
    assert.equal(await blocked(6000), true);
  });

  it('when every fixed port and every operations port is called with fetch(), then none is refused', async () => {
    const fixed = [...portsIn(PORTS), ...portsIn(FANOUT_PORTS), ...portsIn(LIVE_PORTS)];
    const all = [...fixed, ...portsIn(PROFILE_LIVE_PORTS)];
    const withOps = [...all, ...all.map((port) => port + ROUTER_OPS_PORT_OFFSET)];
    assert.ok(withOps.length > 40, `${withOps.length} ports checked`);
    const refused: number[] = [];
    for (const port of new Set(withOps)) if (await blocked(port)) refused.push(port);
    assert.deepEqual(refused, []);
  });
});
