/**
 * Subscriptions end to end (docs/subscriptions.md): the real subgraphs, Cassandra and Redis, the
 * router in process; events produced by real mutations through the router (the fleet
 * subgraph appends them to its fleet's Redis stream), read by the router's stream hub and
 * resolved per event through the query planner with each subscriber's identity.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { seedIds } from '../../scripts/seed-ids.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';
import { openSse, type SseEvent, type SseStream } from '../support/sseClient.js';
import { AUTH_SERVICE } from '../support/subgraphs.js';

const FLEET = seedIds.fleet(0, 0);
const OTHER_FLEET = seedIds.fleet(1, 0);
const BUFFER = 4;

const ROBOT_CHANGED = `subscription Changes($fleetId: ID!, $after: ID) {
  robotChanged(fleetId: $fleetId, after: $after) {
    id kind
    robot { id status operator { id displayName sessions(first: 5) { nodes { id } } } }
  }
}`;

type Event = {
  robotChanged: {
    id: string;
    kind: string;
    robot: {
      id: string;
      status: string;
      operator: { id: string; displayName: string; sessions: { nodes: { id: string }[] } } | null;
    };
  };
};

const dataOf = (event: SseEvent) =>
  (event.data as {
    data?: Event;
    errors?: { message: string; extensions?: { code?: string } }[];
  }) ?? {};

describe('GraphQL subscriptions through the router', () => {
  let federation: Federation;
  let stream: string;
  let admin: string;
  let viewer: string;
  let otherAdmin: string;
  /** A robot of fleet 0 with an operator (cross-subgraph fields to resolve). */
  let robotId: string;
  /** Its seeded status and battery, put back at the end. */
  let seeded: { status: string; batteryPercent: number } | undefined;
  const opened: { close(): void }[] = [];

  before(async () => {
    federation = await startFederation({
      SUBSCRIPTION_BUFFER_EVENTS: String(BUFFER),
      SUBSCRIPTION_REAUTH_SECONDS: '1',
      SUBSCRIPTION_KEEPALIVE_SECONDS: '1',
    });
    stream = `${federation.url}/stream`;
    admin = await tokenFor(federation.config, 0, 0);
    viewer = await tokenFor(federation.config, 0, 2, ['viewer']);
    otherAdmin = await tokenFor(federation.config, 1, 0);
    for (let r = 0; r < 20 && !robotId; r++) {
      const { body } = await federation.query<{ robot: { operator: { id: string } | null } }>(
        'query($id: ID!) { robot(id: $id) { operator { id } } }',
        { id: seedIds.robot(0, 0, r) },
        { token: admin },
      );
      if (body.data?.robot?.operator) robotId = seedIds.robot(0, 0, r);
    }
    assert.ok(robotId, 'a seeded robot of fleet 0 with an operator');
    const { body } = await federation.query<{ robot: { status: string; batteryPercent: number } }>(
      'query($id: ID!) { robot(id: $id) { status batteryPercent } }',
      { id: robotId },
      { token: admin },
    );
    seeded = body.data!.robot;
  });
  after(async () => {
    // The seeded robot as it was: later files read fleet 0's statuses (fleet-subgraph.test.ts:
    // a robot on a mission is ACTIVE).
    if (seeded)
      await federation.query(
        'mutation($id: ID!, $s: RobotStatus!, $b: Float) { updateRobotStatus(robotId: $id, status: $s, batteryPercent: $b) { id } }',
        { id: robotId, s: seeded.status, b: seeded.batteryPercent },
        { token: admin },
      );
    for (const one of opened) one.close();
    await federation?.close();
  });

  async function subscribe(
    token: string,
    query = ROBOT_CHANGED,
    variables: Record<string, unknown> = { fleetId: FLEET },
    headers: Record<string, string> = {},
  ): Promise<SseStream> {
    const sse = await openSse(
      stream,
      { query, variables },
      { authorization: `Bearer ${token}`, ...headers },
    );
    opened.push(sse);
    return sse;
  }

  async function setStatus(status: string, robot = robotId, token = admin): Promise<void> {
    const { body } = await federation.query(
      'mutation($id: ID!, $s: RobotStatus!) { updateRobotStatus(robotId: $id, status: $s) { id } }',
      { id: robot, s: status },
      { token },
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  }

  /** Waits until the router reads the fleet's stream (a subscription has joined it). */
  async function subscribed(sse: SseStream): Promise<void> {
    assert.equal(sse.status, 200, JSON.stringify(sse.refusal));
    await sse
      .next((event) => event.event === 'next' || event.event === 'complete', 300)
      .catch(() => undefined);
  }

  it('when an authorized subscriber is subscribed and a robot changes, then it gets the event with cross-subgraph fields resolved and its SSE id', async () => {
    const sse = await subscribe(admin);
    await subscribed(sse);
    await setStatus('CHARGING');
    const event = await sse.next((e) => dataOf(e).data?.robotChanged.robot.status === 'CHARGING');
    const change = dataOf(event).data!.robotChanged;
    assert.equal(change.kind, 'ROBOT_STATUS_CHANGED');
    assert.equal(change.robot.id, robotId);
    assert.ok(change.robot.operator?.displayName, 'operator resolved by the users subgraph');
    assert.ok(Array.isArray(change.robot.operator.sessions.nodes), 'sessions subgraph resolved');
    assert.equal(event.id, change.id, 'the SSE id is the event id');
    assert.equal(dataOf(event).errors, undefined);
    sse.close();
  });

  it('when a subscriber of another organization subscribes to the fleet, then it is refused NOT_FOUND, and on its own fleet it gets nothing of the other', async () => {
    const refused = await subscribe(otherAdmin);
    assert.equal(refused.status, 404);
    assert.equal(
      (refused.refusal as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
        .code,
      'NOT_FOUND',
    );
    const own = await subscribe(otherAdmin, ROBOT_CHANGED, { fleetId: OTHER_FLEET });
    const victim = await subscribe(admin);
    await subscribed(own);
    await subscribed(victim);
    await setStatus('ACTIVE');
    await victim.next((e) => dataOf(e).data?.robotChanged.robot.status === 'ACTIVE');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      own.events.filter((e) => e.event === 'next'),
      [],
      'nothing of organization 0 reached organization 1',
    );
    own.close();
    victim.close();
  });

  it('when another organization subscribes over WebSocket, then it is refused with NOT_FOUND too', async () => {
    const client = wsClient(otherAdmin);
    const errors = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: ROBOT_CHANGED, variables: { fleetId: FLEET } },
        { next: () => resolve('next'), error: resolve, complete: () => resolve('complete') },
      );
    });
    await client.dispose();
    assert.equal(
      (errors as { extensions?: { code?: string } }[])[0]?.extensions?.code,
      'NOT_FOUND',
    );
  });

  it('when a viewer selects a field its role may not read, then events hide it as a query would', async () => {
    const query = `subscription($fleetId: ID!) { robotChanged(fleetId: $fleetId) { id robot { id operator { id email } } } }`;
    const asViewer = await subscribe(viewer, query);
    const asAdmin = await subscribe(admin, query);
    await subscribed(asViewer);
    await subscribed(asAdmin);
    await setStatus('IDLE');
    type Hidden = {
      robotChanged: { robot: { id: string; operator: { email: string } | null } };
    };
    type Answer = { data: Hidden; errors?: { path?: unknown[]; extensions?: { code?: string } }[] };
    const isOurs = (e: SseEvent) =>
      (e.data as { data?: Hidden }).data?.robotChanged.robot.id === robotId;
    const seen = (await asViewer.next(isOurs)).data as Answer;
    const full = (await asAdmin.next(isOurs)).data as Answer;
    assert.match(full.data.robotChanged.robot.operator?.email ?? '', /@/);
    assert.equal(full.errors, undefined);
    // The viewer: no email, FORBIDDEN at its path — exactly what the same query answers it.
    assert.equal(
      JSON.stringify(seen).includes(full.data.robotChanged.robot.operator!.email),
      false,
    );
    const { body } = await federation.query<{ robot: Hidden['robotChanged']['robot'] }>(
      'query($id: ID!) { robot(id: $id) { id operator { id email } } }',
      { id: robotId },
      { token: viewer },
    );
    assert.deepEqual(seen.data.robotChanged.robot, body.data?.robot);
    assert.equal(seen.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    assert.deepEqual(seen.errors?.[0]?.path?.slice(-2), body.errors?.[0]?.path?.slice(-2));
    asViewer.close();
    asAdmin.close();
  });

  it('when the subscriber resumes with Last-Event-ID, then it gets every event after it, in order, then live ones, without gaps or repeats', async () => {
    const first = await subscribe(admin);
    await subscribed(first);
    await setStatus('MAINTENANCE');
    const seen = await first.next(
      (e) => dataOf(e).data?.robotChanged.robot.status === 'MAINTENANCE',
    );
    first.close();
    // While it is away: two more changes.
    await setStatus('ERROR');
    await setStatus('OFFLINE');
    const resumed = await subscribe(
      admin,
      ROBOT_CHANGED,
      { fleetId: FLEET },
      {
        'last-event-id': seen.id!,
      },
    );
    await resumed.next((e) => dataOf(e).data?.robotChanged.robot.status !== undefined);
    await setStatus('IDLE');
    await resumed.next(
      (e) => dataOf(e).data?.robotChanged.robot.status === 'IDLE' && e.id! > seen.id!,
    );
    const ids = resumed.events.filter((e) => e.event === 'next').map((e) => e.id!);
    assert.equal(ids.length, 3, JSON.stringify(resumed.events));
    assert.deepEqual([...ids].sort(), ids, 'in order');
    assert.ok(
      ids.every((id) => id > seen.id!),
      'nothing at or before the resume point',
    );
    // The statuses are read when each event is resolved: the two missed events resolve to the
    // robot's state then (at least once, current state), the live one to IDLE.
    resumed.close();
  });

  it('when the resume point is older than the retained window, then the stream ends with EVENTS_EXPIRED', async () => {
    const old = `${Date.now() - 60 * 60_000}-0`;
    const sse = await subscribe(admin, ROBOT_CHANGED, { fleetId: FLEET, after: old });
    const ending = await sse.next((e) => e.event === 'next');
    assert.equal(dataOf(ending).errors?.[0]?.extensions?.code, 'EVENTS_EXPIRED');
    await sse.ended;
  });

  it("when the subscriber's session is revoked, then its stream ends with UNAUTHENTICATED", async () => {
    const { body } = await federation.subgraphs.sessions.request<{ startSession: { id: string } }>(
      'mutation($input: StartSessionInput!) { startSession(input: $input) { id } }',
      {
        input: {
          userId: seedIds.user(0, 0),
          organizationId: seedIds.organization(0),
          ttlSeconds: 600,
        },
      },
      AUTH_SERVICE,
    );
    const sessionId = body.data!.startSession.id;
    const token = await tokenFor(federation.config, 0, 0, undefined, { sessionId });
    const sse = await subscribe(token);
    await subscribed(sse);
    const revoked = await federation.query(
      'mutation($id: ID!) { revokeSession(id: $id) { id } }',
      { id: sessionId },
      { token: admin },
    );
    assert.equal(revoked.body.errors, undefined, JSON.stringify(revoked.body.errors));
    const ending = await sse.next((e) => e.event === 'next', 8000);
    assert.equal(dataOf(ending).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    await sse.ended;
  });

  it('when a subscriber stops reading, then it alone is ended with SLOW_CONSUMER while another keeps getting events', async () => {
    // Large events (a page of the fleet's robots each), so that the connection's buffers fill.
    const query = `subscription($fleetId: ID!) { robotChanged(fleetId: $fleetId) { id robot { id status fleet { robots(first: 200) { nodes { id serial model status batteryPercent firmware lastHeartbeatAt } } } } } }`;
    const healthy = await subscribe(admin, query);
    const slow = await stalledSse(stream, admin, query);
    opened.push(slow);
    await subscribed(healthy);
    const statuses = ['ACTIVE', 'IDLE'];
    let slowEnded = false;
    for (let i = 0; i < 400 && !slowEnded; i++) {
      await setStatus(statuses[i % 2]!);
      slowEnded =
        (await federation.routerMetric('fleetgraph_router_subscriptions_ended_total', {
          code: 'SLOW_CONSUMER',
        })) > 0;
    }
    assert.ok(slowEnded, 'the stalled subscriber was ended');
    await setStatus('CHARGING');
    await healthy.next(
      (e) =>
        (e.data as { data?: { robotChanged: { robot: { status: string } } } }).data?.robotChanged
          .robot.status === 'CHARGING',
    );
    assert.ok(
      healthy.events.every((e) => e.event === 'next' && !dataOf(e).errors),
      'the healthy subscriber got events only',
    );
    const text = slow.received();
    slow.close();
    assert.ok(text.startsWith('HTTP/1.1 200'), text.slice(0, 200));
    healthy.close();
  });

  it('when the operation is a query, or too deep, or the caller is unauthenticated, then the subscription is refused before any event', async () => {
    const query = await subscribe(admin, '{ fleets { id } }', {});
    assert.equal(query.status, 400);
    const bad = await openSse(
      stream,
      { query: ROBOT_CHANGED, variables: { fleetId: FLEET } },
      {
        authorization: 'Bearer not-a-token',
      },
    );
    assert.equal(bad.status, 401);
    const deep = `subscription($f: ID!) { robotChanged(fleetId: $f) { robot { fleet { robots(first: 1) { nodes { fleet { robots(first: 1) { nodes { fleet { robots(first: 1) { nodes { fleet { id } } } } } } } } } } } } }`;
    const tooDeep = await subscribe(admin, deep, { f: FLEET });
    assert.equal(tooDeep.status, 400, JSON.stringify(tooDeep.refusal));
  });

  it('when a stream is idle, then keep-alives arrive every SUBSCRIPTION_KEEPALIVE_SECONDS: SSE comment lines, WebSocket pings', async () => {
    const IDLE_MS = 3_500; // SUBSCRIPTION_KEEPALIVE_SECONDS is 1 here
    const abort = new AbortController();
    const response = await fetch(stream, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${admin}`,
      },
      // Tests of this file run one at a time: nothing writes to the fleet meanwhile.
      body: JSON.stringify({ query: ROBOT_CHANGED, variables: { fleetId: FLEET } }),
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    let text = '';
    const reading = (async () => {
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += value;
        }
      } catch {
        // aborted below
      }
    })();
    const socket = new WebSocket(
      federation.url.replace(/^http/, 'ws') + '/ws',
      'graphql-transport-ws',
    );
    let pings = 0;
    socket.on('ping', () => pings++);
    await new Promise((resolve) => socket.on('open', resolve));
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${admin}` } }),
    );
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    abort.abort();
    socket.close();
    await reading;
    const comments = text.split('\n\n').filter((block) => block.startsWith(':')).length;
    // graphql-sse's opening comment, then one a second from the router.
    assert.ok(
      comments >= 3,
      `SSE comment lines in ${IDLE_MS} ms: ${comments} (${JSON.stringify(text)})`,
    );
    assert.ok(!text.includes('event: next'), 'nothing else was sent');
    assert.ok(pings >= 2, `WebSocket pings in ${IDLE_MS} ms: ${pings}`);
  });

  it('when the router shuts down, then WebSocket clients are told to reconnect (1012) and SSE streams end with SERVER_RESTARTING', async () => {
    const separate = await startFederation();
    let closing: Promise<void> | undefined;
    try {
      const token = await tokenFor(separate.config, 0, 0);
      const sse = await openSse(
        `${separate.url}/stream`,
        { query: ROBOT_CHANGED, variables: { fleetId: FLEET } },
        { authorization: `Bearer ${token}` },
      );
      opened.push(sse);
      const socket = new WebSocket(
        separate.url.replace(/^http/, 'ws') + '/ws',
        'graphql-transport-ws',
      );
      const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      await new Promise((resolve) => socket.on('open', resolve));
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      );
      await new Promise((resolve) => socket.once('message', resolve));
      socket.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: ROBOT_CHANGED, variables: { fleetId: FLEET } },
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The whole stack's teardown closes the router first (as SIGTERM does, router/index.ts).
      closing = separate.close();
      assert.equal(await closed, 1012);
      const ending = await sse.next((e) => e.event === 'next');
      assert.equal(dataOf(ending).errors?.[0]?.extensions?.code, 'SERVER_RESTARTING');
    } finally {
      await (closing ?? separate.close());
    }
  });

  function wsClient(token: string): Client {
    return createClient({
      url: `${federation.url.replace(/^http/, 'ws')}/ws`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
  }

  it('when a subscriber uses WebSocket, then it gets the same events', async () => {
    const client = wsClient(admin);
    const results: Event[] = [];
    const got = new Promise<void>((resolve, reject) => {
      client.subscribe<Event>(
        { query: ROBOT_CHANGED, variables: { fleetId: FLEET } },
        {
          next: (result) => {
            if (result.data) results.push(result.data);
            if (result.data?.robotChanged.robot.status === 'ERROR') resolve();
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await setStatus('ERROR');
    await got;
    await client.dispose();
    assert.ok(results.some((r) => r.robotChanged.robot.operator?.displayName));
  });

  it('when two users of one organization and roles subscribe, then a selection without caller-scoped fields is executed once per event for both, and one with them once per caller, each getting its own answer', async () => {
    const executions = () =>
      federation.routerMetric('fleetgraph_router_subscription_event_executions_total');
    const colleague = await tokenFor(federation.config, 0, 1);
    const PUBLIC_ONLY = `subscription($fleetId: ID!) {
      robotChanged(fleetId: $fleetId) { id robot { id status operator { id displayName } } }
    }`;
    const shared = [await subscribe(admin, PUBLIC_ONLY), await subscribe(colleague, PUBLIC_ONLY)];
    for (const sse of shared) await subscribed(sse);
    let before = await executions();
    await setStatus('CHARGING');
    for (const sse of shared)
      await sse.next((e) => dataOf(e).data?.robotChanged.robot.status === 'CHARGING');
    assert.equal((await executions()) - before, 1, 'one execution for both callers');
    for (const sse of shared) sse.close();

    // `sessions` is PRIVATE (sessions.graphql): each caller is executed for, as a query would be.
    const own = [await subscribe(admin), await subscribe(colleague)];
    for (const sse of own) await subscribed(sse);
    before = await executions();
    await setStatus('IDLE');
    const got = await Promise.all(
      own.map((sse) => sse.next((e) => dataOf(e).data?.robotChanged.robot.status === 'IDLE')),
    );
    assert.ok((await executions()) - before >= 2, 'one execution per caller');
    for (const [i, token] of [admin, colleague].entries()) {
      const { body } = await federation.query<{ robot: Event['robotChanged']['robot'] }>(
        'query($id: ID!) { robot(id: $id) { id status operator { id displayName sessions(first: 5) { nodes { id } } } } }',
        { id: robotId },
        { token },
      );
      assert.deepEqual(
        dataOf(got[i]!).data?.robotChanged.robot.operator,
        body.data?.robot.operator,
        'the event shows what a query by the same caller shows',
      );
    }
    for (const sse of own) sse.close();
  });

  it("when one caller's PRIVATE entity is in the entity cache, then a new group of two callers still executes each event per caller, and the other caller never gets it", async () => {
    const SELECTION = `subscription($fleetId: ID!) {
      robotChanged(fleetId: $fleetId) { id robot { id status operator { id sessions(first: 3) { nodes { id } } } } }
    }`;
    const viewOf = async (token: string) =>
      (
        await federation.query<{ robot: Event['robotChanged']['robot'] }>(
          'query($id: ID!) { robot(id: $id) { operator { id sessions(first: 3) { nodes { id } } } } }',
          { id: robotId },
          { token },
        )
      ).body.data?.robot.operator;
    // Two operators (same organization and roles, so one group): the robot's operator reads
    // their own sessions; the other may not (sessions permissions: own, or as an admin).
    const operatorId = (await viewOf(admin))!.id;
    const self = Array.from({ length: 200 }, (_, u) => u).find(
      (u) => seedIds.user(0, u) === operatorId,
    );
    assert.ok(self !== undefined, "the robot's operator is a seeded user");
    const [owner, other] = [
      await tokenFor(federation.config, 0, self, ['operator']),
      await tokenFor(federation.config, 0, self === 1 ? 2 : 1, ['operator']),
    ];
    const ownerView = await viewOf(owner);
    const otherView = await viewOf(other);
    assert.ok(ownerView?.sessions?.nodes.length, 'the operator reads their own sessions');
    assert.notDeepEqual(ownerView, otherView, 'the other operator does not');
    const statusIs = (sse: SseStream, status: string) =>
      sse.next((e) => dataOf(e).data?.robotChanged.robot.status === status);
    const active = () => federation.routerMetric('fleetgraph_router_subscriptions_active');

    // The owner alone, two events: from the second sighting its PRIVATE entry is stored.
    const alone = await subscribe(owner, SELECTION);
    await subscribed(alone);
    for (const status of ['CHARGING', 'IDLE']) {
      await setStatus(status);
      await statusIs(alone, status);
    }
    const activeBefore = await active();
    alone.close();
    for (let i = 0; i < 100 && (await active()) >= activeBefore; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok((await active()) < activeBefore, 'the group of the owner alone is gone');

    // A new group with the same selection, the owner first: its first execution (as the owner)
    // hits the owner's PRIVATE entry, which must make the group execute per caller.
    const pair = [await subscribe(owner, SELECTION), await subscribe(other, SELECTION)];
    for (const sse of pair) await subscribed(sse);
    await setStatus('CHARGING');
    const [toOwner, toOther] = await Promise.all(pair.map((sse) => statusIs(sse, 'CHARGING')));
    assert.deepEqual(dataOf(toOther!).data?.robotChanged.robot.operator, otherView);
    assert.deepEqual(dataOf(toOwner!).data?.robotChanged.robot.operator, ownerView);
    for (const sse of pair) sse.close();
  });

  it('when many subscribers of one caller share an operation, then each event is executed once for all of them', async () => {
    const before = await federation.routerMetric(
      'fleetgraph_router_subscription_event_executions_total',
    );
    const many = await Promise.all(Array.from({ length: 5 }, () => subscribe(admin)));
    for (const sse of many) await subscribed(sse);
    await setStatus('ACTIVE');
    for (const sse of many)
      await sse.next((e) => dataOf(e).data?.robotChanged.robot.status === 'ACTIVE');
    const executed =
      (await federation.routerMetric('fleetgraph_router_subscription_event_executions_total')) -
      before;
    assert.equal(executed, 1, 'one execution for five subscribers');
    for (const sse of many) sse.close();
  });
});

/** An SSE subscription over a raw socket that never reads what the router sends. */
async function stalledSse(
  url: string,
  token: string,
  query: string,
): Promise<{ close(): void; received(): string }> {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise((resolve) => socket.once('connect', resolve));
  const body = JSON.stringify({ query, variables: { fleetId: FLEET } });
  let text = '';
  socket.once('data', (chunk: Buffer) => {
    text = chunk.toString('utf8');
    socket.pause();
  });
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { close: () => socket.destroy(), received: () => text };
}
