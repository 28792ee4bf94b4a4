/**
 * Security issue 16, item 6e: out-of-range dates reached Cassandra and came back as internal
 * errors. `Robot.telemetry(from: "+010000-01-01T00:00:00Z", …)` made the day-partition key
 * `+010000-01` (utcDay cuts the expanded ISO form), the statement failed and the client saw
 * INTERNAL_SERVER_ERROR; dates before 1970 and off-calendar ones (2024-02-30, silently March 1st)
 * were read as if valid.
 *
 * Every DateTime input of the API schema (found from schema/api-schema.graphql, so a new one
 * fails the coverage test until it has a case here) is sent out of range through the router,
 * as a literal and as a variable: the answer is BAD_USER_INPUT naming the argument and the
 * allowed range (kit/validate.ts), never an internal error, and a mutation with one bad date
 * writes nothing. The range's ends are accepted (a control: the refusals are not vacuous).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isObjectType,
  type GraphQLSchema,
} from 'graphql';
import { utcDay } from '../../platform/cassandra/buckets.js';
import { seedIds } from '../../scripts/seed-ids.js';
import {
  startFederation,
  tokenFor,
  type Federation,
  type GraphQLResponse,
} from '../support/federation.js';

const RANGE = 'must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z';
const ROBOT = seedIds.robot(0, 0, 0);
const DAY_MS = 86_400_000;
const HIGH_LIMITS =
  'user=1000000,anonymous=1000000,partner-standard=1000000,partner-premium=1000000,partner-trial=1000000';

/** Every argument and input field of type DateTime, as `Type.field(arg:)` / `Input.field`. */
function dateTimeInputs(schema: GraphQLSchema): string[] {
  const found: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        for (const arg of field.args)
          if (getNamedType(arg.type).name === 'DateTime')
            found.push(`${type.name}.${field.name}(${arg.name}:)`);
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (getNamedType(field.type).name === 'DateTime') found.push(`${type.name}.${field.name}`);
    }
  }
  return found.sort();
}

const TELEMETRY_VARIABLES =
  'query($id: ID!, $from: DateTime!, $to: DateTime!) { robot(id: $id) { telemetry(from: $from, to: $to) { recordedAt } } }';
const telemetryLiteral = (from: string, to: string) =>
  `{ robot(id: "${ROBOT}") { telemetry(from: "${from}", to: "${to}") { recordedAt } } }`;
const REPORT_VARIABLES =
  'mutation($id: ID!, $samples: [TelemetrySampleInput!]!) { reportTelemetry(robotId: $id, samples: $samples) { accepted } }';
const reportLiteral = (good: string, bad: string) =>
  `mutation { reportTelemetry(robotId: "${ROBOT}", samples: [{ recordedAt: "${good}", temperatureC: 99.5 }, { recordedAt: "${bad}" }]) { accepted } }`;

/** Out-of-range telemetry reads: [label, from, to, the argument the error must name]. */
const OUT_OF_RANGE_READS: [string, string, string, string][] = [
  ['year 10000', '+010000-01-01T00:00:00.000Z', '+010000-01-02T00:00:00.000Z', 'from'],
  ['a negative year', '-000001-01-01T00:00:00.000Z', '-000001-01-02T00:00:00.000Z', 'from'],
  ['before the epoch', '1969-12-31T00:00:00.000Z', '1969-12-31T12:00:00.000Z', 'from'],
  ['past what Date holds', '+275760-09-13T00:00:00.001Z', '+275760-09-13T00:00:00.002Z', 'from'],
  ['`to` alone past 9999', '9999-12-31T12:00:00.000Z', '+010000-01-01T00:00:00.000Z', 'to'],
];

describe('DateTime inputs are validated before Cassandra (issue 16, 6e)', () => {
  let federation: Federation;
  let token: string;

  before(async () => {
    federation = await startFederation({ RATE_LIMITS: HIGH_LIMITS });
    token = await tokenFor(federation.config, 0, 0, ['admin', 'operator', 'viewer'], {
      sessionId: null,
    });
  });
  after(() => federation?.close());

  const ask = (query: string, variables: Record<string, unknown> = {}) =>
    federation.query<Record<string, unknown>>(query, variables, { token });

  function assertRefused(response: GraphQLResponse<unknown>, argument: string, problem: string) {
    const text = JSON.stringify(response.body);
    assert.doesNotMatch(text, /INTERNAL_SERVER_ERROR/, text);
    const error = response.body.errors?.[0];
    assert.equal(error?.extensions?.['code'], 'BAD_USER_INPUT', text);
    assert.equal(error?.extensions?.['argumentName'], argument, text);
    assert.ok(error?.message.startsWith(`Argument "${argument}" ${problem}`), text);
  }

  it('when the API schema is read, then every DateTime input has a case in this file', () => {
    const api = buildSchema(
      readFileSync(new URL('../../schema/api-schema.graphql', import.meta.url), 'utf8'),
    );
    assert.deepEqual(dateTimeInputs(api), [
      'Robot.telemetry(from:)',
      'Robot.telemetry(to:)',
      'TelemetrySampleInput.recordedAt',
    ]);
  });

  for (const [label, from, to, argument] of OUT_OF_RANGE_READS) {
    it(`when telemetry is read with a date ${label}, then BAD_USER_INPUT names "${argument}" and the range, as variable and as literal`, async () => {
      assertRefused(await ask(TELEMETRY_VARIABLES, { id: ROBOT, from, to }), argument, RANGE);
      assertRefused(await ask(telemetryLiteral(from, to)), argument, RANGE);
    });
  }

  it('when a telemetry range is inverted, then BAD_USER_INPUT names "to"', async () => {
    const from = new Date().toISOString();
    const to = new Date(Date.now() - DAY_MS).toISOString();
    assertRefused(await ask(TELEMETRY_VARIABLES, { id: ROBOT, from, to }), 'to', 'must be after');
    assertRefused(await ask(telemetryLiteral(from, to)), 'to', 'must be after');
  });

  it('when a date is off the calendar or has no zone, then it is refused, never moved or guessed', async () => {
    for (const bad of ['2024-02-30T00:00:00.000Z', '2024-01-01T24:00:00Z', '2024-01-01T10:00:00']) {
      const to = '2024-03-02T00:00:00.000Z';
      for (const response of [
        await ask(TELEMETRY_VARIABLES, { id: ROBOT, from: bad, to }),
        await ask(telemetryLiteral(bad, to)),
      ]) {
        const text = JSON.stringify(response.body);
        assert.doesNotMatch(text, /INTERNAL_SERVER_ERROR/, text);
        assert.equal(response.body.data?.['robot'] ?? null, null, text);
        assert.match(
          String(response.body.errors?.[0]?.extensions?.['code']),
          /^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/,
          text,
        );
        assert.match(response.body.errors?.[0]?.message ?? '', /must be an ISO-8601 timestamp/);
      }
    }
  });

  it('when telemetry is read at the ends of the range, then it is answered (the control)', async () => {
    for (const [from, to] of [
      ['1970-01-01T00:00:00.000Z', '1970-01-02T00:00:00.000Z'],
      ['9999-12-31T00:00:00.000Z', '9999-12-31T23:59:59.999Z'],
    ]) {
      const response = await ask(TELEMETRY_VARIABLES, { id: ROBOT, from, to });
      assert.equal(response.body.errors, undefined, JSON.stringify(response.body));
      assert.deepEqual(response.body.data, { robot: { telemetry: [] } });
    }
  });

  /** The robot's telemetry row at `at`, and whether its heartbeat moved to `at`. */
  async function written(at: string): Promise<{ sample: boolean; heartbeat: boolean }> {
    const sample = await federation.cassandra.execute(
      'SELECT recorded_at FROM telemetry_by_robot_day WHERE robot_id = ? AND day = ? AND recorded_at = ?',
      [ROBOT, utcDay(new Date(at)), new Date(at)],
      { prepare: true },
    );
    const robot = await federation.cassandra.execute(
      'SELECT last_heartbeat_at FROM robots_by_id WHERE robot_id = ?',
      [ROBOT],
      { prepare: true },
    );
    const heartbeat = robot.first()?.['last_heartbeat_at'] as Date | null | undefined;
    return { sample: sample.rowLength > 0, heartbeat: heartbeat?.toISOString() === at };
  }

  for (const [label, bad] of [
    ['year 10000', '+010000-01-01T00:00:00.000Z'],
    ['before the epoch', '1969-07-20T20:17:40.000Z'],
    ['past what Date holds', '+275760-09-13T00:00:00.001Z'],
  ] as const) {
    it(`when a report holds one sample dated ${label}, then BAD_USER_INPUT names it and not even the good sample is written`, async () => {
      // A good sample first, at an instant no other test writes (random milliseconds).
      const good = () =>
        new Date(Date.now() - 60_000 - Math.floor(Math.random() * 60_000)).toISOString();
      const viaVariables = good();
      const samples = [{ recordedAt: viaVariables, temperatureC: 99.5 }, { recordedAt: bad }];
      assertRefused(
        await ask(REPORT_VARIABLES, { id: ROBOT, samples }),
        'samples[1].recordedAt',
        RANGE,
      );
      const viaLiteral = good();
      assertRefused(await ask(reportLiteral(viaLiteral, bad)), 'samples[1].recordedAt', RANGE);
      for (const at of [viaVariables, viaLiteral])
        assert.deepEqual(await written(at), { sample: false, heartbeat: false }, at);
    });
  }
});
