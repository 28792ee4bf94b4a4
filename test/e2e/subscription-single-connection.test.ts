/**
 * graphql-sse's "single connection" mode through the router (router/subscriptions/sse.ts): a
 * `PUT` reserves a stream token, a `GET` with it opens the stream, `POST`s with it add
 * operations. A token is bound to the caller that reserved it — another caller can neither open
 * its stream nor add to it — and a caller cannot pile up reservations it never opens (each
 * would stay in the router's memory).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

const FLEET = seedIds.fleet(0, 0);
const ROBOT = seedIds.robot(0, 0, 5);
const TOKEN_HEADER = 'x-graphql-event-stream-token';
const MAX_PER_IDENTITY = 3;
const SUBSCRIPTION = `subscription($fleetId: ID!) { robotChanged(fleetId: $fleetId) { id kind robot { id status } } }`;

describe('SSE single connection mode', () => {
  let federation: Federation;
  let stream: string;
  let owner: string;
  let other: string;
  let seededStatus: string | undefined;
  const aborts: AbortController[] = [];

  before(async () => {
    federation = await startFederation({
      SUBSCRIPTIONS_MAX_PER_IDENTITY: String(MAX_PER_IDENTITY),
      RATE_LIMITS: 'user=1000000',
    });
    stream = `${federation.url}/stream`;
    owner = await tokenFor(federation.config, 0, 0);
    other = await tokenFor(federation.config, 0, 1);
    const { body } = await federation.query<{ robot: { status: string } }>(
      'query($id: ID!) { robot(id: $id) { status } }',
      { id: ROBOT },
      { token: owner },
    );
    seededStatus = body.data!.robot.status;
  });
  after(async () => {
    // The seeded robot as it was: later files read fleet 0's statuses.
    if (seededStatus) await setStatus(seededStatus);
    for (const abort of aborts) abort.abort();
    await federation?.close();
  });

  async function setStatus(status: string): Promise<void> {
    const { body } = await federation.query(
      'mutation($id: ID!, $s: RobotStatus!) { updateRobotStatus(robotId: $id, status: $s) { id } }',
      { id: ROBOT, s: status },
      { token: owner },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  }

  const auth = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  async function reserve(jwt: string): Promise<Response> {
    return fetch(stream, { method: 'PUT', headers: auth(jwt) });
  }

  function open(jwt: string, token: string): Promise<Response> {
    const abort = new AbortController();
    aborts.push(abort);
    return fetch(stream, {
      headers: { ...auth(jwt), accept: 'text/event-stream', [TOKEN_HEADER]: token },
      signal: abort.signal,
    });
  }

  function addOperation(jwt: string, token: string, operationId: string): Promise<Response> {
    return fetch(stream, {
      method: 'POST',
      headers: { ...auth(jwt), 'content-type': 'application/json', [TOKEN_HEADER]: token },
      body: JSON.stringify({
        query: SUBSCRIPTION,
        variables: { fleetId: FLEET },
        extensions: { operationId },
      }),
    });
  }

  /** Reads the stream until a `next` event of `operationId` shows the robot with `status`. */
  async function nextOf(response: Response, operationId: string, status: string) {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (const block of buffer.split('\n\n')) {
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!block.includes('event: next') || !data) continue;
        const message = JSON.parse(data) as {
          id: string;
          payload: { data?: { robotChanged?: { robot: { id: string; status: string } } } };
        };
        if (
          message.id === operationId &&
          message.payload.data?.robotChanged?.robot.status === status
        ) {
          void reader.cancel();
          return message;
        }
      }
    }
    assert.fail(`no ${status} event for ${operationId}`);
  }

  it('when a caller reserves a stream, then it opens it, adds an operation and gets its events', async () => {
    const reserved = await reserve(owner);
    assert.equal(reserved.status, 201);
    const token = await reserved.text();
    const opened = await open(owner, token);
    assert.equal(opened.status, 200);
    const added = await addOperation(owner, token, 'op-1');
    assert.equal(added.status, 202, await added.text());
    await new Promise((resolve) => setTimeout(resolve, 300));
    await setStatus('CHARGING');
    const message = await nextOf(opened, 'op-1', 'CHARGING');
    assert.equal(message.payload.data?.robotChanged?.robot.id, ROBOT);
  });

  it("when another caller uses a reserved stream's token, then it can neither open the stream nor add an operation to it", async () => {
    const reserved = await reserve(owner);
    const token = await reserved.text();
    const stolenOpen = await open(other, token);
    assert.equal(stolenOpen.status, 404, 'another caller cannot open it');
    await stolenOpen.body?.cancel();
    const opened = await open(owner, token);
    assert.equal(opened.status, 200, 'its owner still can');
    const stolenAdd = await addOperation(other, token, 'op-stolen');
    assert.equal(stolenAdd.status, 404, 'another caller cannot add to it');
    await opened.body?.cancel();
  });

  it('when a caller reserves more streams than SUBSCRIPTIONS_MAX_PER_IDENTITY without opening them, then the next is refused TOO_MANY_SUBSCRIPTIONS, and another caller is not affected', async () => {
    const hoarder = await tokenFor(federation.config, 0, 2);
    for (let i = 0; i < MAX_PER_IDENTITY; i++)
      assert.equal((await reserve(hoarder)).status, 201, `reservation ${i + 1}`);
    const refused = await reserve(hoarder);
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as {
      errors: { message: string; extensions?: { code?: string } }[];
    };
    assert.equal(body.errors[0]?.extensions?.code, 'TOO_MANY_SUBSCRIPTIONS');
    assert.match(body.errors[0]!.message, /SUBSCRIPTIONS_MAX_PER_IDENTITY/);
    assert.equal((await reserve(other)).status, 201, 'another caller still reserves');
  });
});
