/** Telemetry: a time series per robot, one partition per UTC day, newest first. */
import type cassandra from 'cassandra-driver';
import { utcDay } from '../../../platform/cassandra/buckets.js';
import type { Db } from '../../kit/cassandra/db.js';
import { forEachBounded, fromFloat, orUnset, type RobotStatus } from './common.js';

export interface TelemetrySampleModel {
  readonly recordedAt: Date;
  readonly batteryPercent: number | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly speedMps: number | null;
  readonly temperatureC: number | null;
  readonly status: RobotStatus | null;
}

const SELECT_SAMPLES =
  'SELECT recorded_at, battery_percent, latitude, longitude, speed_mps, temperature_c, status FROM telemetry_by_robot_day WHERE robot_id = ? AND day = ? AND recorded_at >= ? AND recorded_at <= ? LIMIT ?';
const INSERT_SAMPLE =
  'INSERT INTO telemetry_by_robot_day (robot_id, day, recorded_at, battery_percent, latitude, longitude, speed_mps, temperature_c, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const DAY_MS = 86_400_000;
/**
 * Rows per unlogged batch. A batch of one partition is one mutation on one replica set (the cheap
 * use of batches); 100 rows of this table are a few kilobytes, far from any batch size limit.
 */
const ROWS_PER_BATCH = 100;
/** Batches one reportTelemetry call has in flight at once. */
const WRITE_CONCURRENCY = 16;

function toSample(row: cassandra.types.Row): TelemetrySampleModel {
  return {
    recordedAt: row['recorded_at'],
    batteryPercent: fromFloat(row['battery_percent']),
    latitude: row['latitude'] ?? null,
    longitude: row['longitude'] ?? null,
    speedMps: fromFloat(row['speed_mps']),
    temperatureC: fromFloat(row['temperature_c']),
    status: row['status'] ?? null,
  };
}

export const telemetryRepository = {
  /**
   * Samples of [from, to], newest first, at most `limit`: reads the day partitions from `to`'s
   * day backwards and stops as soon as `limit` samples are collected, so a small limit over a
   * long range reads only the newest day(s).
   */
  async samplesOfRobot(
    db: Db,
    robotId: string,
    from: Date,
    to: Date,
    limit: number,
  ): Promise<TelemetrySampleModel[]> {
    const samples: TelemetrySampleModel[] = [];
    for (const day of daysBackwards(from, to)) {
      let pageState: string | undefined;
      do {
        const wanted = limit - samples.length;
        const result = await db.execute(SELECT_SAMPLES, [robotId, day, from, to, wanted], {
          fetchSize: wanted,
          ...(pageState ? { pageState } : {}),
        });
        samples.push(...result.rows.map(toSample));
        pageState = result.pageState ?? undefined;
      } while (pageState && samples.length < limit);
      if (samples.length >= limit) break;
    }
    return samples;
  },

  /**
   * Writes samples (already validated) grouped by day partition, as unlogged batches of at
   * most {@link ROWS_PER_BATCH} rows of one partition, {@link WRITE_CONCURRENCY} at a time.
   * Rows are upserts, so a call that fails half-way can simply be repeated, and each batch is
   * idempotent: the driver may send it again when its coordinator dies mid-request.
   */
  async writeSamples(
    db: Db,
    robotId: string,
    samples: readonly TelemetrySampleModel[],
  ): Promise<void> {
    const byDay = new Map<string, TelemetrySampleModel[]>();
    for (const sample of samples) {
      const day = utcDay(sample.recordedAt);
      const group = byDay.get(day);
      if (group) group.push(sample);
      else byDay.set(day, [sample]);
    }
    const batches: { query: string; params: unknown[] }[][] = [];
    for (const [day, group] of byDay) {
      for (let i = 0; i < group.length; i += ROWS_PER_BATCH) {
        batches.push(
          group.slice(i, i + ROWS_PER_BATCH).map((sample) => ({
            query: INSERT_SAMPLE,
            params: [
              robotId,
              day,
              sample.recordedAt,
              orUnset(sample.batteryPercent),
              orUnset(sample.latitude),
              orUnset(sample.longitude),
              orUnset(sample.speedMps),
              orUnset(sample.temperatureC),
              orUnset(sample.status),
            ],
          })),
        );
      }
    }
    await forEachBounded(batches, WRITE_CONCURRENCY, (queries) =>
      db.batch(queries, { logged: false, idempotent: true }),
    );
  },
};

/** The UTC days of [from, to], newest first, as the `day` partition key. */
function daysBackwards(from: Date, to: Date): string[] {
  const days: string[] = [];
  for (let at = Date.parse(utcDay(to)); at >= Date.parse(utcDay(from)); at -= DAY_MS)
    days.push(utcDay(new Date(at)));
  return days;
}
