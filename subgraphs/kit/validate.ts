/**
 * Argument validation shared by resolvers: every failure is a BAD_USER_INPUT naming the argument.
 */
import { badUserInput } from '../../platform/contract/errors.js';
import { isUuid } from '../../platform/contract/ids.js';

export { isUuid };

/** Largest page a connection serves; larger `first` values are refused, not silently cut. */
export const MAX_PAGE_SIZE = 500;
/** Most ids one `users(ids:)` / `robots(ids:)` call accepts. */
export const MAX_IDS_PER_CALL = 500;

export function requireUuid(argumentName: string, value: string): string {
  if (!isUuid(value)) throw badUserInput(argumentName, `must be a UUID (got "${truncate(value)}")`);
  return value.toLowerCase();
}

export function requireUuids(argumentName: string, values: readonly string[]): string[] {
  if (values.length > MAX_IDS_PER_CALL) {
    throw badUserInput(
      argumentName,
      `accepts at most ${MAX_IDS_PER_CALL} ids (got ${values.length})`,
    );
  }
  return values.map((value) => requireUuid(argumentName, value));
}

export function requirePageSize(
  argumentName: string,
  value: number | null | undefined,
  fallback = 20,
): number {
  const size = value ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badUserInput(argumentName, `must be between 1 and ${MAX_PAGE_SIZE} (got ${size})`);
  }
  return size;
}

/**
 * The instants a DateTime argument may name: 1970-01-01T00:00:00.000Z to
 * 9999-12-31T23:59:59.999Z.
 *
 * @remarks
 * Cassandra's `timestamp` (signed 64-bit milliseconds) and JavaScript's `Date` (±8.64e15 ms,
 * about ±275,760 years) both hold far more, but not everything between them is sensible:
 * outside four-digit years `toISOString` switches to the expanded `+010000-…` form, which the
 * day-partition keys (`utcDay`, the `date` column of telemetry_by_robot_day) cannot take — the
 * statement failed and the client saw INTERNAL_SERVER_ERROR — and which many clients cannot
 * parse back. Nothing the API records (telemetry, heartbeats, missions, sessions) precedes the
 * Unix epoch, and negative epoch milliseconds are where bucket arithmetic and clients go wrong.
 */
export const EARLIEST_DATE_TIME = new Date('1970-01-01T00:00:00.000Z');
export const LATEST_DATE_TIME = new Date('9999-12-31T23:59:59.999Z');

/** A DateTime argument within {@link EARLIEST_DATE_TIME}..{@link LATEST_DATE_TIME}. */
export function requireDateTime(argumentName: string, value: Date): Date {
  const at = value.getTime();
  if (!(at >= EARLIEST_DATE_TIME.getTime() && at <= LATEST_DATE_TIME.getTime())) {
    const got = Number.isNaN(at) ? 'a date beyond what can be represented' : value.toISOString();
    throw badUserInput(
      argumentName,
      `must be between ${EARLIEST_DATE_TIME.toISOString()} and ${LATEST_DATE_TIME.toISOString()} (got ${got})`,
    );
  }
  return value;
}

export function requireNonEmpty(argumentName: string, value: string, max = 200): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw badUserInput(argumentName, 'must not be empty');
  if (trimmed.length > max) throw badUserInput(argumentName, `must be at most ${max} characters`);
  return trimmed;
}

/** An optional text argument: absent stays null, present must be non-empty and at most `max`. */
export function optionalText(
  argumentName: string,
  value: string | null | undefined,
  max: number,
): string | null {
  return value == null ? null : requireNonEmpty(argumentName, value, max);
}

export function truncate(value: string, max = 40): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
