/**
 * The schema registry check (schema/check/), composition's outputs and the generated operation
 * types. Every case edits the real subgraph SDL (schema/subgraphs/*.graphql) into temporary
 * files and checks them in process against the committed supergraph (`--base-file`), so the
 * cases follow the schema as it evolves; each edit asserts that it changed something, so a
 * schema change that makes a fixture meaningless fails loudly instead of passing vacuously.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import {
  runSchemaCheck,
  SchemaCheckUsageError,
  type ChangeReport,
  type Criticality,
  type SchemaCheckOptions,
  type SchemaCheckResult,
} from '../../schema/check/index.js';
import { formatJson, formatMarkdown, formatText } from '../../schema/check/format.js';
import {
  GENERATED_OPERATIONS_FILE,
  generateOperationTypes,
} from '../../schema/codegen/operationTypes.js';
import { API_SCHEMA_FILE } from '../../schema/composition/apiSchema.js';
import { SUPERGRAPH_FILE } from '../../schema/composition/compose.js';
import { composeSchemaFiles } from '../../schema/composition/files.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BASELINE = join(ROOT, 'schema/supergraph.graphql');
const SUBGRAPH_NAMES = ['users', 'sessions', 'fleet'] as const;
type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

const realSdl = (name: SubgraphName) =>
  readFileSync(join(ROOT, 'schema/subgraphs', `${name}.graphql`), 'utf8');

// ------------------------------------------------------------------------------ SDL editing

/**
 * Applies `edit` to the body (between the braces) of one type definition of a subgraph SDL and
 * asserts that it changed something.
 */
function editType(sdl: string, typeName: string, edit: (body: string) => string): string {
  const header = new RegExp(`^(?:type|input|enum|interface) ${typeName}\\b[^{]*\\{\\n`, 'm').exec(
    sdl,
  );
  assert.ok(header, `the SDL defines ${typeName}`);
  const start = header.index + header[0].length;
  const end = sdl.indexOf('\n}', start) + 1;
  const body = sdl.slice(start, end);
  const edited = edit(body);
  assert.notEqual(edited, body, `the edit of ${typeName} changed nothing`);
  return sdl.slice(0, start) + edited + sdl.slice(end);
}

/** Removes a field, argument-bearing field or enum value, with the description above it. */
function removeMember(typeName: string, member: string) {
  return (sdl: string) =>
    editType(sdl, typeName, (body) => {
      const lines = body.split('\n');
      const index = lines.findIndex((line) => new RegExp(`^  ${member}(?:[(:\\s]|$)`).test(line));
      assert.ok(index >= 0, `${typeName} has ${member}`);
      let first = index;
      const above = lines[index - 1]?.trim() ?? '';
      if (/^"[^"].*"$/.test(above)) first = index - 1;
      else if (above === '"""') {
        first = index - 2;
        while (first > 0 && lines[first]?.trim() !== '"""') first--;
      }
      lines.splice(first, index - first + 1);
      return lines.join('\n');
    });
}

/** Replaces text inside one type's body (the first occurrence). */
function replaceIn(typeName: string, from: string | RegExp, to: string) {
  return (sdl: string) => editType(sdl, typeName, (body) => body.replace(from, to));
}

/** Adds lines at the end of one type's body. */
function addTo(typeName: string, lines: string) {
  return (sdl: string) => editType(sdl, typeName, (body) => `${body}${lines}\n`);
}

function replaceAll(from: string | RegExp, to: string) {
  return (sdl: string) => {
    const edited = sdl.replace(from, to);
    assert.notEqual(edited, sdl, `the SDL contains ${String(from)}`);
    return edited;
  };
}

const append = (text: string) => (sdl: string) => `${sdl}\n${text}\n`;

type Edits = Partial<Record<SubgraphName, readonly ((sdl: string) => string)[]>>;

let workDir: string;

/** Writes the edited subgraphs to temporary files: the `--subgraph name=path` overrides. */
function editedSubgraphs(edits: Edits): Record<string, string> {
  const directory = mkdtempSync(join(workDir, 'subgraphs-'));
  const overrides: Record<string, string> = {};
  for (const [name, steps] of Object.entries(edits) as [SubgraphName, typeof edits.fleet][]) {
    const sdl = (steps ?? []).reduce((text, step) => step(text), realSdl(name));
    overrides[name] = join(directory, `${name}.graphql`);
    writeFileSync(overrides[name], sdl);
  }
  return overrides;
}

function check(edits: Edits, options: SchemaCheckOptions = {}): Promise<SchemaCheckResult> {
  return runSchemaCheck({
    baseFile: BASELINE,
    // No approvals unless a test brings its own: the repository's file must not sway fixtures.
    approvalsFile: emptyApprovals,
    subgraphs: editedSubgraphs(edits),
    ...options,
  });
}

let emptyApprovals: string;

function findChange(result: SchemaCheckResult, type: string, coordinate: string): ChangeReport {
  const change = result.changes.find((c) => c.type === type && c.coordinate === coordinate);
  assert.ok(
    change,
    `expected ${type} ${coordinate}; got:\n${result.changes.map((c) => `  ${c.type} ${c.coordinate}`).join('\n')}\n${result.compositionErrors.map((e) => e.text).join('\n')}`,
  );
  return change;
}

// ------------------------------------------------------------------------------------ fixtures

interface Fixture {
  readonly description: string;
  readonly edits: Edits;
  readonly expected: readonly {
    readonly type: string;
    readonly coordinate: string;
    readonly criticality: Criticality;
    readonly usedBy?: readonly string[];
  }[];
  readonly exitCode: 0 | 1 | 2;
  /** Operations expected to stop validating, with a fragment of the validation error. */
  readonly broken?: readonly { readonly name: string; readonly error: string }[];
  /** For exit 2: the composition error's code and the subgraphs it must name. */
  readonly compositionError?: { readonly code: string; readonly subgraphs: readonly string[] };
}

const FIXTURES: readonly Fixture[] = [
  {
    description: 'a field a registered operation selects is removed (Robot.batteryPercent)',
    edits: { fleet: [removeMember('Robot', 'batteryPercent')] },
    expected: [
      {
        type: 'FIELD_REMOVED',
        coordinate: 'Robot.batteryPercent',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
    broken: [
      { name: 'FleetDashboard', error: 'Cannot query field "batteryPercent" on type "Robot".' },
    ],
  },
  {
    description: 'a field no registered operation selects is removed (Session.client)',
    edits: { sessions: [removeMember('Session', 'client')] },
    expected: [
      { type: 'FIELD_REMOVED', coordinate: 'Session.client', criticality: 'breaking', usedBy: [] },
    ],
    exitCode: 0,
  },
  {
    description: 'a type is removed with the only field returning it (SessionValidity)',
    edits: {
      sessions: [
        removeMember('Query', 'sessionValidity'),
        replaceAll(
          /\n"Whether a session may still be used[^\n]*\ntype SessionValidity \{[\s\S]*?\n\}\n/,
          '\n',
        ),
      ],
    },
    expected: [
      { type: 'TYPE_REMOVED', coordinate: 'SessionValidity', criticality: 'breaking', usedBy: [] },
      { type: 'FIELD_REMOVED', coordinate: 'Query.sessionValidity', criticality: 'breaking' },
    ],
    exitCode: 0,
  },
  {
    description: "a selected field's type changes (Robot.serial String! to Int!)",
    edits: { fleet: [replaceIn('Robot', /serial: String!/, 'serial: Int!')] },
    expected: [
      {
        type: 'FIELD_TYPE_CHANGED',
        coordinate: 'Robot.serial',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    // The operation still validates (a scalar leaf), but its data type changed under it.
    exitCode: 1,
  },
  {
    description: "a selected output field's nullability is loosened (Fleet.name String! to String)",
    edits: { fleet: [replaceIn('Fleet', /name: String!/, 'name: String')] },
    expected: [
      {
        type: 'FIELD_TYPE_CHANGED',
        coordinate: 'Fleet.name',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
  },
  {
    description: 'a required argument is added to a selected field (Fleet.robots(site: String!))',
    edits: {
      fleet: [
        replaceIn('Fleet', /robots\(first: Int = 20,/, 'robots(site: String!, first: Int = 20,'),
      ],
    },
    expected: [
      {
        type: 'FIELD_ARGUMENT_ADDED',
        coordinate: 'Fleet.robots.site',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
    broken: [{ name: 'FleetDashboard', error: 'argument "site" of type "String!" is required' }],
  },
  {
    description: 'an argument an operation passes becomes non-null (Fleet.robots(after: String!))',
    edits: { fleet: [replaceIn('Fleet', /after: String,/, 'after: String!,')] },
    expected: [
      {
        type: 'FIELD_ARGUMENT_TYPE_CHANGED',
        coordinate: 'Fleet.robots.after',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
    broken: [
      {
        name: 'FleetDashboard',
        error: 'Variable "$after" of type "String" used in position expecting type "String!".',
      },
    ],
  },
  {
    description:
      "an argument's type changes under an operation's variable (Query.fleet(id: String!))",
    edits: { fleet: [replaceIn('Query', /fleet\(id: ID!\)/, 'fleet(id: String!)')] },
    expected: [
      {
        type: 'FIELD_ARGUMENT_TYPE_CHANGED',
        coordinate: 'Query.fleet.id',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
    broken: [
      {
        name: 'FleetDashboard',
        error: 'Variable "$fleetId" of type "ID!" used in position expecting type "String!".',
      },
    ],
  },
  {
    description: 'an argument no operation passes is removed (Fleet.robots(status:))',
    edits: { fleet: [replaceIn('Fleet', /, status: RobotStatus\)/, ')')] },
    expected: [
      {
        type: 'FIELD_ARGUMENT_REMOVED',
        coordinate: 'Fleet.robots.status',
        criticality: 'breaking',
        usedBy: [],
      },
    ],
    exitCode: 0,
  },
  {
    description: 'a value of an enum an operation reads is removed (RobotStatus.MAINTENANCE)',
    edits: { fleet: [removeMember('RobotStatus', 'MAINTENANCE')] },
    expected: [
      {
        type: 'ENUM_VALUE_REMOVED',
        coordinate: 'RobotStatus.MAINTENANCE',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
  },
  {
    description: 'a value of an enum no operation uses is removed (MissionOutcome.CANCELLED)',
    edits: { fleet: [removeMember('MissionOutcome', 'CANCELLED')] },
    expected: [
      {
        type: 'ENUM_VALUE_REMOVED',
        coordinate: 'MissionOutcome.CANCELLED',
        criticality: 'breaking',
        usedBy: [],
      },
    ],
    exitCode: 0,
  },
  {
    description: 'a required input field is added (RegisterRobotInput.site: String!)',
    edits: { fleet: [addTo('RegisterRobotInput', '  site: String!')] },
    expected: [
      {
        type: 'INPUT_FIELD_ADDED',
        coordinate: 'RegisterRobotInput.site',
        criticality: 'breaking',
        usedBy: [],
      },
    ],
    exitCode: 0,
  },
  {
    description: "an entity's @key changes (Robot from id to serial)",
    edits: {
      fleet: [replaceAll('type Robot @key(fields: "id")', 'type Robot @key(fields: "serial")')],
    },
    expected: [
      {
        type: 'FEDERATION_KEY_CHANGED',
        coordinate: 'Robot',
        criticality: 'breaking',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 1,
  },
  {
    description: 'an entity gains a second @key (Robot by serial)',
    edits: {
      fleet: [
        replaceAll(
          'type Robot @key(fields: "id")',
          'type Robot @key(fields: "id") @key(fields: "serial")',
        ),
      ],
    },
    expected: [{ type: 'FEDERATION_KEY_ADDED', coordinate: 'Robot', criticality: 'safe' }],
    exitCode: 0,
  },
  {
    description: 'a field moves between subgraphs (Organization.name from users to fleet)',
    edits: {
      users: [removeMember('Organization', 'name')],
      fleet: [addTo('Organization', '  name: String!')],
    },
    expected: [
      { type: 'FEDERATION_FIELD_MOVED', coordinate: 'Organization.name', criticality: 'dangerous' },
    ],
    exitCode: 0,
  },
  {
    description: 'a value is added to an enum an operation reads (RobotStatus.DOCKED)',
    edits: { fleet: [addTo('RobotStatus', '  DOCKED')] },
    expected: [
      {
        type: 'ENUM_VALUE_ADDED',
        coordinate: 'RobotStatus.DOCKED',
        criticality: 'dangerous',
        usedBy: ['FleetDashboard'],
      },
    ],
    exitCode: 0,
  },
  {
    description: 'an optional argument is added (Query.robot(includeRetired: Boolean))',
    edits: {
      fleet: [replaceIn('Query', /robot\(id: ID!\)/, 'robot(id: ID!, includeRetired: Boolean)')],
    },
    // graphql-inspector counts a new optional argument as dangerous (it may change results).
    expected: [
      {
        type: 'FIELD_ARGUMENT_ADDED',
        coordinate: 'Query.robot.includeRetired',
        criticality: 'dangerous',
      },
    ],
    exitCode: 0,
  },
  {
    description: "an argument's default changes (Robot.missions(first: Int = 50))",
    edits: { fleet: [replaceIn('Robot', /missions\(first: Int = 20/, 'missions(first: Int = 50')] },
    expected: [
      {
        type: 'FIELD_ARGUMENT_DEFAULT_CHANGED',
        coordinate: 'Robot.missions.first',
        criticality: 'dangerous',
        usedBy: [],
      },
    ],
    exitCode: 0,
  },
  {
    description: 'a type and a nullable field returning it are added (Robot.dock: Dock)',
    edits: {
      fleet: [
        addTo('Robot', '  "Where the robot charges; null when unassigned."\n  dock: Dock'),
        append('"A charging dock."\ntype Dock {\n  id: ID!\n  name: String\n}'),
      ],
    },
    expected: [
      { type: 'TYPE_ADDED', coordinate: 'Dock', criticality: 'safe' },
      { type: 'FIELD_ADDED', coordinate: 'Robot.dock', criticality: 'safe', usedBy: [] },
    ],
    exitCode: 0,
  },
  {
    description: 'a shared field has different types in two subgraphs (PageInfo.endCursor)',
    edits: { sessions: [replaceIn('PageInfo', /endCursor: String/, 'endCursor: Int')] },
    expected: [],
    exitCode: 2,
    compositionError: { code: 'FIELD_TYPE_MISMATCH', subgraphs: ['fleet', 'sessions', 'users'] },
  },
  {
    description: 'a second subgraph defines a field that is not @shareable (User.email in fleet)',
    edits: { fleet: [addTo('User', '  email: String!')] },
    expected: [],
    exitCode: 2,
    compositionError: { code: 'INVALID_FIELD_SHARING', subgraphs: ['fleet', 'users'] },
  },
];

describe('schema check fixtures against the committed supergraph', () => {
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'fg-schema-check-'));
    emptyApprovals = join(workDir, 'no-approvals.json');
    writeFileSync(emptyApprovals, '[]\n');
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('when no subgraph changes, then the check passes with no changes (the committed supergraph is current)', async () => {
    const result = await check({});
    assert.deepEqual(result.compositionErrors, []);
    assert.deepEqual(
      result.changes.map((c) => `${c.type} ${c.coordinate}`),
      [],
      'schema/supergraph.graphql differs from the subgraphs: run npm run schema:compose',
    );
    assert.equal(result.exitCode, 0);
    assert.ok(result.operationCount >= 1, 'the registered operations are loaded');
  });

  for (const fixture of FIXTURES) {
    const kinds =
      fixture.expected.map((e) => `${e.criticality} ${e.type}`).join(', ') ||
      `composition error ${fixture.compositionError?.code} naming ${fixture.compositionError?.subgraphs.join(', ')}`;
    it(`when ${fixture.description}, then the check reports ${kinds} and exits ${fixture.exitCode}`, async () => {
      const result = await check(fixture.edits);
      assert.equal(
        result.exitCode,
        fixture.exitCode,
        `exit code; failures:\n${result.failures.join('\n')}`,
      );
      assert.equal(result.ok, fixture.exitCode === 0);
      if (fixture.compositionError) {
        const { code, subgraphs } = fixture.compositionError;
        const error = result.compositionErrors.find((e) => e.code === code);
        assert.ok(error, result.compositionErrors.map((e) => e.text).join('\n'));
        assert.deepEqual([...new Set(error.locations.map((l) => l.subgraph))].sort(), subgraphs);
        for (const subgraph of subgraphs)
          assert.match(error.text, new RegExp(`\\b${subgraph} \\S+:\\d+:\\d+`));
      }
      for (const expected of fixture.expected) {
        const change = findChange(result, expected.type, expected.coordinate);
        assert.equal(
          change.criticality,
          expected.criticality,
          `${expected.coordinate} criticality`,
        );
        if (expected.usedBy) assert.deepEqual(change.usedBy, expected.usedBy);
      }
      assert.deepEqual(
        result.brokenOperations.map((o) => o.name),
        (fixture.broken ?? []).map((b) => b.name),
        'operations that stopped validating',
      );
      for (const broken of fixture.broken ?? []) {
        const operation = result.brokenOperations.find((o) => o.name === broken.name)!;
        assert.ok(
          operation.errors.some((e) => e.message.includes(broken.error)),
          `${broken.name} fails with "${broken.error}"; got ${JSON.stringify(operation.errors)}`,
        );
      }
      const usedBreaking = result.changes.filter(
        (c) => c.criticality === 'breaking' && c.usedBy.length > 0,
      );
      if (fixture.exitCode === 0) {
        assert.deepEqual(usedBreaking, [], 'no breaking change is used by an operation');
        for (const change of result.changes.filter((c) => c.criticality === 'breaking')) {
          assert.ok(
            result.warnings.some((w) => w.includes(change.coordinate)),
            `an unused breaking change (${change.coordinate}) is a warning`,
          );
        }
      }
    });
  }
});

describe('composition errors', () => {
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'fg-schema-check-'));
    emptyApprovals = join(workDir, 'no-approvals.json');
    writeFileSync(emptyApprovals, '[]\n');
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('when a shared field has different types in two subgraphs, then the check exits 2 naming both subgraphs with file:line:column', async () => {
    const result = await check({
      sessions: [replaceIn('PageInfo', /endCursor: String/, 'endCursor: Int')],
    });
    assert.equal(result.exitCode, 2);
    assert.deepEqual(result.changes, []);
    const error = result.compositionErrors.find((e) => e.code === 'FIELD_TYPE_MISMATCH');
    assert.ok(error, result.compositionErrors.map((e) => e.text).join('\n'));
    assert.match(error.message, /PageInfo\.endCursor/);
    const sessions = error.locations.find((l) => l.subgraph === 'sessions');
    assert.ok(sessions, JSON.stringify(error.locations));
    assert.ok(sessions.file?.endsWith('sessions.graphql'), JSON.stringify(sessions));
    assert.ok((sessions.line ?? 0) > 1 && sessions.column === 3, JSON.stringify(sessions));
    assert.match(error.text, /sessions \S*sessions\.graphql:\d+:3/);
    assert.match(formatText(result), /Composition errors \(1\):\n {2}✖ FIELD_TYPE_MISMATCH/);
  });

  it('when a non-shareable field is defined in two subgraphs, then the check exits 2 with INVALID_FIELD_SHARING naming both', async () => {
    const result = await check({ fleet: [addTo('User', '  email: String!')] });
    assert.equal(result.exitCode, 2);
    const error = result.compositionErrors.find((e) => e.code === 'INVALID_FIELD_SHARING');
    assert.ok(error, result.compositionErrors.map((e) => e.text).join('\n'));
    assert.deepEqual(error.locations.map((l) => l.subgraph).sort(), ['fleet', 'users']);
    assert.ok(error.locations.every((l) => l.line !== undefined && l.file !== undefined));
  });

  it('when a subgraph does not parse, then the check exits 2 pointing at the line', async () => {
    const result = await check({
      fleet: [replaceIn('Robot', /serial: String!/, 'serial: String!!')],
    });
    assert.equal(result.exitCode, 2);
    const [error] = result.compositionErrors;
    assert.equal(error?.code, 'INVALID_GRAPHQL');
    assert.match(error.text, /Syntax Error/);
    assert.match(error.text, /fleet \S*fleet\.graphql:\d+:\d+/);
  });

  it('when composing subgraphs that conflict, then composeSchemaFiles reports them and writes nothing', async () => {
    const subgraphsDir = join(workDir, 'conflict');
    mkdirSync(subgraphsDir);
    for (const name of SUBGRAPH_NAMES) {
      const sdl =
        name === 'sessions'
          ? replaceIn('PageInfo', /endCursor: String/, 'endCursor: Int')(realSdl(name))
          : realSdl(name);
      writeFileSync(join(subgraphsDir, `${name}.graphql`), sdl);
    }
    const supergraphFile = pathToFileURL(join(workDir, 'supergraph.graphql'));
    const apiSchemaFile = pathToFileURL(join(workDir, 'api-schema.graphql'));
    const result = await composeSchemaFiles({
      subgraphsDir: pathToFileURL(`${subgraphsDir}/`),
      supergraphFile,
      apiSchemaFile,
    });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.errors.some((e) => /^FIELD_TYPE_MISMATCH: .*sessions/.test(e)));
    assert.throws(() => readFileSync(supergraphFile), /ENOENT/);
    assert.throws(() => readFileSync(apiSchemaFile), /ENOENT/);
  });
});

describe('policy: approvals, operations, baselines', () => {
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'fg-schema-check-'));
    emptyApprovals = join(workDir, 'no-approvals.json');
    writeFileSync(emptyApprovals, '[]\n');
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  const removeBattery: Edits = { fleet: [removeMember('Robot', 'batteryPercent')] };

  it('when a breaking change a registered operation uses is in the approvals file, then the check passes and lists the approval', async () => {
    const approvals = join(workDir, 'approved-changes.json');
    writeFileSync(
      approvals,
      JSON.stringify([
        {
          coordinate: 'Robot.batteryPercent',
          reason: 'fleet-console reads telemetry instead (FC-123)',
          approvedBy: 'fleet-console team',
        },
      ]),
    );
    const result = await check(removeBattery, { approvalsFile: approvals });
    assert.equal(result.exitCode, 0, result.failures.join('\n'));
    assert.equal(findChange(result, 'FIELD_REMOVED', 'Robot.batteryPercent').approved, true);
    assert.deepEqual(
      result.brokenOperations.map((o) => [o.name, o.approved]),
      [['FleetDashboard', true]],
    );
    assert.deepEqual(result.approved, [
      {
        coordinate: 'Robot.batteryPercent',
        reason: 'fleet-console reads telemetry instead (FC-123)',
        approvedBy: 'fleet-console team',
        source: result.approved[0]?.source,
        matches: ['FIELD_REMOVED Robot.batteryPercent'],
      },
    ]);
    assert.ok(result.approved[0]?.source.endsWith('approved-changes.json'));
  });

  it('when the same change is approved with --approve, then the check passes', async () => {
    const result = await check(removeBattery, { approve: ['Robot.batteryPercent'] });
    assert.equal(result.exitCode, 0, result.failures.join('\n'));
    assert.equal(result.approved[0]?.source, '--approve');
  });

  it('when an approval names another change type than the one made, then the check still fails', async () => {
    const approvals = join(workDir, 'typed-approval.json');
    writeFileSync(
      approvals,
      JSON.stringify([
        {
          coordinate: 'Robot.batteryPercent',
          type: 'FIELD_TYPE_CHANGED',
          reason: 'r',
          approvedBy: 'a',
        },
      ]),
    );
    const result = await check(removeBattery, { approvalsFile: approvals });
    assert.equal(result.exitCode, 1);
    assert.match(
      result.warnings.join('\n'),
      /approval of Robot\.batteryPercent .* matches no change/,
    );
  });

  it('when an approvals file is malformed, then the check throws a usage error', async () => {
    const approvals = join(workDir, 'bad-approvals.json');
    writeFileSync(approvals, JSON.stringify([{ coordinate: 'Robot.batteryPercent' }]));
    await assert.rejects(check(removeBattery, { approvalsFile: approvals }), (error: Error) => {
      assert.ok(error instanceof SchemaCheckUsageError);
      assert.match(error.message, /reason/);
      return true;
    });
  });

  it('when both a base ref and a base file are given, then the check throws a usage error', async () => {
    await assert.rejects(
      runSchemaCheck({ baseFile: BASELINE, baseRef: 'main' }),
      SchemaCheckUsageError,
    );
  });

  it('when the base ref does not exist, then the check falls back to the committed supergraph with a warning', async () => {
    const result = await runSchemaCheck({
      baseRef: 'no-such-branch-for-schema-check',
      approvalsFile: emptyApprovals,
    });
    assert.match(
      result.warnings.join('\n'),
      /git ref 'no-such-branch-for-schema-check' does not exist/,
    );
    assert.match(result.baseline, /schema\/supergraph\.graphql$/);
    assert.equal(result.compositionErrors.length, 0);
  });

  it('when a new operation uses a field added in the same change, then it is accepted; when one selects an unknown field, then the check fails', async () => {
    const operations = join(workDir, 'operations');
    mkdirSync(join(operations, 'fleet-console'), { recursive: true });
    mkdirSync(join(operations, 'robot-app'), { recursive: true });
    writeFileSync(
      join(operations, 'fleet-console', 'FleetDashboard.graphql'),
      readFileSync(join(ROOT, 'schema/operations/fleet-console/FleetDashboard.graphql')),
    );
    writeFileSync(
      join(operations, 'robot-app', 'RobotDock.graphql'),
      'query RobotDock($id: ID!) { robot(id: $id) { id dock { name } } }\n',
    );
    const addDock: Edits = {
      fleet: [addTo('Robot', '  dock: Dock'), append('type Dock {\n  id: ID!\n  name: String\n}')],
    };
    const accepted = await check(addDock, { operationsDir: operations });
    assert.equal(accepted.exitCode, 0, accepted.failures.join('\n'));
    assert.deepEqual(findChange(accepted, 'FIELD_ADDED', 'Robot.dock').usedBy, ['RobotDock']);

    writeFileSync(
      join(operations, 'robot-app', 'RobotDock.graphql'),
      'query RobotDock($id: ID!) { robot(id: $id) { id dock { address } } }\n',
    );
    const rejected = await check(addDock, { operationsDir: operations });
    assert.equal(rejected.exitCode, 1);
    assert.deepEqual(
      rejected.invalidOperations.map((o) => [o.name, o.errors[0]?.message]),
      [['RobotDock', 'Cannot query field "address" on type "Dock".']],
    );
    assert.match(
      rejected.invalidOperations[0]?.errors[0]?.location ?? '',
      /RobotDock\.graphql:1:\d+$/,
    );
  });
});

describe('report formats', () => {
  let failing: SchemaCheckResult;
  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'fg-schema-check-'));
    emptyApprovals = join(workDir, 'no-approvals.json');
    writeFileSync(emptyApprovals, '[]\n');
    failing = await check({
      fleet: [removeMember('Robot', 'batteryPercent'), addTo('RobotStatus', '  DOCKED')],
      sessions: [removeMember('Session', 'client')],
    });
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('when the report is markdown, then it has a summary line, change tables and the affected operations', () => {
    const markdown = formatMarkdown(failing);
    assert.match(markdown, /^<!-- fleetgraph-schema-check -->\n## Schema check ❌ failed\n/);
    assert.match(
      markdown,
      /\*\*2 breaking changes \(1 used by registered operations\), 1 dangerous, \d+ safe; 1 broken operation\*\*/,
    );
    assert.match(
      markdown,
      /\| ❌ used \| `Robot\.batteryPercent` \| FIELD_REMOVED \| Field 'batteryPercent' was removed from object type 'Robot' \| FleetDashboard \|/,
    );
    assert.match(markdown, /\| ⚠️ unused \| `Session\.client` \| FIELD_REMOVED \|/);
    assert.match(
      markdown,
      /### Dangerous changes[\s\S]*\| `RobotStatus\.DOCKED` \| ENUM_VALUE_ADDED \|/,
    );
    assert.match(
      markdown,
      /### Affected operations[\s\S]*\| FleetDashboard \| `[^`]*FleetDashboard\.graphql` \| ❌ broken \| Cannot query field "batteryPercent" on type "Robot"\./,
    );
  });

  it('when the report is JSON, then it has the stable shape with each change, its users and the broken operations', () => {
    const json = JSON.parse(formatJson(failing)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).slice(0, 6), [
      'ok',
      'exitCode',
      'compositionErrors',
      'changes',
      'brokenOperations',
      'invalidOperations',
    ]);
    assert.equal(json['ok'], false);
    assert.equal(json['exitCode'], 1);
    const changes = json['changes'] as Record<string, unknown>[];
    assert.deepEqual(
      changes.find((c) => c['coordinate'] === 'Robot.batteryPercent'),
      {
        criticality: 'breaking',
        type: 'FIELD_REMOVED',
        message: "Field 'batteryPercent' was removed from object type 'Robot'",
        coordinate: 'Robot.batteryPercent',
        usedBy: ['FleetDashboard'],
        approved: false,
        source: 'api',
      },
    );
    assert.deepEqual(changes.find((c) => c['coordinate'] === 'Session.client')?.['usedBy'], []);
    const [broken] = json['brokenOperations'] as Record<string, unknown>[];
    assert.equal(broken?.['name'], 'FleetDashboard');
    assert.match(
      String(broken?.['file']),
      /schema\/operations\/fleet-console\/FleetDashboard\.graphql$/,
    );
    assert.deepEqual(
      (broken?.['errors'] as { message: string }[]).map((e) => e.message),
      ['Cannot query field "batteryPercent" on type "Robot".'],
    );
    assert.deepEqual(json['approved'], []);
  });

  it('when the report is text, then breaking changes say whether they fail and why', () => {
    const text = formatText(failing);
    assert.match(text, /^Schema check FAILED \(exit 1\): 2 breaking changes/);
    assert.match(
      text,
      /✖ Robot\.batteryPercent {2}FIELD_REMOVED: .*\n {6}used by: FleetDashboard\n {6}FAILS/,
    );
    assert.match(
      text,
      /✖ Session\.client {2}FIELD_REMOVED: .*\n {6}allowed: no registered operation uses it/,
    );
  });

  it('when the CLI is called with --format json --output, then it writes the report and exits with the check result', async () => {
    const output = join(workDir, 'report.json');
    const fleet = editedSubgraphs({ fleet: [removeMember('Robot', 'batteryPercent')] })['fleet']!;
    const exitCode = await runCli([
      '--base-file',
      BASELINE,
      '--approvals',
      emptyApprovals,
      '--subgraph',
      `fleet=${fleet}`,
      '--format',
      'json',
      '--output',
      output,
    ]);
    assert.equal(exitCode, 1);
    const json = JSON.parse(readFileSync(output, 'utf8')) as {
      exitCode: number;
      changes: unknown[];
    };
    assert.equal(json.exitCode, 1);
    assert.ok(json.changes.length > 0);
  });

  it('when the CLI gets an unknown flag, then it exits 64', async () => {
    assert.equal(await runCli(['--no-such-flag']), 64);
    assert.equal(await runCli(['--format', 'yaml']), 64);
  });
});

async function runCli(args: readonly string[]): Promise<number> {
  try {
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/schema-check.ts'), ...args],
      { cwd: ROOT },
    );
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe('generated files', () => {
  it('when compose runs on the unchanged tree, then schema/supergraph.graphql and schema/api-schema.graphql stay byte-identical', async () => {
    const files = [SUPERGRAPH_FILE, API_SCHEMA_FILE];
    const before = files.map((file) => readFileSync(file));
    try {
      const result = await composeSchemaFiles();
      assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
      assert.deepEqual(
        result.files.map((f) => f.written),
        [false, false],
        'compose rewrote a generated file: run npm run schema:compose and commit the result',
      );
      files.forEach((file, i) => assert.ok(readFileSync(file).equals(before[i]!)));
    } finally {
      // A stale tree must fail the test, not be left modified by it.
      files.forEach((file, i) => writeFileSync(file, before[i]!));
    }
  });

  it('when the operation types are regenerated, then they equal the committed file and define FleetDashboardQuery', async () => {
    const committed = readFileSync(GENERATED_OPERATIONS_FILE, 'utf8');
    assert.match(committed, /^export type FleetDashboardQuery = \{$/m);
    assert.match(committed, /^export type FleetDashboardQueryVariables = Exact<\{$/m);
    assert.equal(
      await generateOperationTypes(),
      committed,
      'schema/operations/generated/operations.ts is stale: run npm run schema:codegen',
    );
  });
});
