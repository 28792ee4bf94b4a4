/** The DateTime scalar every subgraph declares: ISO-8601 strings on the wire, Date inside. */
import { GraphQLScalarType, Kind } from 'graphql';
import { badUserInput } from '../../platform/contract/errors.js';

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw badUserInput('DateTime', `must be an ISO-8601 timestamp (got ${JSON.stringify(value)})`);
  return date;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
