/**
 * The fan-out scenario's writers: `updateRobotStatus` through the router, paced at a fixed
 * rate (an open loop), spread round-robin over the robots of the fleet, each write logged with
 * its robot, the battery value it wrote and the moment its acknowledgement arrived.
 *
 * @remarks
 * Each write's `batteryPercent` is a sequence number of the run (`seq / 100`, 0.01 … 99.99):
 * the event a write publishes carries ids only and the router reads the robot when it delivers
 * the event, so the battery a subscriber sees names the write it reflects. Writes to one robot
 * are never in flight together (a tick skips a busy robot), so one robot's writes — and their
 * events, appended before the mutation answers (docs/subscriptions.md) — are ordered: the k-th
 * event of a robot is its k-th write.
 */
import { Agent, request } from 'undici';
import { STATUSES, UPDATE_STATUS } from '../scenarios.js';

export interface WriteRecord {
  readonly seq: number;
  readonly robotId: string;
  readonly battery: number;
  readonly sentAt: number;
  /** performance.now() when the 200 without errors had been read; undefined: failed. */
  ackAt: number | undefined;
}

export interface WriteFigures {
  readonly writes: readonly WriteRecord[];
  readonly acked: number;
  readonly failed: number;
  readonly skippedTicks: number;
  readonly failureSample?: string;
  /** Write latencies (send → ack, ms) of acknowledged writes, sorted. */
  readonly latenciesMs: Float64Array;
  readonly seconds: number;
}

const MAX_IN_FLIGHT = 64;
/** Above the router's mutation deadline (40 s): a write is never abandoned while it may land. */
const WRITE_TIMEOUT_MS = 45_000;
/** Battery values 0.01 … 99.99 (inputs.ts accepts 0–100). */
const BATTERY_VALUES = 9999;

export class Writers {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: MAX_IN_FLIGHT });
  private readonly busy = new Set<string>();
  private cursor = 0;
  private seq = 0;

  constructor(
    private readonly options: {
      readonly url: string;
      readonly robots: readonly string[];
      readonly nextToken: () => string;
    },
  ) {}

  /** Writes at `perSecond` for `seconds`, then waits for those in flight. */
  async run(perSecond: number, seconds: number, stop: () => boolean = () => false) {
    const start = performance.now();
    const end = start + seconds * 1000;
    const interval = 1000 / perSecond;
    const writes: WriteRecord[] = [];
    const latencies: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let skippedTicks = 0;
    let failed = 0;
    let failureSample: string | undefined;
    let due = start;
    while (performance.now() < end && !stop()) {
      while (due <= performance.now() && due < end) {
        due += interval;
        const robot = inFlight.size < MAX_IN_FLIGHT ? this.nextFreeRobot() : undefined;
        if (!robot) {
          skippedTicks++;
          continue;
        }
        const record = this.record(robot);
        writes.push(record);
        const write = this.send(record).then((failure) => {
          if (failure === undefined) latencies.push(record.ackAt! - record.sentAt);
          else {
            failed++;
            failureSample ??= failure;
          }
        });
        inFlight.add(write);
        void write.finally(() => inFlight.delete(write));
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, due - performance.now())));
    }
    await Promise.all(inFlight);
    return {
      writes,
      acked: writes.length - failed,
      failed,
      skippedTicks,
      ...(failureSample ? { failureSample } : {}),
      latenciesMs: Float64Array.from(latencies).sort(),
      seconds,
    } satisfies WriteFigures;
  }

  private nextFreeRobot(): string | undefined {
    const robots = this.options.robots;
    for (let i = 0; i < robots.length; i++) {
      const robot = robots[this.cursor++ % robots.length]!;
      if (!this.busy.has(robot)) return robot;
    }
    return undefined;
  }

  private record(robotId: string): WriteRecord {
    const seq = (this.seq++ % BATTERY_VALUES) + 1;
    return { seq, robotId, battery: seq / 100, sentAt: performance.now(), ackAt: undefined };
  }

  /** Sends one write; resolves undefined once acknowledged, or why it is not. */
  private async send(record: WriteRecord): Promise<string | undefined> {
    this.busy.add(record.robotId);
    const body = JSON.stringify({
      query: UPDATE_STATUS,
      operationName: 'UpdateRobotStatus',
      variables: {
        robotId: record.robotId,
        status: STATUSES[record.seq % STATUSES.length],
        battery: record.battery,
      },
    });
    try {
      const response = await request(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: `Bearer ${this.options.nextToken()}`,
        },
        body,
        dispatcher: this.agent,
        headersTimeout: WRITE_TIMEOUT_MS,
        bodyTimeout: WRITE_TIMEOUT_MS,
      });
      const text = await response.body.text();
      const ackAt = performance.now();
      if (response.statusCode !== 200 || text.includes('"errors":['))
        return `${response.statusCode} ${text.slice(0, 300)}`;
      const data = (
        JSON.parse(text) as { data?: { updateRobotStatus?: { batteryPercent?: number } } }
      ).data;
      if (data?.updateRobotStatus?.batteryPercent !== record.battery)
        return `updateRobotStatus answered ${text.slice(0, 200)}`;
      record.ackAt = ackAt;
      return undefined;
    } catch (error) {
      return `transport: ${(error as Error).message}`;
    } finally {
      this.busy.delete(record.robotId);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
