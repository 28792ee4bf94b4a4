/**
 * No data lost on shutdown: the subgraphs and the router run as separate processes (as deployed)
 * and get SIGTERM in the middle of a write load through the router.
 *
 * @remarks
 * Each of 16 callers owns one robot and sends, one after another, `reportTelemetry` (one sample
 * whose recordedAt and temperature are unique to that mutation) and `updateRobotStatus` (a
 * battery level unique to that mutation). Just before the signal a large `reportTelemetry`
 * (the probe: 10,000 samples, hundreds of milliseconds of Cassandra writes) is sent, and the
 * signal is sent once the fleet subgraph has started executing it — so something is surely in
 * flight in the process being stopped. Afterwards Cassandra is read directly:
 * - every mutation acknowledged to its client (200, data, no errors) must be there — lost = 0;
 *   for the status mutations, which overwrite one row per robot, the row must hold the last
 *   acknowledged value of its caller or a later one;
 * - every other mutation must have had a clear failure: a GraphQL error with a code, a 503, or
 *   a refused/reset connection after SIGTERM was sent — never a hang or an unexplained answer;
 * - requests in flight when the signal was sent complete (the probe included), the port refuses
 *   new connections while the process drains, and the process exits by itself with code 0.
 *
 * Data: organization 2's second fleet, which no other test reads (robots 0–15 and 118 for the
 * router case, 16–31 and 119 for the fleet case); Redis keys under their own prefix.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ExitStatus, Service } from '../../bench/lib/processes.js';
import { benchIssuer } from '../../bench/lib/stack.js';
import { seedIds } from '../../scripts/seed-ids.js';
import { utcDay } from '../../platform/cassandra/buckets.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { startSubgraphProcesses, type StackProcesses } from '../support/processes.js';
import { cassandraForTest } from '../support/stack.js';

const ORGANIZATION = 2;
const FLEET = 1;
const CALLERS = 16;
/** Per caller: bounds the run and keeps each battery value (seq / 20) unique and ≤ 100. */
const MAX_REQUESTS_PER_CALLER = 1000;
const PROBE_SAMPLES = 10_000;
/** Load after the warm-up and before the probe and the signal. */
const STEADY_LOAD_MS = 3000;
const REQUEST_TIMEOUT_MS = 30_000;
/** The load stops by itself this long after it started, whatever happens. */
const LOAD_HARD_LIMIT_MS = 120_000;
/** SIGTERM → exit must take less than this (the drain deadline is 10 s)… */
const EXIT_BOUND_MS = 20_000;
/** …and SIGKILL comes after this, so a hung drain fails the test instead of hanging it. */
const KILL_AFTER_MS = 30_000;
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE'] as const;

const TELEMETRY = `mutation DrainTelemetry($robotId: ID!, $samples: [TelemetrySampleInput!]!) {
  reportTelemetry(robotId: $robotId, samples: $samples) { accepted }
}`;
const STATUS = `mutation DrainStatus($robotId: ID!, $status: RobotStatus!, $battery: Float) {
  updateRobotStatus(robotId: $robotId, status: $status, batteryPercent: $battery) { id status batteryPercent }
}`;
const PROBE = TELEMETRY.replace('DrainTelemetry', 'DrainProbe');

type Outcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'coded'; readonly status: number; readonly codes: readonly string[] }
  | { readonly kind: 'connection'; readonly code: string }
  | { readonly kind: 'unclear'; readonly detail: string };

interface Sent {
  readonly caller: number;
  readonly seq: number;
  readonly robotId: string;
  readonly mutation: 'telemetry' | 'status' | 'probe';
  /** Telemetry: the sample's recordedAt (ms) → temperature; status: battery and status. */
  readonly samples?: ReadonlyMap<number, number>;
  readonly battery?: number;
  readonly status?: string;
  readonly sentAt: number;
  endedAt?: number;
  outcome?: Outcome;
}

describe('graceful shutdown under write load (separate processes)', { timeout: 600_000 }, () => {
  let stack: StackProcesses | undefined;
  let cassandra: CassandraClient;

  before(async () => {
    cassandra = await cassandraForTest();
    stack = await startSubgraphProcesses({ redisKeyPrefix: `fgdrain${process.pid}:` });
  });

  after(async () => {
    await stack?.stopAll();
    await cassandra?.shutdown();
  });

  it('when the router gets SIGTERM mid-load, then in-flight requests complete, new connections are refused, nothing acknowledged is lost and it exits 0', async () => {
    const router = await stack!.startRouter('router-drain');
    const run = await driveLoadAndStop({
      label: 'router SIGTERM',
      routerUrl: `${router.baseUrl}/graphql`,
      target: router,
      fleet: stack!.subgraphs.fleet,
      stack: stack!,
      robots: robotRange(0),
      probeRobot: seedIds.robot(ORGANIZATION, FLEET, 118),
    });
    const report = await verify(cassandra, run);
    assertShutdown(run, report, {
      // Through a router that is going away a request can only fail at the connection.
      allowedCodes: [],
      inFlightMayFailWithCode: false,
    });
  });

  it('when the fleet subgraph gets SIGTERM mid-load, then its in-flight writes complete, later mutations fail with SUBGRAPH_UNAVAILABLE, nothing acknowledged is lost and it exits 0', async () => {
    const router = await stack!.startRouter('router-fleet-drain');
    const fleet = stack!.subgraphs.fleet;
    const run = await driveLoadAndStop({
      label: 'fleet subgraph SIGTERM',
      routerUrl: `${router.baseUrl}/graphql`,
      target: fleet,
      fleet,
      stack: stack!,
      robots: robotRange(16),
      probeRobot: seedIds.robot(ORGANIZATION, FLEET, 119),
    });
    const report = await verify(cassandra, run);
    assertShutdown(run, report, {
      allowedCodes: ['SUBGRAPH_UNAVAILABLE'],
      // A request still in the router at the signal reaches the fleet subgraph after its port
      // closed and fails with a code; what the subgraph had accepted (the probe) completes.
      inFlightMayFailWithCode: true,
    });
    assert.ok(
      report.codedFailures > 0,
      'mutations sent after the fleet subgraph stopped failed with a code',
    );
    // The router itself stays up and says it is not ready.
    const ready = await fetch(`${router.baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
    assert.equal(ready.status, 503, await ready.text());
  });
});

const robotRange = (first: number) =>
  Array.from({ length: CALLERS }, (_, i) => seedIds.robot(ORGANIZATION, FLEET, first + i));

interface Run {
  readonly label: string;
  readonly sent: readonly Sent[];
  readonly probe: Sent;
  readonly sigtermAt: number;
  readonly exit: ExitStatus;
  /** Connection attempts to the stopped process's port from SIGTERM until it exited. */
  readonly connects: readonly { at: number; accepted: boolean; beforeExit: boolean }[];
  readonly inFlightAtSigterm: readonly Sent[];
}

async function driveLoadAndStop(options: {
  readonly label: string;
  readonly routerUrl: string;
  readonly target: Service;
  readonly fleet: Service;
  readonly stack: StackProcesses;
  readonly robots: readonly string[];
  readonly probeRobot: string;
}): Promise<Run> {
  const organizationId = seedIds.organization(ORGANIZATION);
  const sent: Sent[] = [];
  // recordedAt of every sample of this run: unique per mutation, in the past (the API accepts
  // at most 5 minutes ahead), and not used by any earlier run (they started earlier).
  const base = Date.now() - 60_000;
  // Battery levels are seq / 20 plus a per-run offset below the step, so a robot's row holding
  // a value of this run was written by this run (not left by an earlier one with the same seq).
  const batteryNonce = (1 + Math.floor(Math.random() * 49)) / 1000;
  const loadStarted = Date.now();
  let stopping = false;

  /** Every request with its own JWT; `sentAt` is when it is handed to fetch. */
  async function send(
    request: Omit<Sent, 'sentAt'>,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Sent> {
    // The production router's identity provider (a JWKS on 127.0.0.1; HS256 is refused).
    const token = await (
      await benchIssuer()
    ).mint({ userId: randomUUID(), organizationId, roles: ['admin', 'operator', 'viewer'] }, '10m');
    const sentRequest: Sent = { ...request, sentAt: Date.now() };
    sent.push(sentRequest);
    sentRequest.outcome = await post(sentRequest, token, query, variables);
    sentRequest.endedAt = Date.now();
    return sentRequest;
  }

  async function post(
    request: Sent,
    token: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Outcome> {
    try {
      const response = await fetch(options.routerUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return classify(request, response.status, await response.text());
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const code = cause?.code ?? (error as { name?: string }).name ?? 'unknown';
      return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)
        ? { kind: 'connection', code }
        : { kind: 'unclear', detail: `${code}: ${(error as Error).message}` };
    }
  }

  async function caller(index: number): Promise<void> {
    const robotId = options.robots[index]!;
    for (let seq = 0; seq < MAX_REQUESTS_PER_CALLER; seq++) {
      if (stopping || Date.now() - loadStarted > LOAD_HARD_LIMIT_MS) return;
      let done: Sent;
      if (seq % 2 === 0) {
        // One caller's samples are 1 ms apart, callers 2 s apart: unique per robot and run.
        const recordedAt = base + index * 2000 + seq;
        const temperature = seq;
        const request = {
          caller: index,
          seq,
          robotId,
          mutation: 'telemetry' as const,
          samples: new Map([[recordedAt, temperature]]),
        };
        done = await send(request, TELEMETRY, {
          robotId,
          samples: [
            {
              recordedAt: new Date(recordedAt).toISOString(),
              temperatureC: temperature,
              speedMps: index,
            },
          ],
        });
      } else {
        const battery = seq / 20 + batteryNonce;
        const status = STATUSES[Math.floor(seq / 2) % STATUSES.length]!;
        const request = {
          caller: index,
          seq,
          robotId,
          mutation: 'status' as const,
          battery,
          status,
        };
        done = await send(request, STATUS, { robotId, status, battery });
      }
      // No hot loop against a closed port or an open circuit.
      const kind = done.outcome?.kind;
      if (kind !== 'ack') await sleep(kind === 'connection' ? 50 : 20);
    }
  }

  const callers = Array.from({ length: CALLERS }, (_, i) => caller(i));
  try {
    // Warm-up: every caller has had a few mutations acknowledged.
    await waitFor(
      () =>
        sent.filter((r) => r.outcome?.kind === 'ack').length >= CALLERS * 4 ||
        sent.some((r) => r.outcome && r.outcome.kind !== 'ack'),
      60_000,
      'the warm-up acknowledgements',
    );
    assert.ok(
      sent.every((r) => !r.outcome || r.outcome.kind === 'ack'),
      `warm-up failures: ${summarize(sent.filter((r) => r.outcome && r.outcome.kind !== 'ack'))}`,
    );

    // Steady load for a while, then the probe: the signal is sent once the fleet subgraph has
    // started executing it.
    await sleep(STEADY_LOAD_MS);
    const probeSamples = new Map<number, number>();
    const probeBase = base - 1000;
    for (let i = 0; i < PROBE_SAMPLES; i++) probeSamples.set(probeBase - i * 500, i % 1000);
    const probeCountBefore = await probeRequests(options.fleet);
    const probeRequest = {
      caller: -1,
      seq: 0,
      robotId: options.probeRobot,
      mutation: 'probe' as const,
      samples: probeSamples,
    };
    const probeDone = send(probeRequest, PROBE, {
      robotId: options.probeRobot,
      samples: [...probeSamples].map(([at, temperature]) => ({
        recordedAt: new Date(at).toISOString(),
        temperatureC: temperature,
      })),
    });
    await waitFor(
      async () => (await probeRequests(options.fleet)) > probeCountBefore,
      30_000,
      'the fleet subgraph to start executing the probe',
    );
    const probe = sent.find((r) => r.mutation === 'probe')!;
    assert.equal(probe.outcome, undefined, 'the probe was still in flight when SIGTERM was sent');

    const inFlightAtSigterm = sent.filter((r) => r.outcome === undefined);
    const sigtermAt = Date.now();
    const exiting = options.stack.group.stop(options.target, { graceMs: KILL_AFTER_MS });
    let exitedAt: number | undefined;
    void exiting.then(() => (exitedAt = Date.now()));
    const connects = await probeConnections(
      Number(new URL(options.target.baseUrl).port),
      () => exitedAt === undefined,
    );
    const exit = (await exiting)!;
    // Keep sending a little longer: requests after the exit must fail clearly too.
    await sleep(1000);
    stopping = true;
    await Promise.all([...callers, probeDone]);
    return { label: options.label, sent, probe, sigtermAt, exit, connects, inFlightAtSigterm };
  } finally {
    stopping = true;
    await Promise.allSettled(callers);
  }
}

function classify(request: Sent, status: number, text: string): Outcome {
  let body: { data?: Record<string, unknown> | null; errors?: unknown[] } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    return status === 503
      ? { kind: 'coded', status, codes: ['HTTP_503'] }
      : { kind: 'unclear', detail: `${status} ${text.slice(0, 200)}` };
  }
  const errors = (body?.errors ?? []) as { extensions?: { code?: unknown } }[];
  if (errors.length > 0) {
    const codes = errors.map((e) => e.extensions?.code);
    if (codes.every((code) => typeof code === 'string'))
      return { kind: 'coded', status, codes: codes as string[] };
    return { kind: 'unclear', detail: `${status} errors without a code: ${text.slice(0, 200)}` };
  }
  if (status === 503) return { kind: 'coded', status, codes: ['HTTP_503'] };
  const data = body?.data;
  const acknowledged =
    status === 200 &&
    (request.mutation === 'status'
      ? (data?.['updateRobotStatus'] as { id?: string } | undefined)?.id === request.robotId
      : (data?.['reportTelemetry'] as { accepted?: number } | undefined)?.accepted ===
        request.samples?.size);
  return acknowledged
    ? { kind: 'ack' }
    : { kind: 'unclear', detail: `${status} without errors: ${text.slice(0, 200)}` };
}

/** How many DrainProbe operations the fleet subgraph has started executing (its /metrics). */
async function probeRequests(fleet: Service): Promise<number> {
  const text = await (
    await fetch(`${fleet.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
  ).text();
  let total = 0;
  for (const match of text.matchAll(
    /^fleetgraph_graphql_requests_total\{[^}]*operation="DrainProbe[^"]*"[^}]*\}\s+(\S+)/gm,
  ))
    total += Number(match[1]);
  return total;
}

/** TCP connection attempts every 25 ms while `draining()` holds (bounded by the kill timer). */
async function probeConnections(
  port: number,
  draining: () => boolean,
): Promise<{ at: number; accepted: boolean; beforeExit: boolean }[]> {
  const attempts: { at: number; accepted: boolean; beforeExit: boolean }[] = [];
  const deadline = Date.now() + KILL_AFTER_MS + 5000;
  do {
    const beforeExit = draining();
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    attempts.push({ at: Date.now(), accepted, beforeExit });
    await sleep(25);
  } while (draining() && Date.now() < deadline);
  return attempts;
}

interface Report {
  readonly mutations: number;
  readonly acknowledged: number;
  readonly codedFailures: number;
  readonly connectionFailures: number;
  /** Failed requests whose write is in Cassandra: executed, but the client was not told. */
  readonly failedButPersisted: readonly string[];
  readonly lost: readonly string[];
  readonly unclear: readonly string[];
  readonly codes: ReadonlyMap<string, number>;
}

/** Reads every robot's telemetry of this run and status row back from Cassandra. */
async function verify(cassandra: CassandraClient, run: Run): Promise<Report> {
  const lost: string[] = [];
  const failedButPersisted: string[] = [];
  const all = [...run.sent];
  const byRobot = new Map<string, Sent[]>();
  for (const request of all) {
    const group = byRobot.get(request.robotId);
    if (group) group.push(request);
    else byRobot.set(request.robotId, [request]);
  }
  for (const [robotId, requests] of byRobot) {
    // Telemetry: each sample by its recordedAt.
    const telemetry = requests.filter((r) => r.samples);
    const times = telemetry.flatMap((r) => [...r.samples!.keys()]);
    const stored = new Map<number, number>();
    if (times.length > 0) {
      const from = Math.min(...times);
      const to = Math.max(...times);
      for (const day of new Set([utcDay(new Date(from)), utcDay(new Date(to))])) {
        const result = await cassandra.execute(
          'SELECT recorded_at, temperature_c FROM telemetry_by_robot_day WHERE robot_id = ? AND day = ? AND recorded_at >= ? AND recorded_at <= ?',
          [robotId, day, new Date(from), new Date(to)],
          { prepare: true, fetchSize: 5000 },
        );
        for await (const row of result)
          stored.set((row['recorded_at'] as Date).getTime(), row['temperature_c'] as number);
      }
    }
    for (const request of telemetry) {
      const persisted = [...request.samples!].every(([at, t]) => stored.get(at) === t);
      if (request.outcome?.kind === 'ack' && !persisted) lost.push(name(request));
      if (request.outcome?.kind !== 'ack' && persisted) failedButPersisted.push(name(request));
    }
    // Status: one row per robot; a caller's mutations are sequential, so the row holds the
    // value of the last one that reached Cassandra — the last acknowledged or a later one.
    const statuses = requests.filter((r) => r.mutation === 'status');
    if (statuses.length === 0) continue;
    const row = (
      await cassandra.execute(
        'SELECT status, battery_percent FROM robots_by_id WHERE robot_id = ?',
        [robotId],
        { prepare: true },
      )
    ).first();
    const matches = (r: Sent) =>
      row?.['status'] === r.status &&
      Math.abs((row?.['battery_percent'] ?? -1) - r.battery!) < 1e-3;
    const lastAck = statuses.findLastIndex((r) => r.outcome?.kind === 'ack');
    const holds = statuses.findLastIndex(matches);
    if (lastAck >= 0 && holds < lastAck)
      lost.push(
        `${name(statuses[lastAck]!)} (row holds ${row?.['status']} ${row?.['battery_percent']})`,
      );
    if (holds > lastAck) failedButPersisted.push(name(statuses[holds]!));
  }
  const codes = new Map<string, number>();
  for (const request of all) {
    const outcome = request.outcome;
    const key =
      outcome?.kind === 'coded'
        ? outcome.codes.join('+')
        : outcome?.kind === 'connection'
          ? outcome.code
          : undefined;
    if (key) codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  return {
    mutations: all.length,
    acknowledged: all.filter((r) => r.outcome?.kind === 'ack').length,
    codedFailures: all.filter((r) => r.outcome?.kind === 'coded').length,
    connectionFailures: all.filter((r) => r.outcome?.kind === 'connection').length,
    failedButPersisted,
    lost,
    unclear: all
      .filter((r) => !r.outcome || r.outcome.kind === 'unclear')
      .map((r) => `${name(r)}: ${r.outcome?.kind === 'unclear' ? r.outcome.detail : 'no outcome'}`),
    codes,
  };
}

function assertShutdown(
  run: Run,
  report: Report,
  expect: {
    /** Codes a client may get while the process drains (besides connection failures). */
    readonly allowedCodes: readonly string[];
    /** Whether a request in flight at SIGTERM may end with such a code instead of data. */
    readonly inFlightMayFailWithCode: boolean;
  },
): void {
  const inFlight = run.inFlightAtSigterm;
  const inFlightDone = Math.max(...inFlight.map((r) => r.endedAt ?? 0));
  const inFlightAcked = inFlight.filter((r) => r.outcome?.kind === 'ack').length;
  const firstRefusal = run.connects.find((c) => !c.accepted);
  console.log(
    `[drain] ${run.label}: mutations sent ${report.mutations}, acknowledged ${report.acknowledged}, ` +
      `failed and reported ${report.codedFailures + report.connectionFailures} ` +
      `(${[...report.codes].map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}; ` +
      `persisted anyway ${report.failedButPersisted.length}), lost ${report.lost.length}, ` +
      `unclear ${report.unclear.length}; in flight at SIGTERM ${inFlight.length} ` +
      `(acknowledged ${inFlightAcked}, all answered by +${inFlightDone - run.sigtermAt} ms; ` +
      `probe of ${PROBE_SAMPLES} samples answered +${(run.probe.endedAt ?? 0) - run.sigtermAt} ms); ` +
      `new connections refused from +${firstRefusal ? firstRefusal.at - run.sigtermAt : '?'} ms ` +
      `(${run.connects.filter((c) => !c.accepted && c.beforeExit).length} refusals while draining); ` +
      `drain time (SIGTERM to exit) ${run.exit.ms} ms, exit code ${run.exit.code}` +
      `${run.exit.signal ? `, signal ${run.exit.signal}` : ''}${run.exit.killed ? ', SIGKILLed' : ''}`,
  );

  // Acknowledged means persisted; everything else failed clearly.
  assert.deepEqual(report.lost, [], 'acknowledged mutations missing from Cassandra');
  assert.deepEqual(report.unclear, [], 'requests without a clear outcome');
  // Before the signal nothing fails (and a connection failure is clear only once the shutdown
  // has begun).
  const early = run.sent.filter(
    (r) => r.outcome?.kind !== 'ack' && (r.endedAt ?? 0) < run.sigtermAt,
  );
  assert.deepEqual(early.map(name), [], 'failures before SIGTERM');
  const unexpectedCodes = [...report.codes.keys()].filter(
    (code) => !/^E[A-Z]+$|^UND_ERR/.test(code) && !expect.allowedCodes.includes(code),
  );
  assert.deepEqual(unexpectedCodes, [], 'unexpected error codes during the drain');
  // A drain that cut off the answer to a write it had executed would show here: the failure
  // was reported, but the write happened behind the client's back.
  assert.deepEqual(report.failedButPersisted, [], 'failed mutations that were executed anyway');

  // Drain: the probe, surely inside the stopped process at the signal, completes. Every other
  // request in flight completes too, unless it never reached the server: refused, or reset
  // before the server read it — which the check above confirms (not executed). (Any keep-alive
  // server has that race for a request written to an idle connection as it closes.)
  assert.deepEqual(run.probe.outcome, { kind: 'ack' }, `the probe: ${JSON.stringify(run.probe)}`);
  assert.ok((run.probe.endedAt ?? 0) > run.sigtermAt, 'the probe was answered after SIGTERM');
  const cutOff = inFlight.filter(
    (r) =>
      r.outcome?.kind !== 'ack' &&
      r.outcome?.kind !== 'connection' &&
      !(expect.inFlightMayFailWithCode && r.outcome?.kind === 'coded'),
  );
  assert.deepEqual(cutOff.map(name), [], 'requests in flight at SIGTERM that did not complete');

  // New connections: refused from shortly after the signal (a process handles it once its
  // event loop is free, and parsing the probe keeps it busy for a while on a loaded machine),
  // already while draining, and never accepted again.
  assert.ok(firstRefusal, 'a connection attempt after SIGTERM was refused');
  assert.ok(
    run.connects.some((c) => !c.accepted && c.beforeExit),
    `a connection was refused while the process was still draining: ${JSON.stringify(run.connects)}`,
  );
  assert.ok(
    run.connects.filter((c) => c.at > firstRefusal.at).every((c) => !c.accepted),
    'no connection accepted after the first refusal',
  );
  assert.ok(
    firstRefusal.at - run.sigtermAt < 5000,
    `the port closed within 5 s of SIGTERM (${firstRefusal.at - run.sigtermAt} ms)`,
  );

  assert.equal(run.exit.killed, false, 'the process exited by itself (no SIGKILL)');
  assert.equal(run.exit.signal, null, 'the process exited, not killed by a signal');
  assert.equal(run.exit.code, 0, 'exit code');
  assert.ok(run.exit.ms < EXIT_BOUND_MS, `exited within ${EXIT_BOUND_MS} ms (${run.exit.ms} ms)`);
}

const name = (r: Sent) =>
  `${r.mutation}#${r.caller}.${r.seq} ${r.outcome ? JSON.stringify(r.outcome) : 'pending'}`;

function summarize(requests: readonly Sent[]): string {
  return requests.slice(0, 5).map(name).join('; ');
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
