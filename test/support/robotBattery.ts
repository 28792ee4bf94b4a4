/**
 * A robot's battery as the cache-freshness tests read and write it through a router: the
 * smallest query whose answer a write changes, and the write that changes it.
 */
import assert from 'node:assert/strict';
import type { Federation } from './federation.js';

const ROBOT = 'query Robot($id: ID!) { robot(id: $id) { id batteryPercent } }';
const UPDATE =
  'mutation Update($id: ID!, $battery: Float!) { updateRobotStatus(robotId: $id, status: ACTIVE, batteryPercent: $battery) { id batteryPercent } }';

export interface Read {
  readonly battery: number | null;
  /** The router's x-cache header (FLEETGRAPH_ENV=test): HIT, MISS or UNKNOWN. */
  readonly cache: string | null;
}

export async function readBattery(
  federation: Federation,
  token: string,
  id: string,
): Promise<Read> {
  const response = await fetch(federation.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: ROBOT, variables: { id } }),
  });
  const body = (await response.json()) as { data?: { robot: { batteryPercent: number } } };
  assert.equal(response.status, 200, JSON.stringify(body));
  return {
    battery: body.data?.robot.batteryPercent ?? null,
    cache: response.headers.get('x-cache'),
  };
}

/** Sets the battery and waits for the acknowledgement (200 without errors). */
export async function writeBattery(
  federation: Federation,
  token: string,
  id: string,
  battery: number,
): Promise<void> {
  const response = await federation.query(UPDATE, { id, battery }, { token });
  assert.equal(response.status, 200);
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
}

/** Reads until the entry is a HIT (it is stored on its second use). */
export async function warm(federation: Federation, token: string, id: string): Promise<void> {
  for (let i = 0; i < 10; i++)
    if ((await readBattery(federation, token, id)).cache === 'HIT') return;
  assert.fail(`robot ${id} never became a cache hit`);
}
