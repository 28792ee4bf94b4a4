/**
 * Fault test: a Cassandra node dies under load. Three nodes, keyspace at RF 3, reads and writes
 * at LOCAL_QUORUM (test/cluster/run.sh starts the cluster and sets the configuration).
 *
 * One scenario under one steady load through the router (WRITERS callers, each owning one robot
 * and sending, in turn, a telemetry sample, a read of its robot, a status change and a fleet
 * read; READERS callers reading those robots and the fleet): warm-up; node 2 is SIGKILLed, the load goes on with two nodes, node 2 is restarted on
 * its data and waited for until it has rejoined; then the same for node 1 (the seed the drivers
 * first connect to, usually their control connection); a last steady stretch. Afterwards every
 * acknowledged write is read back directly at LOCAL_QUORUM. The tests below assert on what the
 * scenario recorded; the figures are printed.
 *
 * What makes zero failures possible (platform/cassandra/client.ts, docs/cassandra-cluster.md):
 * two replicas of three answer a quorum; requests in flight on the killed node's connections
 * are retried on another node because every read, and every write this load sends, is
 * idempotent; the driver marks the node down and stops routing to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedIds } from '../../scripts/seed-ids.js';
import { bucketOf, utcDay } from '../../platform/cassandra/buckets.js';
import { connectCassandra, type CassandraClient } from '../../platform/cassandra/client.js';
import {
  clusterOf,
  killNode,
  sleep,
  startNode,
  waitUntilRejoined,
  type ClusterNode,
  type NodeNumber,
} from '../support/cassandraCluster.js';
import { startFederation, tokenFor, type Federation } from '../support/federation.js';

/** Callers that each own one robot: they write it and read their own writes back. */
const WRITERS = 6;
/** Callers that only read (robots of the writers, the fleet): reads must keep flowing. */
const READERS = 2;
/** Pause between one worker's requests: a steady load, not a saturating one (2 shared cores). */
const PAUSE_MS = 20;
/** A request without an answer after this long is aborted and counted as failed. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Upper bound on requests, whatever the timing (the load also stops when the scenario ends). */
const MAX_REQUESTS = 60_000;
const WARM_UP_MS = 8_000;
/** How long each killed node stays down under load before it is restarted. */
const DOWN_MS = 12_000;
/** Load after each rejoin, before the next fault (or the end). */
const STEADY_MS = 8_000;
const REJOIN_TIMEOUT_MS = 240_000;
/** The nodes killed, in order. */
const VICTIMS: readonly NodeNumber[] = [2, 1];

const FLEET_ID = seedIds.fleet(0, 0);
const STATUSES = ['IDLE', 'ACTIVE', 'CHARGING', 'MAINTENANCE'] as const;

const REPORT = `mutation Report($robotId: ID!, $samples: [TelemetrySampleInput!]!) {
  reportTelemetry(robotId: $robotId, samples: $samples) { accepted } }`;
const UPDATE_STATUS = `mutation Status($robotId: ID!, $status: RobotStatus!, $battery: Float) {
  updateRobotStatus(robotId: $robotId, status: $status, batteryPercent: $battery) { id status batteryPercent } }`;
const ROBOT = `query Robot($id: ID!, $from: DateTime!, $to: DateTime!) {
  robot(id: $id) {
    id status batteryPercent lastHeartbeatAt
    fleet { id name }
    operator { id displayName }
    telemetry(from: $from, to: $to, limit: 3) { recordedAt speedMps }
  } }`;
const FLEET = `query Fleet($id: ID!) {
  me { id displayName organization { id name } }
  fleet(id: $id) { id name robots(first: 20) { nodes { id status } } } }`;

type Kind = 'report' | 'status' | 'robot' | 'fleet';
const WRITES: ReadonlySet<Kind> = new Set(['report', 'status']);

interface Outcome {
  readonly kind: Kind;
  readonly phase: string;
  readonly ms: number;
  /** Why the request counts as failed; undefined when it succeeded. */
  readonly failure?: string;
}

/** What one worker's robot was told and acknowledged, to check reads and the final state. */
interface Ledger {
  readonly robotId: string;
  /** Acknowledged telemetry samples: recordedAt (unique per robot) and the speed sent. */
  readonly samples: { recordedAt: Date; speed: number }[];
  lastStatus: { status: string; battery: number } | null;
  /**
   * Acknowledged status changes, and how many of them a later read showed (the writer's next
   * read of its robot, or the final read-back): each overwrites the one before, so it can only
   * be read back before the next one.
   */
  statusAcks: number;
  statusReadBack: number;
  /** The newest acknowledged status change has not been seen by a read yet. */
  statusPending: boolean;
  /** A write of this robot failed (its effect unknown): read checks are skipped from then on. */
  uncertain: boolean;
  lastRecordedAt: number;
}

interface NodeFigures {
  readonly node: NodeNumber;
  /** From SIGKILL to the restart command. */
  readonly downMs: number;
  /** From the restart command until the node answered CQL. */
  readonly restartToCqlMs: number;
  /** From the restart command until it had rejoined (driver sees it up, reads at ALL pass). */
  readonly restartToRejoinedMs: number;
}

interface Scenario {
  readonly outcomes: Outcome[];
  readonly ledgers: Ledger[];
  readonly nodes: NodeFigures[];
  staleReads: { worker: number; what: string }[];
  driver: Record<string, number>;
  /** The driver's errors other than closed connections (which a killed node causes), by message. */
  driverErrors: string[];
  verification?: Verification;
  /** Why the fault sequence stopped early (a node that did not come back), if it did. */
  error?: Error;
  totalMs: number;
}

let federation: Federation;
let verifier: CassandraClient;
let scenario: Scenario;

describe('Cassandra node loss under load (3 nodes, RF 3, LOCAL_QUORUM)', () => {
  before(async () => {
    federation = await startFederation({
      // Every read must reach Cassandra, and one user's steady load must not be rate limited.
      RESPONSE_CACHE: 'false',
      RATE_LIMITS:
        'user=1000000,anonymous=1000000,partner-standard=1000000,partner-premium=1000000,partner-trial=1000000',
    });
    const cluster = clusterOf(federation.config);
    assert.equal(federation.config.cassandra.readConsistency, 'LOCAL_QUORUM');
    assert.equal(federation.config.cassandra.writeConsistency, 'LOCAL_QUORUM');
    verifier = await connectCassandra(federation.config);
    scenario = await runScenario(cluster);
    printFigures(scenario);
  });

  after(async () => {
    await verifier?.shutdown();
    await federation?.close();
  });

  it('when a node is killed and restarted under load, then no request fails', () => {
    const failed = scenario.outcomes.filter((o) => o.failure);
    assert.ok(scenario.outcomes.length > 0);
    assert.deepEqual(
      failed.slice(0, 10).map((o) => `${o.phase} ${o.kind}: ${o.failure}`),
      [],
      `${failed.length} of ${scenario.outcomes.length} requests failed`,
    );
  });

  it('when a node is down, then the load is still being served (the fault happened under load)', () => {
    for (const node of VICTIMS) {
      const served = scenario.outcomes.filter((o) => o.phase === `node ${node} down`);
      assert.ok(
        served.length >= WRITERS + READERS,
        `only ${served.length} requests while node ${node} was down`,
      );
      assert.ok(served.some((o) => WRITES.has(o.kind)));
    }
  });

  it('when every acknowledged write is read back at LOCAL_QUORUM afterwards, then none is lost', () => {
    const verification = scenario.verification!;
    assert.ok(verification.samplesAcknowledged > 0 && verification.statusAcknowledged > 0);
    assert.deepEqual(verification.lost.slice(0, 10), [], `${verification.lost.length} lost`);
    assert.equal(verification.samplesReadBack, verification.samplesAcknowledged);
    assert.equal(verification.statusReadBack, verification.statusAcknowledged);
  });

  it('when a worker reads its robot after its own acknowledged writes, then it sees them', () => {
    assert.deepEqual(scenario.staleReads.slice(0, 10), []);
  });

  it('when a killed node is restarted on its data, then it rejoins and the driver uses it again', () => {
    assert.ifError(scenario.error);
    assert.equal(scenario.nodes.length, VICTIMS.length);
    for (const figures of scenario.nodes) assert.ok(figures.restartToRejoinedMs > 0);
  });
});

async function runScenario(cluster: readonly ClusterNode[]): Promise<Scenario> {
  const started = Date.now();
  const token = await tokenFor(federation.config, 0, 0, undefined, { expiresIn: '2h' });
  const driver = countDriverEvents(federation.cassandra);
  const scenarioState: Scenario = {
    outcomes: [],
    ledgers: Array.from({ length: WRITERS }, (_, w) => ({
      robotId: seedIds.robot(0, 0, w),
      samples: [],
      lastStatus: null,
      statusAcks: 0,
      statusReadBack: 0,
      statusPending: false,
      uncertain: false,
      lastRecordedAt: 0,
    })),
    nodes: [],
    staleReads: [],
    driver: {},
    driverErrors: [],
    totalMs: 0,
  };
  let phase = 'warm-up';
  let running = true;
  let sent = 0;

  const send = async (
    kind: Kind,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Record<string, unknown> | null> => {
    const at = Date.now();
    const atPhase = phase;
    let failure: string | undefined;
    let data: Record<string, unknown> | null = null;
    try {
      const response = await fetch(federation.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const body = (await response.json()) as {
        data?: Record<string, unknown> | null;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      if (response.status !== 200) failure = `HTTP ${response.status}`;
      if (body.errors?.length)
        failure = `${failure ?? 'errors'}: ${body.errors.map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; ')}`;
      data = body.data ?? null;
      if (!failure && !data) failure = 'no data';
    } catch (error) {
      failure = `no answer: ${(error as Error).message}`;
    }
    scenarioState.outcomes.push({
      kind,
      phase: atPhase,
      ms: Date.now() - at,
      ...(failure ? { failure } : {}),
    });
    return failure ? null : data;
  };

  const reader = async (r: number): Promise<void> => {
    for (let n = 0; running && sent < MAX_REQUESTS; n++) {
      sent++;
      if (n % 2 === 0) {
        await send('robot', ROBOT, {
          id: seedIds.robot(0, 0, (n / 2 + r) % WRITERS),
          from: new Date(started - 60_000).toISOString(),
          to: new Date(Date.now() + 60_000).toISOString(),
        });
      } else {
        await send('fleet', FLEET, { id: FLEET_ID });
      }
      await sleep(PAUSE_MS);
    }
  };

  const writer = async (w: number): Promise<void> => {
    const ledger = scenarioState.ledgers[w]!;
    for (let n = 0; running && sent < MAX_REQUESTS; n++) {
      sent++;
      const kind = (['report', 'robot', 'status', 'fleet'] as const)[n % 4]!;
      if (kind === 'report') {
        // recordedAt is unique per robot (one worker per robot, strictly increasing).
        const recordedAt = new Date(Math.max(Date.now(), ledger.lastRecordedAt + 1));
        ledger.lastRecordedAt = recordedAt.getTime();
        const speed = n;
        const data = await send(kind, REPORT, {
          robotId: ledger.robotId,
          samples: [{ recordedAt: recordedAt.toISOString(), speedMps: speed, temperatureC: w }],
        });
        const accepted = (data?.['reportTelemetry'] as { accepted?: number } | undefined)?.accepted;
        if (accepted === 1) ledger.samples.push({ recordedAt, speed });
        else ledger.uncertain = true;
      } else if (kind === 'status') {
        const status = STATUSES[(n >> 2) % STATUSES.length]!;
        const battery = n % 101;
        const data = await send(kind, UPDATE_STATUS, {
          robotId: ledger.robotId,
          status,
          battery,
        });
        if (data?.['updateRobotStatus']) {
          ledger.lastStatus = { status, battery };
          ledger.statusAcks++;
          ledger.statusPending = true;
        } else ledger.uncertain = true;
      } else if (kind === 'robot') {
        const data = await send(kind, ROBOT, {
          id: ledger.robotId,
          from: new Date(started - 60_000).toISOString(),
          to: new Date(Date.now() + 60_000).toISOString(),
        });
        if (data && !ledger.uncertain) checkFreshness(scenarioState, w, ledger, data);
      } else {
        await send(kind, FLEET, { id: FLEET_ID });
      }
      await sleep(PAUSE_MS);
    }
  };

  const load = Promise.all([
    ...Array.from({ length: WRITERS }, (_, w) => writer(w)),
    ...Array.from({ length: READERS }, (_, r) => reader(r)),
  ]);
  try {
    await sleep(WARM_UP_MS);
    for (const victim of VICTIMS) {
      const target = cluster.find((c) => c.node === victim)!;
      phase = `node ${victim} down`;
      log(`killing node ${victim} (SIGKILL) under load`);
      const killedAt = Date.now();
      await killNode(victim);
      await sleep(DOWN_MS);
      phase = `node ${victim} restarting`;
      const restartAt = Date.now();
      log(`restarting node ${victim} on its data`);
      await startNode(victim);
      const cqlAt = Date.now();
      await waitUntilRejoined(
        [federation.cassandra, verifier],
        cluster,
        target,
        {
          query: 'SELECT robot_id FROM robots_by_id WHERE robot_id = ?',
          params: [seedIds.robot(0, 0, 0)],
        },
        REJOIN_TIMEOUT_MS,
      );
      const rejoinedAt = Date.now();
      log(`node ${victim} rejoined ${rejoinedAt - restartAt} ms after its restart`);
      scenarioState.nodes.push({
        node: victim,
        downMs: restartAt - killedAt,
        restartToCqlMs: cqlAt - restartAt,
        restartToRejoinedMs: rejoinedAt - restartAt,
      });
      phase = `after node ${victim} rejoined`;
      await sleep(STEADY_MS);
    }
  } catch (error) {
    // Recorded, not thrown: the load's figures and the read-back are still worth having.
    scenarioState.error = error as Error;
  } finally {
    running = false;
    await load;
  }
  scenarioState.driver = driver.counts;
  scenarioState.driverErrors = driver.errors;
  scenarioState.verification = await verifyAcknowledgedWrites(scenarioState.ledgers);
  scenarioState.totalMs = Date.now() - started;
  return scenarioState;
}

/** A worker's read of its robot must show its own latest acknowledged writes. */
function checkFreshness(
  state: Scenario,
  worker: number,
  ledger: Ledger,
  data: Record<string, unknown>,
): void {
  const robot = data['robot'] as {
    status: string;
    batteryPercent: number | null;
    lastHeartbeatAt: string | null;
    telemetry: { recordedAt: string; speedMps: number | null }[];
  } | null;
  const stale = (what: string): void => {
    state.staleReads.push({ worker, what });
  };
  if (!robot) return stale('robot is null');
  const newest = ledger.samples.at(-1);
  if (newest) {
    const expected = newest.recordedAt.toISOString();
    if (robot.lastHeartbeatAt !== expected)
      stale(`lastHeartbeatAt ${robot.lastHeartbeatAt}, expected ${expected}`);
    if (robot.telemetry[0]?.recordedAt !== expected)
      stale(`newest sample ${robot.telemetry[0]?.recordedAt}, expected ${expected}`);
  }
  if (ledger.lastStatus) {
    const { status, battery } = ledger.lastStatus;
    if (robot.status !== status || robot.batteryPercent !== battery)
      stale(`status ${robot.status}/${robot.batteryPercent}, expected ${status}/${battery}`);
    else if (ledger.statusPending) {
      ledger.statusReadBack++;
      ledger.statusPending = false;
    }
  }
}

interface Verification {
  readonly samplesAcknowledged: number;
  /** Acknowledged samples found afterwards, with the speed that was sent. */
  readonly samplesReadBack: number;
  readonly statusAcknowledged: number;
  /** Acknowledged status changes seen by a later read (see Ledger.statusReadBack). */
  readonly statusReadBack: number;
  readonly lost: string[];
}

/**
 * Reads every acknowledged write back through a separate client at LOCAL_QUORUM: each sample
 * in its day partition (with the speed sent), and each robot's final state in robots_by_id
 * (status, battery, heartbeat) and robots_by_fleet_status (listed under its final status only).
 */
async function verifyAcknowledgedWrites(ledgers: readonly Ledger[]): Promise<Verification> {
  const lost: string[] = [];
  let samplesAcknowledged = 0;
  let samplesReadBack = 0;
  for (const ledger of ledgers) {
    const byDay = new Map<string, { recordedAt: Date; speed: number }[]>();
    for (const sample of ledger.samples) {
      const day = utcDay(sample.recordedAt);
      byDay.set(day, [...(byDay.get(day) ?? []), sample]);
    }
    for (const [day, samples] of byDay) {
      const stored = new Map<number, number>();
      const result = await verifier.execute(
        'SELECT recorded_at, speed_mps FROM telemetry_by_robot_day WHERE robot_id = ? AND day = ?',
        [ledger.robotId, day],
        { prepare: true, fetchSize: 100_000, isIdempotent: true },
      );
      for (const row of result.rows)
        stored.set((row['recorded_at'] as Date).getTime(), row['speed_mps'] as number);
      for (const sample of samples) {
        samplesAcknowledged++;
        const speed = stored.get(sample.recordedAt.getTime());
        if (speed === sample.speed) samplesReadBack++;
        else
          lost.push(
            `robot ${ledger.robotId} sample ${sample.recordedAt.toISOString()}: ${speed === undefined ? 'missing' : `speed ${speed}, sent ${sample.speed}`}`,
          );
      }
    }
    if (ledger.uncertain) continue; // a failed write may or may not have landed after the last ack
    const robot = (
      await verifier.execute(
        'SELECT status, battery_percent, last_heartbeat_at FROM robots_by_id WHERE robot_id = ?',
        [ledger.robotId],
        { prepare: true, isIdempotent: true },
      )
    ).first();
    const newest = ledger.samples.at(-1);
    if (newest) {
      const heartbeat = (robot?.['last_heartbeat_at'] as Date | null)?.getTime();
      if (heartbeat !== newest.recordedAt.getTime())
        lost.push(
          `robot ${ledger.robotId} heartbeat ${heartbeat}, expected ${newest.recordedAt.getTime()}`,
        );
    }
    if (ledger.lastStatus) {
      const { status, battery } = ledger.lastStatus;
      const matches = robot?.['status'] === status && robot?.['battery_percent'] === battery;
      if (matches && ledger.statusPending) {
        ledger.statusReadBack++;
        ledger.statusPending = false;
      }
      if (!matches)
        lost.push(
          `robot ${ledger.robotId} status ${robot?.['status']}/${robot?.['battery_percent']}, expected ${status}/${battery}`,
        );
      const listedUnder: string[] = [];
      for (const candidate of ['IDLE', 'ACTIVE', 'CHARGING', 'ERROR', 'OFFLINE', 'MAINTENANCE']) {
        const listed = await verifier.execute(
          'SELECT robot_id FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket = ? AND robot_id = ?',
          [FLEET_ID, candidate, bucketOf(ledger.robotId), ledger.robotId],
          { prepare: true, isIdempotent: true },
        );
        if (listed.rowLength > 0) listedUnder.push(candidate);
      }
      if (listedUnder.join() !== status)
        lost.push(
          `robot ${ledger.robotId} listed under [${listedUnder.join()}], expected ${status}`,
        );
    }
  }
  const statusAcknowledged = ledgers.reduce((sum, l) => sum + l.statusAcks, 0);
  const statusReadBack = ledgers.reduce((sum, l) => sum + l.statusReadBack, 0);
  if (statusReadBack < statusAcknowledged)
    lost.push(`${statusAcknowledged - statusReadBack} status changes never seen by a later read`);
  return { samplesAcknowledged, samplesReadBack, statusAcknowledged, statusReadBack, lost };
}

/** Counts the driver's retries (by cause) and speculative executions during the scenario. */
function countDriverEvents(client: CassandraClient): {
  counts: Record<string, number>;
  errors: string[];
} {
  const counts: Record<string, number> = {};
  const errors: string[] = [];
  const metrics = client.metrics as unknown as Record<
    string,
    NodeJS.EventEmitter & Record<string, NodeJS.EventEmitter>
  >;
  const on = (name: string, emitter: NodeJS.EventEmitter | undefined) =>
    emitter?.on('increment', (error?: { writeType?: string; message?: string }) => {
      counts[name] = (counts[name] ?? 0) + 1;
      if (name.startsWith('errors.') && name !== 'errors.connection' && error?.message)
        errors.push(`${name}: ${error.message.split('\n')[0]}`);
      if (error?.writeType) {
        const byType = `${name}.${error.writeType}`;
        counts[byType] = (counts[byType] ?? 0) + 1;
      }
    });
  for (const cause of ['readTimeout', 'writeTimeout', 'unavailable', 'clientTimeout', 'other'])
    on(`retries.${cause}`, metrics['retries']?.[cause]);
  for (const cause of [
    'readTimeout',
    'writeTimeout',
    'unavailable',
    'clientTimeout',
    'connection',
    'other',
  ])
    on(`errors.${cause}`, metrics['errors']?.[cause]);
  on('speculativeExecutions', metrics['speculativeExecutions']);
  return { counts, errors };
}

function printFigures(state: Scenario): void {
  const writes = state.outcomes.filter((o) => WRITES.has(o.kind));
  const failed = state.outcomes.filter((o) => o.failure);
  const v = state.verification;
  const lines = [
    `requests sent: ${state.outcomes.length} (writes ${writes.length}, reads ${state.outcomes.length - writes.length}), failed: ${failed.length}`,
    `writes acknowledged: ${v ? v.samplesAcknowledged + v.statusAcknowledged : '?'} (telemetry samples ${v?.samplesAcknowledged}, status changes ${v?.statusAcknowledged}); read back: samples ${v?.samplesReadBack} (afterwards, directly at LOCAL_QUORUM), status changes ${v?.statusReadBack} (by the writer's next read through the router, the last one also afterwards); lost: ${v?.lost.length ?? 'not verified'}`,
    `stale reads of a worker's own writes: ${state.staleReads.length}`,
    ...state.nodes.map(
      (n) =>
        `node ${n.node}: down ${ms(n.downMs)} under load, restart -> CQL ${ms(n.restartToCqlMs)}, restart -> rejoined (driver up, ALL reads pass) ${ms(n.restartToRejoinedMs)}`,
    ),
    `driver: ${
      Object.entries(state.driver)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'no retries, errors or speculative executions'
    }`,
    'by phase (sent in it): reads and writes as count, failed, latency p50 / p99 / max ms',
    ...[...new Set(state.outcomes.map((o) => o.phase))].map((phase) => {
      const inPhase = state.outcomes.filter((o) => o.phase === phase);
      const figures = (outcomes: Outcome[]) => {
        const sorted = outcomes.map((o) => o.ms).sort((a, b) => a - b);
        const q = (p: number) =>
          sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
        const failures = outcomes.filter((o) => o.failure).length;
        return `${sorted.length}, ${failures}, ${q(0.5)} / ${q(0.99)} / ${sorted.at(-1) ?? 0}`;
      };
      return `  ${phase}: reads ${figures(inPhase.filter((o) => !WRITES.has(o.kind)))}; writes ${figures(inPhase.filter((o) => WRITES.has(o.kind)))}`;
    }),
    `scenario took ${ms(state.totalMs)}${state.error ? `; stopped early: ${state.error.message}` : ''}`,
    ...[...countBy(failed.map((o) => `${o.phase} ${o.kind}: ${o.failure}`))]
      .slice(0, 15)
      .map(([what, n]) => `  failed ×${n}: ${what}`),
    ...[...countBy(state.driverErrors)]
      .slice(0, 15)
      .map(([what, n]) => `  driver error ×${n}: ${what}`),
  ];
  console.log(lines.map((l) => `[node-loss] ${l}`).join('\n'));
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function ms(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}

function log(message: string): void {
  console.log(`[node-loss] ${new Date().toISOString()} ${message}`);
}
