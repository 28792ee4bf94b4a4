/**
 * The live-fleet scenario's stale-read detector: every write the harness sends, with the moment
 * its acknowledgement arrived, and the check of a dashboard read against them.
 *
 * @remarks
 * Definition (bench/README.md, "Live fleet"). A write is *acknowledged* when its HTTP 200
 * response without GraphQL errors has been received; its ack time is `performance.now()` then.
 * A read's start time is `performance.now()` just before its request is sent. Both clocks are
 * this process's monotonic clock. For each robot of a read, the *expected* state is the newest
 * write to that robot acknowledged before the read started; a *stale reading* is a robot whose
 * state in the response is from before that write, and a *stale read* is a read with at least
 * one stale reading. Its staleness window is the read's start minus the ack time of the newest
 * write it missed (and, reported alongside, minus the ack time of the first write it missed:
 * how long the value had been out of date).
 *
 * The writes are made orderable: per robot, every `reportTelemetry` carries a `recordedAt`
 * later than any before (so `lastHeartbeatAt` names the newest telemetry write it reflects)
 * and no battery; every `updateRobotStatus` carries a battery value never used before for that
 * robot in this run, strictly increasing (so `batteryPercent` names the status write it
 * reflects, and `status` must be that write's). Writes to one robot are never in flight at
 * once (the writers skip a busy robot): two concurrent writes to one row could land in either
 * order, which is not the cache's doing. A write that failed (or timed out) may still have been
 * applied; it stays in the ledger without an ack time, so seeing its value is allowed while
 * it is the newest, and stale once a later write was acknowledged.
 *
 * A reading that matches no write of this run and not the robot's state before it is counted
 * as *unexplained* (it would mean another writer, or a detector bug): it is reported, and
 * must be 0.
 */

/** How a battery value reads back: a Cassandra `float`, then `toPrecision(7)` (fromFloat). */
export function batteryKey(value: number | null | undefined): number | null {
  return value == null ? null : Number(Math.fround(value).toPrecision(7));
}

/** One robot's state as a dashboard read shows it. */
export interface Reading {
  readonly id: string;
  readonly status: string;
  readonly batteryPercent: number | null;
  /** Epoch milliseconds of `lastHeartbeatAt`, or null. */
  readonly heartbeatMs: number | null;
}

interface Write {
  /** Heartbeats: recordedAt (epoch ms). Status writes: the battery key. */
  readonly value: number;
  readonly status?: string;
  /** performance.now() when the acknowledgement arrived; undefined while pending or failed. */
  ackAt: number | undefined;
}

interface RobotLedger {
  readonly initialHeartbeat: number | null;
  readonly initialBattery: number | null;
  readonly initialStatus: string;
  readonly heartbeats: Write[];
  readonly statuses: Write[];
  /** Battery key → index in `statuses`. */
  readonly statusIndex: Map<number, number>;
  busy: boolean;
  nextBatteryStep: number;
}

/** The outcome of checking one read. */
export interface ReadCheck {
  /** Robots whose state is older than the newest write acknowledged before the read started. */
  readonly staleReadings: number;
  /** Per stale reading: read start − ack time of the newest write it missed (ms). */
  readonly windowsMs: number[];
  /** Per stale reading: read start − ack time of the first write it missed (ms). */
  readonly sinceFirstMissedMs: number[];
  /** Readings that match neither a write of this run nor the state before it. */
  readonly unexplained: number;
  /** The first unexplained reading, described (for the report). */
  readonly unexplainedSample?: string;
}

/** Battery values of status writes: 0.01, 0.02, … 100 (10,000 per robot and run). */
const BATTERY_STEPS_PER_UNIT = 100;
const BATTERY_STEPS = 100 * BATTERY_STEPS_PER_UNIT;

export class WriteLedger {
  private readonly robots = new Map<string, RobotLedger>();

  /** Starts from the robots' state as one read (before any write of this run) showed it. */
  constructor(initial: readonly Reading[]) {
    for (const reading of initial) {
      this.robots.set(reading.id, {
        initialHeartbeat: reading.heartbeatMs,
        initialBattery: batteryKey(reading.batteryPercent),
        initialStatus: reading.status,
        heartbeats: [],
        statuses: [],
        statusIndex: new Map(),
        busy: false,
        nextBatteryStep: 1,
      });
    }
  }

  get robotIds(): string[] {
    return [...this.robots.keys()];
  }

  isBusy(robotId: string): boolean {
    return this.robot(robotId).busy;
  }

  /**
   * Records a telemetry write about to be sent and returns its recordedAt (epoch ms): now, or
   * 1 ms after the robot's latest heartbeat (ours or the initial one) if that is later.
   */
  beginTelemetry(robotId: string, nowMs: number): { recordedAtMs: number; done: Done } {
    const robot = this.claim(robotId);
    const latest = robot.heartbeats.at(-1)?.value ?? robot.initialHeartbeat ?? 0;
    const write: Write = { value: Math.max(nowMs, latest + 1), ackAt: undefined };
    robot.heartbeats.push(write);
    return { recordedAtMs: write.value, done: this.settle(robot, write) };
  }

  /**
   * Records a status write about to be sent and returns its battery value (strictly above the
   * robot's previous ones in this run, never its initial value), or undefined when the robot
   * has used up the values (the caller sends telemetry instead).
   */
  beginStatus(robotId: string, status: string): { battery: number; done: Done } | undefined {
    const robot = this.robot(robotId);
    if (robot.busy) throw new Error(`robot ${robotId} already has a write in flight`);
    let step = robot.nextBatteryStep;
    while (
      step <= BATTERY_STEPS &&
      batteryKey(step / BATTERY_STEPS_PER_UNIT) === robot.initialBattery
    )
      step++;
    if (step > BATTERY_STEPS) return undefined;
    robot.nextBatteryStep = step + 1;
    const battery = step / BATTERY_STEPS_PER_UNIT;
    this.claim(robotId);
    const write: Write = { value: batteryKey(battery)!, status, ackAt: undefined };
    robot.statusIndex.set(write.value, robot.statuses.length);
    robot.statuses.push(write);
    return { battery, done: this.settle(robot, write) };
  }

  /** Checks one read's robots against the writes acknowledged before `startedAt`. */
  check(startedAt: number, readings: readonly Reading[]): ReadCheck {
    let staleReadings = 0;
    let unexplained = 0;
    let unexplainedSample: string | undefined;
    const windowsMs: number[] = [];
    const sinceFirstMissedMs: number[] = [];
    for (const reading of readings) {
      const robot = this.robots.get(reading.id);
      if (!robot) continue; // not a robot of this run (none should be)
      const heartbeat = checkHeartbeat(robot, reading, startedAt);
      const status = checkStatus(robot, reading, startedAt);
      for (const problem of [heartbeat, status]) {
        if (problem === 'unexplained') {
          unexplained++;
          unexplainedSample ??= `robot ${reading.id}: status ${reading.status}, battery ${reading.batteryPercent}, heartbeat ${reading.heartbeatMs === null ? null : new Date(reading.heartbeatMs).toISOString()}`;
        }
      }
      const missed = [heartbeat, status].filter(
        (p): p is Missed => typeof p === 'object' && p !== null,
      );
      if (missed.length === 0) continue;
      staleReadings++;
      windowsMs.push(startedAt - Math.max(...missed.map((m) => m.newestAck)));
      sinceFirstMissedMs.push(startedAt - Math.min(...missed.map((m) => m.firstAck)));
    }
    return {
      staleReadings,
      windowsMs,
      sinceFirstMissedMs,
      unexplained,
      ...(unexplainedSample ? { unexplainedSample } : {}),
    };
  }

  private robot(robotId: string): RobotLedger {
    const robot = this.robots.get(robotId);
    if (!robot) throw new Error(`robot ${robotId} is not one of the live fleet's robots`);
    return robot;
  }

  private claim(robotId: string): RobotLedger {
    const robot = this.robot(robotId);
    if (robot.busy) throw new Error(`robot ${robotId} already has a write in flight`);
    robot.busy = true;
    return robot;
  }

  private settle(robot: RobotLedger, write: Write): Done {
    return (ackAt) => {
      write.ackAt = ackAt;
      robot.busy = false;
    };
  }
}

/** Ends a write: its ack time (performance.now()), or undefined when it failed. */
export type Done = (ackAt: number | undefined) => void;

/** The acked writes a reading missed: ack times of the first and the newest of them. */
interface Missed {
  readonly firstAck: number;
  readonly newestAck: number;
}

/** Index of the newest write acknowledged before `startedAt`, or -1. */
function expectedIndex(writes: readonly Write[], startedAt: number): number {
  // Writes to one robot never overlap, so acknowledged ones are in ack order.
  for (let i = writes.length - 1; i >= 0; i--) {
    const ackAt = writes[i]!.ackAt;
    if (ackAt !== undefined && ackAt < startedAt) return i;
  }
  return -1;
}

/** The acked writes after index `seen` up to `expected`, as a {@link Missed}. */
function missedBetween(writes: readonly Write[], seen: number, expected: number): Missed | null {
  if (seen >= expected) return null;
  let firstAck: number | undefined;
  for (let i = seen + 1; i <= expected; i++) {
    const ackAt = writes[i]!.ackAt;
    if (ackAt !== undefined) {
      firstAck = ackAt;
      break;
    }
  }
  return { firstAck: firstAck ?? writes[expected]!.ackAt!, newestAck: writes[expected]!.ackAt! };
}

function checkHeartbeat(
  robot: RobotLedger,
  reading: Reading,
  startedAt: number,
): Missed | 'unexplained' | null {
  const writes = robot.heartbeats;
  const seen =
    reading.heartbeatMs === robot.initialHeartbeat
      ? -1
      : writes.findIndex((w) => w.value === reading.heartbeatMs);
  if (seen === -1 && reading.heartbeatMs !== robot.initialHeartbeat) return 'unexplained';
  return missedBetween(writes, seen, expectedIndex(writes, startedAt));
}

function checkStatus(
  robot: RobotLedger,
  reading: Reading,
  startedAt: number,
): Missed | 'unexplained' | null {
  const key = batteryKey(reading.batteryPercent);
  const writes = robot.statuses;
  let seen: number;
  if (key !== null && robot.statusIndex.has(key)) {
    seen = robot.statusIndex.get(key)!;
    if (writes[seen]!.status !== reading.status) return 'unexplained';
  } else if (key === robot.initialBattery && reading.status === robot.initialStatus) {
    seen = -1;
  } else {
    return 'unexplained';
  }
  return missedBetween(writes, seen, expectedIndex(writes, startedAt));
}
