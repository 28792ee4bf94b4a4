/**
 * fleet subgraph: validation of its own arguments (the generic ones are in kit/validate.ts).
 * Every failure is a BAD_USER_INPUT naming the argument.
 */
import { badUserInput } from '../../platform/contract/errors.js';
import { EVENT_RETENTION_MS, STREAM_ID } from '../../platform/events/contract.js';
import { isExpired } from '../../platform/events/stream.js';
import { requireDateTime, requireNonEmpty, requireUuid, truncate } from '../kit/validate.js';
import { isTimeUuid, type RobotStatus } from './repository/common.js';
import type { TelemetrySampleModel } from './repository/telemetry.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Most samples one reportTelemetry call takes (the request body limit allows ~4 MB). */
export const MAX_SAMPLES_PER_CALL = 10_000;
/** Most samples one telemetry read returns. */
export const MAX_TELEMETRY_LIMIT = 10_000;
/** Widest telemetry read: a month of day partitions. */
const MAX_TELEMETRY_RANGE_MS = 31 * DAY_MS;
/** Clock skew a robot may have: samples from slightly ahead of the server's clock are kept. */
const MAX_SAMPLE_SKEW_MS = 5 * MINUTE_MS;
/** telemetry_by_robot_day keeps 30 days (its TTL): an older sample is past its retention. */
const MAX_SAMPLE_AGE_MS = 30 * DAY_MS;
const MAX_STEPS = 100;

/** A mission id: missions_by_id is keyed by timeuuid, so only version-1 UUIDs can exist. */
export function requireMissionId(argumentName: string, value: string): string {
  const id = requireUuid(argumentName, value);
  if (!isTimeUuid(id))
    throw badUserInput(argumentName, `must be a mission id, a version-1 UUID (got "${value}")`);
  return id;
}

export function optionalUuid(
  argumentName: string,
  value: string | null | undefined,
): string | null {
  return value == null ? null : requireUuid(argumentName, value);
}

export function requireBattery(argumentName: string, value: number): number {
  return requireBetween(argumentName, value, 0, 100);
}

function requireBetween(argumentName: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max)
    throw badUserInput(argumentName, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

export function requireSteps(argumentName: string, steps: readonly string[]): string[] {
  if (steps.length < 1 || steps.length > MAX_STEPS)
    throw badUserInput(argumentName, `must have 1 to ${MAX_STEPS} steps (got ${steps.length})`);
  return steps.map((step, i) => requireNonEmpty(`${argumentName}[${i}]`, step, 500));
}

/** `from` and `to` in range, `to` after `from`, at most 31 days apart; `limit` 1..10,000. */
export function requireTelemetryQuery(args: { from: Date; to: Date; limit?: number | null }): {
  from: Date;
  to: Date;
  limit: number;
} {
  const from = requireDateTime('from', args.from);
  const to = requireDateTime('to', args.to);
  if (to.getTime() <= from.getTime())
    throw badUserInput('to', `must be after "from" (got ${to.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_TELEMETRY_RANGE_MS)
    throw badUserInput('from', 'must be at most 31 days before "to"');
  const limit = args.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TELEMETRY_LIMIT)
    throw badUserInput('limit', `must be between 1 and ${MAX_TELEMETRY_LIMIT} (got ${limit})`);
  return { from, to, limit };
}

export interface TelemetrySampleInput {
  readonly recordedAt: Date;
  readonly batteryPercent?: number | null;
  readonly latitude?: number | null;
  readonly longitude?: number | null;
  readonly speedMps?: number | null;
  readonly temperatureC?: number | null;
  readonly status?: RobotStatus | null;
}

/**
 * Every sample checked before any is written, so a call with one bad sample writes nothing.
 * Errors name the sample, e.g. `samples[42].latitude`.
 */
export function requireSamples(
  samples: readonly TelemetrySampleInput[],
  now = Date.now(),
): TelemetrySampleModel[] {
  if (samples.length > MAX_SAMPLES_PER_CALL) {
    throw badUserInput(
      'samples',
      `accepts at most ${MAX_SAMPLES_PER_CALL} samples per call (got ${samples.length})`,
    );
  }
  return samples.map((sample, i) => {
    const name = `samples[${i}]`;
    const at = requireDateTime(`${name}.recordedAt`, sample.recordedAt).getTime();
    if (at > now + MAX_SAMPLE_SKEW_MS)
      throw badUserInput(`${name}.recordedAt`, 'must not be more than 5 minutes in the future');
    if (at < now - MAX_SAMPLE_AGE_MS)
      throw badUserInput(`${name}.recordedAt`, 'must not be more than 30 days old');
    const optional = (field: keyof TelemetrySampleInput, min: number, max: number) => {
      const value = sample[field] as number | null | undefined;
      return value == null ? null : requireBetween(`${name}.${field}`, value, min, max);
    };
    return {
      recordedAt: sample.recordedAt,
      batteryPercent: optional('batteryPercent', 0, 100),
      latitude: optional('latitude', -90, 90),
      longitude: optional('longitude', -180, 180),
      speedMps: sample.speedMps ?? null,
      temperatureC: sample.temperatureC ?? null,
      status: sample.status ?? null,
    };
  });
}

/** A change event's id (a Redis stream id, as the event's `id` field gave it). */
export function requireEventId(argumentName: string, value: string): string {
  if (!STREAM_ID.test(value))
    throw badUserInput(
      argumentName,
      `must be an event id as an event's id field gave it, e.g. 1767225600000-0 (got "${truncate(value)}")`,
    );
  return value;
}

/**
 * A subscription's `after`: an event id still within the retention window — an older one could
 * hide a gap, so the client is told to refetch instead.
 */
export function optionalResumeId(
  argumentName: string,
  value: string | null | undefined,
  now = Date.now(),
): string | null {
  if (value == null) return null;
  const id = requireEventId(argumentName, value);
  if (isExpired(id, now))
    throw badUserInput(
      argumentName,
      `is older than the ${EVENT_RETENTION_MS / MINUTE_MS}-minute event retention: refetch by query, then subscribe without it`,
    );
  return id;
}
