/**
 * One live-fleet run: readers looping the fleet dashboard and writers sending telemetry and
 * status changes for the same robots at a fixed rate, all in this process (one monotonic clock
 * for read starts and write acks), every read checked against the {@link WriteLedger}.
 *
 * @remarks
 * Requests go through undici directly (not autocannon): each read needs its own start time,
 * body and `x-cache` header, each write its ack time. Readers are closed loops (a new read as
 * soon as the previous one is checked); writers are an open loop paced at `writesPerSecond`
 * (a tick that finds every robot busy, or too many writes in flight, is counted as skipped).
 */
import { Agent, request } from 'undici';
import { round } from '../lib/procstat.js';
import { REPORT_TELEMETRY, STATUSES, UPDATE_STATUS } from '../scenarios.js';
import type { Reading, WriteLedger } from './ledger.js';

/** Every `STATUS_EVERY`-th write is an updateRobotStatus, the others reportTelemetry. */
export const STATUS_EVERY = 3;
const MAX_WRITES_IN_FLIGHT = 64;
const READ_TIMEOUT_MS = 15_000;
/** Above the router's mutation deadline (40 s): a write is never abandoned while it may land. */
const WRITE_TIMEOUT_MS = 45_000;

export interface TrafficOptions {
  readonly readUrl: string;
  readonly writeUrl: string;
  readonly seconds: number;
  readonly readers: number;
  readonly writesPerSecond: number;
  /** The dashboard request body (its bytes name the cache entry: one namespace per run). */
  readonly readBody: string;
  readonly ledger: WriteLedger;
  readonly nextToken: () => string;
}

export interface TrafficFigures {
  /** The load's length: reads and writes start within it (rates divide by this). */
  readonly seconds: number;
  /** Until the last read and write in flight at the end had finished. */
  readonly wallSeconds: number;
  readonly reads: number;
  readonly readErrors: number;
  readonly readErrorSample?: string;
  /** Sorted read latencies (ms). */
  readonly readLatenciesMs: Float64Array;
  /** Reads by their x-cache header (HIT, MISS, UNKNOWN, or none). */
  readonly xCache: Readonly<Record<string, number>>;
  readonly staleReads: number;
  readonly staleReadings: number;
  /** Stale reads by their x-cache header. */
  readonly staleReadsByXCache: Readonly<Record<string, number>>;
  readonly windowsMs: readonly number[];
  readonly sinceFirstMissedMs: readonly number[];
  readonly unexplainedReadings: number;
  readonly unexplainedSample?: string;
  readonly writes: {
    readonly sent: number;
    readonly acked: number;
    readonly failed: number;
    readonly skippedTicks: number;
    readonly telemetry: number;
    readonly status: number;
    readonly failureSample?: string;
    /** Sorted write latencies (ms) of acknowledged writes. */
    readonly latenciesMs: Float64Array;
  };
}

/** The robots of a dashboard response, or an error message. */
export function parseDashboard(text: string): Reading[] | string {
  let parsed: {
    data?: {
      fleet?: {
        robots?: {
          nodes?: {
            id: string;
            status: string;
            batteryPercent: number | null;
            lastHeartbeatAt: string | null;
          }[];
        };
      } | null;
    };
  };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  const nodes = parsed.data?.fleet?.robots?.nodes;
  if (!nodes) return `no fleet.robots.nodes: ${text.slice(0, 200)}`;
  return nodes.map((node) => ({
    id: node.id,
    status: node.status,
    batteryPercent: node.batteryPercent,
    heartbeatMs: node.lastHeartbeatAt === null ? null : Date.parse(node.lastHeartbeatAt),
  }));
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export class LiveAgents {
  readonly reads: Agent;
  readonly writes = new Agent({ keepAliveTimeout: 30_000, connections: MAX_WRITES_IN_FLIGHT });
  constructor(readers: number) {
    this.reads = new Agent({ keepAliveTimeout: 30_000, connections: readers });
  }
  async close(): Promise<void> {
    await Promise.all([this.reads.close(), this.writes.close()]);
  }
}

/** One dashboard read through `url` (for the initial state): its robots, or throws. */
export async function readOnce(
  agents: LiveAgents,
  url: string,
  body: string,
  token: string,
): Promise<{ readings: Reading[]; bytes: number }> {
  const response = await request(url, {
    method: 'POST',
    headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
    body,
    dispatcher: agents.reads,
    headersTimeout: READ_TIMEOUT_MS,
    bodyTimeout: READ_TIMEOUT_MS,
  });
  const text = await response.body.text();
  const readings = parseDashboard(text);
  if (response.statusCode !== 200 || text.includes('"errors":[') || typeof readings === 'string')
    throw new Error(`dashboard read answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return { readings, bytes: Buffer.byteLength(text) };
}

export async function runTraffic(
  agents: LiveAgents,
  options: TrafficOptions,
): Promise<TrafficFigures> {
  const start = performance.now();
  const end = start + options.seconds * 1000;
  const reads = new ReadTally();
  const writes = new WriteTally();
  await Promise.all([
    ...Array.from({ length: options.readers }, () => reader(agents, options, end, reads)),
    writer(agents, options, start, end, writes),
  ]);
  return {
    seconds: options.seconds,
    wallSeconds: round((performance.now() - start) / 1000, 2),
    ...reads.figures(),
    writes: writes.figures(),
  };
}

class ReadTally {
  reads = 0;
  errors = 0;
  errorSample: string | undefined;
  latencies: number[] = [];
  xCache: Record<string, number> = {};
  staleReads = 0;
  staleReadings = 0;
  staleByXCache: Record<string, number> = {};
  windowsMs: number[] = [];
  sinceFirstMissedMs: number[] = [];
  unexplained = 0;
  unexplainedSample: string | undefined;

  figures() {
    return {
      reads: this.reads,
      readErrors: this.errors,
      ...(this.errorSample ? { readErrorSample: this.errorSample } : {}),
      readLatenciesMs: Float64Array.from(this.latencies).sort(),
      xCache: this.xCache,
      staleReads: this.staleReads,
      staleReadings: this.staleReadings,
      staleReadsByXCache: this.staleByXCache,
      windowsMs: this.windowsMs,
      sinceFirstMissedMs: this.sinceFirstMissedMs,
      unexplainedReadings: this.unexplained,
      ...(this.unexplainedSample ? { unexplainedSample: this.unexplainedSample } : {}),
    };
  }
}

async function reader(
  agents: LiveAgents,
  options: TrafficOptions,
  end: number,
  tally: ReadTally,
): Promise<void> {
  // A cache hit answers the same bytes as the previous read: parsed once.
  let lastText = '';
  let lastReadings: Reading[] = [];
  while (performance.now() < end) {
    const startedAt = performance.now();
    let text: string;
    let status: number;
    let xCache: string;
    try {
      const response = await request(options.readUrl, {
        method: 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${options.nextToken()}` },
        body: options.readBody,
        dispatcher: agents.reads,
        headersTimeout: READ_TIMEOUT_MS,
        bodyTimeout: READ_TIMEOUT_MS,
      });
      text = await response.body.text();
      status = response.statusCode;
      const header = response.headers['x-cache'];
      xCache = typeof header === 'string' ? header : 'none';
    } catch (error) {
      tally.errors++;
      tally.errorSample ??= `transport: ${(error as Error).message}`;
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const latency = performance.now() - startedAt;
    const readings = text === lastText ? lastReadings : parseDashboard(text);
    if (status !== 200 || text.includes('"errors":[') || typeof readings === 'string') {
      tally.errors++;
      tally.errorSample ??= `${status} ${text.slice(0, 300)}`;
      continue;
    }
    lastText = text;
    lastReadings = readings;
    tally.reads++;
    tally.latencies.push(latency);
    tally.xCache[xCache] = (tally.xCache[xCache] ?? 0) + 1;
    const check = options.ledger.check(startedAt, readings);
    tally.unexplained += check.unexplained;
    if (check.unexplainedSample) tally.unexplainedSample ??= check.unexplainedSample;
    if (check.staleReadings > 0) {
      tally.staleReads++;
      tally.staleReadings += check.staleReadings;
      tally.staleByXCache[xCache] = (tally.staleByXCache[xCache] ?? 0) + 1;
      tally.windowsMs.push(...check.windowsMs);
      tally.sinceFirstMissedMs.push(...check.sinceFirstMissedMs);
    }
  }
}

class WriteTally {
  sent = 0;
  acked = 0;
  failed = 0;
  skippedTicks = 0;
  telemetry = 0;
  status = 0;
  failureSample: string | undefined;
  latencies: number[] = [];

  figures(): TrafficFigures['writes'] {
    return {
      sent: this.sent,
      acked: this.acked,
      failed: this.failed,
      skippedTicks: this.skippedTicks,
      telemetry: this.telemetry,
      status: this.status,
      ...(this.failureSample ? { failureSample: this.failureSample } : {}),
      latenciesMs: Float64Array.from(this.latencies).sort(),
    };
  }
}

/** Paces writes at options.writesPerSecond until `end`, then waits for those in flight. */
async function writer(
  agents: LiveAgents,
  options: TrafficOptions,
  start: number,
  end: number,
  tally: WriteTally,
): Promise<void> {
  const robots = options.ledger.robotIds;
  const interval = 1000 / options.writesPerSecond;
  const inFlight = new Set<Promise<void>>();
  let cursor = 0;
  const nextFreeRobot = (): string | undefined => {
    for (let i = 0; i < robots.length; i++) {
      const robot = robots[cursor++ % robots.length]!;
      if (!options.ledger.isBusy(robot)) return robot;
    }
    return undefined;
  };
  let due = start;
  let count = 0;
  while (performance.now() < end) {
    while (due <= performance.now() && due < end) {
      due += interval;
      const robot = inFlight.size < MAX_WRITES_IN_FLIGHT ? nextFreeRobot() : undefined;
      if (!robot) {
        tally.skippedTicks++;
        continue;
      }
      const kind = count++ % STATUS_EVERY === STATUS_EVERY - 1 ? 'status' : 'telemetry';
      const write = sendWrite(agents, options, robot, kind, count, tally);
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, due - performance.now())));
  }
  await Promise.all(inFlight);
}

async function sendWrite(
  agents: LiveAgents,
  options: TrafficOptions,
  robotId: string,
  wanted: 'status' | 'telemetry',
  count: number,
  tally: WriteTally,
): Promise<void> {
  const status = STATUSES[count % STATUSES.length]!;
  const asStatus = wanted === 'status' ? options.ledger.beginStatus(robotId, status) : undefined;
  const asTelemetry = asStatus ? undefined : options.ledger.beginTelemetry(robotId, Date.now());
  const done = (asStatus ?? asTelemetry)!.done;
  const body = asStatus
    ? JSON.stringify({
        query: UPDATE_STATUS,
        operationName: 'UpdateRobotStatus',
        variables: { robotId, status, battery: asStatus.battery },
      })
    : JSON.stringify({
        query: REPORT_TELEMETRY,
        operationName: 'ReportTelemetry',
        variables: {
          robotId,
          // No battery: a heartbeat moves lastHeartbeatAt (and the position) only.
          samples: [
            {
              recordedAt: new Date(asTelemetry!.recordedAtMs).toISOString(),
              latitude: 52.5 + (count % 1000) / 100_000,
              longitude: 13.4 + (count % 1000) / 100_000,
              speedMps: (count % 5) / 2,
              temperatureC: 25 + (count % 3),
              status: 'ACTIVE',
            },
          ],
        },
      });
  if (asStatus) tally.status++;
  else tally.telemetry++;
  tally.sent++;
  const sentAt = performance.now();
  let failure: string | undefined;
  try {
    const response = await request(options.writeUrl, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${options.nextToken()}` },
      body,
      dispatcher: agents.writes,
      headersTimeout: WRITE_TIMEOUT_MS,
      bodyTimeout: WRITE_TIMEOUT_MS,
    });
    const text = await response.body.text();
    const ackAt = performance.now();
    failure = writeFailure(response.statusCode, text, asStatus?.battery);
    if (!failure) {
      done(ackAt);
      tally.acked++;
      tally.latencies.push(ackAt - sentAt);
      return;
    }
  } catch (error) {
    failure = `transport: ${(error as Error).message}`;
  }
  done(undefined);
  tally.failed++;
  tally.failureSample ??= failure;
}

/** Why a write's response is not an acknowledgement, or undefined if it is one. */
function writeFailure(
  status: number,
  text: string,
  battery: number | undefined,
): string | undefined {
  if (status !== 200 || text.includes('"errors":[')) return `${status} ${text.slice(0, 300)}`;
  try {
    const data = (JSON.parse(text) as { data?: Record<string, Record<string, unknown> | null> })
      .data;
    if (battery !== undefined) {
      if (data?.['updateRobotStatus']?.['batteryPercent'] !== battery)
        return `updateRobotStatus answered ${text.slice(0, 200)}`;
    } else if (data?.['reportTelemetry']?.['accepted'] !== 1) {
      return `reportTelemetry answered ${text.slice(0, 200)}`;
    }
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  return undefined;
}
