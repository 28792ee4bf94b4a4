/** The DateTime scalar every subgraph declares: ISO-8601 strings on the wire, Date inside. */
import { GraphQLScalarType, Kind } from 'graphql';
import { badUserInput } from '../../platform/contract/errors.js';
import { truncate } from './validate.js';

/**
 * An ISO-8601 date, or date-time with `Z` or a `±hh:mm` offset. Four-digit years, or the
 * expanded `±YYYYYY` form (which `toISOString` writes past 9999).
 *
 * @remarks
 * The scalar checks the form only, not the range: it cannot know which argument it parses, and
 * the client is owed the argument's name. A well-formed value outside what `Date` holds (past
 * ±275760) parses to an invalid `Date`; every resolver taking a DateTime passes it through
 * kit/validate.ts `requireDateTime`, which refuses it, and anything outside 1970–9999, as
 * BAD_USER_INPUT naming the argument (test/security/date-validation.test.ts proves it for every
 * DateTime input of the API schema).
 */
const ISO_8601 =
  /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/i;

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/**
 * Whether every field is on the calendar and the clock. `Date` itself rolls some over
 * (2024-02-30 becomes March 1st, 24:00 the next day) and reads a date-time without an offset
 * in the server's time zone, so those are refused here rather than silently moved.
 */
function isOnCalendar(match: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  const dateOnly = match[4] === undefined;
  const zoned = dateOnly || /z$/i.test(match[0]) || match[7] !== undefined;
  return (
    zoned &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth(year!, month!) &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHour! <= 23 &&
    offsetMinute! <= 59
  );
}

function parseDate(value: unknown): Date {
  const match = typeof value === 'string' ? ISO_8601.exec(value) : null;
  if (!match || !isOnCalendar(match))
    throw badUserInput(
      'DateTime',
      `must be an ISO-8601 timestamp with Z or an offset, e.g. 2026-11-23T10:00:00.000Z (got ${truncate(JSON.stringify(value) ?? String(value))})`,
    );
  return new Date(match[0]);
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
