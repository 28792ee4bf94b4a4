/**
 * The schema registry check (`npm run schema:check`), offline: composes the proposed subgraphs,
 * compares the proposal's API schema with a baseline supergraph's, and decides whether the
 * change may land.
 *
 * - Composition errors: exit 2.
 * - API changes come from @graphql-inspector/core's `diff` (breaking / dangerous / safe);
 *   federation changes it cannot see (@key, fields moving between subgraphs) from the join__
 *   directives of the two supergraphs (./federation.ts).
 * - Each change is traced to the registered operations (schema/operations) that use what it
 *   touches, and every operation is validated against both schemas.
 * - A breaking change that no registered operation uses passes with a warning; one that an
 *   operation uses, or an operation that stops validating, fails (exit 1) unless approved
 *   (schema/approved-changes.json or --approve).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChangeType, CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { isNonNullType, type GraphQLSchema } from 'graphql';
import { buildApiSchema } from '../composition/apiSchema.js';
import {
  composeSupergraph,
  DEFAULT_SUBGRAPH_URLS,
  describeDiagnostic,
  displayPath,
  readSubgraphSources,
  type CompositionDiagnostic,
  type SubgraphSource,
} from '../composition/compose.js';
import { approvesChange, approvesOperation, readApprovals } from './approvals.js';
import { readBaseline } from './baseline.js';
import { SchemaCheckUsageError } from './errors.js';
import { federationChanges, type Criticality } from './federation.js';
import {
  loadOperations,
  usedCoordinates,
  validateOperation,
  type OperationError,
  type RegisteredOperation,
} from './operations.js';
import { APPROVALS_PATH, OPERATIONS_DIR, SUBGRAPHS_DIR } from './paths.js';

export { SchemaCheckUsageError } from './errors.js';
export type { Criticality } from './federation.js';

export interface SchemaCheckOptions {
  /** Compare with schema/supergraph.graphql at this git ref (default `main`). */
  readonly baseRef?: string;
  /** Compare with this supergraph file instead of a git ref. */
  readonly baseFile?: string;
  /** Where the proposed subgraph SDLs are (default schema/subgraphs). */
  readonly subgraphsDir?: string;
  /** Subgraph name → SDL file, replacing (or adding) that subgraph in the proposal. */
  readonly subgraphs?: Readonly<Record<string, string>>;
  /** The registered operations (default schema/operations). */
  readonly operationsDir?: string;
  /** Default schema/approved-changes.json; a missing default file means no approvals. */
  readonly approvalsFile?: string;
  /** Coordinates approved for this run (`--approve`). */
  readonly approve?: readonly string[];
}

export type SchemaCheckExitCode = 0 | 1 | 2;

export interface CompositionErrorReport extends CompositionDiagnostic {
  /** The error on one line, with subgraph and file:line:column. */
  readonly text: string;
}

export interface ChangeReport {
  readonly criticality: Criticality;
  /** graphql-inspector's change type (e.g. FIELD_REMOVED) or FEDERATION_… */
  readonly type: string;
  readonly message: string;
  /** `Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE`, `Input.field`. */
  readonly coordinate: string;
  /** Names of the registered operations that use what the change touches. */
  readonly usedBy: readonly string[];
  readonly approved: boolean;
  /** `api` (graphql-inspector over the API schemas) or `federation` (join__ directives). */
  readonly source: 'api' | 'federation';
}

export interface OperationReport {
  readonly file: string;
  readonly name: string;
  readonly errors: readonly OperationError[];
  /** Coordinates of the breaking changes the operation uses (not all need be why it fails). */
  readonly usesBreakingChanges: readonly string[];
  readonly approved: boolean;
}

export interface ApprovalReport {
  readonly coordinate: string;
  readonly type?: string;
  readonly reason: string;
  readonly approvedBy: string;
  readonly source: string;
  /** What it approved: `TYPE coordinate` of changes, `operation Name` of operations. */
  readonly matches: readonly string[];
}

export interface SchemaCheckResult {
  readonly ok: boolean;
  readonly exitCode: SchemaCheckExitCode;
  readonly compositionErrors: readonly CompositionErrorReport[];
  /** Breaking first, then dangerous, then safe; by coordinate within each. */
  readonly changes: readonly ChangeReport[];
  /** Operations that validated against the baseline and do not against the proposal. */
  readonly brokenOperations: readonly OperationReport[];
  /** Operations that validate against neither (or do not parse): never servable. */
  readonly invalidOperations: readonly OperationReport[];
  readonly approved: readonly ApprovalReport[];
  /** Why the check fails (empty when it passes). */
  readonly failures: readonly string[];
  readonly warnings: readonly string[];
  readonly baseline: string;
  readonly subgraphs: readonly { readonly name: string; readonly file: string }[];
  readonly operationCount: number;
}

const CRITICALITY_ORDER: Record<Criticality, number> = { breaking: 0, dangerous: 1, safe: 2 };

/** Code-unit order, not the locale's: reports must not differ between machines. */
const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Runs the check. Throws SchemaCheckUsageError for a bad invocation (missing files, invalid
 * approvals file); every other outcome, composition errors included, is in the result.
 */
export async function runSchemaCheck(options: SchemaCheckOptions = {}): Promise<SchemaCheckResult> {
  if (options.baseFile !== undefined && options.baseRef !== undefined) {
    throw new SchemaCheckUsageError('--base-ref and --base-file are mutually exclusive');
  }
  const warnings: string[] = [];
  const sources = proposedSources(options, warnings);
  const baseline = readBaseline(options);
  warnings.push(...baseline.warnings);
  const approvalsPath = resolve(options.approvalsFile ?? APPROVALS_PATH);
  const approvals = readApprovals(
    approvalsPath,
    displayPath(approvalsPath),
    options.approvalsFile !== undefined,
    options.approve ?? [],
  );
  const operationsDir = resolve(options.operationsDir ?? OPERATIONS_DIR);
  if (!existsSync(operationsDir) || !statSync(operationsDir).isDirectory()) {
    throw new SchemaCheckUsageError(
      `operations directory ${displayPath(operationsDir)} does not exist`,
    );
  }

  const base = {
    baseline: baseline.source,
    subgraphs: sources.map((s) => ({ name: s.name, file: s.file ?? s.name })),
  };
  const composition = composeSupergraph(sources);
  if (!composition.ok) {
    return compositionFailure(composition.diagnostics, warnings, base);
  }
  let baseApi: GraphQLSchema;
  try {
    baseApi = buildApiSchema(baseline.sdl);
  } catch (error) {
    return compositionFailure(
      [
        {
          code: 'INVALID_BASELINE_SUPERGRAPH',
          message: `the baseline ${baseline.source} is not a valid supergraph: ${(error as Error).message}`,
          locations: [],
        },
      ],
      warnings,
      base,
    );
  }
  const proposedApi = buildApiSchema(composition.supergraphSdl);

  const { operations, unparsable } = loadOperations(operationsDir);
  const usage = new Map<RegisteredOperation, Set<string>>();
  for (const operation of operations) {
    // Against both schemas: removed elements exist only in the baseline, new ones only in the
    // proposal (an operation registered in the same change).
    usage.set(
      operation,
      new Set([
        ...usedCoordinates(baseApi, operation.document),
        ...usedCoordinates(proposedApi, operation.document),
      ]),
    );
  }

  const inspectorChanges = await diff(baseApi, proposedApi);
  const changes: ChangeReport[] = [
    ...inspectorChanges.map((change) => ({
      criticality: criticalityOf(change),
      type: change.type as string,
      message: change.message,
      coordinate: change.path ?? '(schema)',
      usedBy: usersOf(operations, usage, (used) => apiChangeIsUsed(change, used, proposedApi)),
      approved: false,
      source: 'api' as const,
    })),
    ...federationChanges(baseline.sdl, composition.supergraphSdl).map((change) => ({
      ...change,
      usedBy: usersOf(operations, usage, (used) => used.has(change.coordinate)),
      approved: false,
      source: 'federation' as const,
    })),
  ]
    .map((change) => ({ ...change, approved: approvals.some((a) => approvesChange(a, change)) }))
    .sort(
      (a, b) =>
        CRITICALITY_ORDER[a.criticality] - CRITICALITY_ORDER[b.criticality] ||
        compareStrings(a.coordinate, b.coordinate) ||
        compareStrings(a.type, b.type) ||
        compareStrings(a.message, b.message),
    );
  const breaking = changes.filter((change) => change.criticality === 'breaking');

  const brokenOperations: OperationReport[] = [];
  const invalidOperations: OperationReport[] = unparsable.map((file) => ({
    file: file.file,
    name: file.file,
    errors: file.errors,
    usesBreakingChanges: [],
    approved: false,
  }));
  for (const operation of operations) {
    const errors = validateOperation(proposedApi, operation);
    if (errors.length === 0) continue;
    const breakingUsed = breaking.filter((c) => c.usedBy.includes(operation.name));
    const report = {
      file: operation.file,
      name: operation.name,
      errors,
      usesBreakingChanges: [...new Set(breakingUsed.map((c) => c.coordinate))],
      // An operation broken by approved changes only is approved with them; one whose
      // breakage no change explains can still be approved by name (`operation:<Name>`).
      approved:
        approvals.some((a) => approvesOperation(a, operation.name)) ||
        (breakingUsed.length > 0 && breakingUsed.every((c) => c.approved)),
    };
    if (validateOperation(baseApi, operation).length === 0) brokenOperations.push(report);
    else invalidOperations.push({ ...report, approved: false });
  }

  const failures: string[] = [];
  for (const change of breaking) {
    if (change.usedBy.length === 0) {
      warnings.push(
        `breaking change ${change.coordinate} (${change.type}) is used by no registered operation: allowed`,
      );
    } else if (!change.approved) {
      failures.push(
        `breaking change ${change.coordinate} (${change.type}) is used by ${change.usedBy.join(', ')}`,
      );
    }
  }
  for (const operation of brokenOperations.filter((o) => !o.approved)) {
    failures.push(`operation ${operation.name} (${operation.file}) no longer validates`);
  }
  for (const operation of invalidOperations) {
    failures.push(
      `operation ${operation.name} (${operation.file}) does not validate against the proposed schema`,
    );
  }

  const approved = approvals.flatMap((approval): ApprovalReport[] => {
    const matches = [
      ...changes.filter((c) => approvesChange(approval, c)).map((c) => `${c.type} ${c.coordinate}`),
      ...brokenOperations
        .filter((o) => approvesOperation(approval, o.name))
        .map((o) => `operation ${o.name}`),
    ];
    if (matches.length === 0) {
      warnings.push(
        `approval of ${approval.coordinate} (${approval.source}) matches no change: remove it once its change has landed`,
      );
      return [];
    }
    const { coordinate, type, reason, approvedBy, source } = approval;
    return [{ coordinate, ...(type ? { type } : {}), reason, approvedBy, source, matches }];
  });

  const exitCode: SchemaCheckExitCode = failures.length > 0 ? 1 : 0;
  return {
    ok: exitCode === 0,
    exitCode,
    compositionErrors: [],
    changes,
    brokenOperations,
    invalidOperations,
    approved,
    failures,
    warnings,
    ...base,
    operationCount: operations.length,
  };
}

function proposedSources(options: SchemaCheckOptions, warnings: string[]): SubgraphSource[] {
  const directory = resolve(options.subgraphsDir ?? SUBGRAPHS_DIR);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new SchemaCheckUsageError(`subgraphs directory ${displayPath(directory)} does not exist`);
  }
  const sources = readSubgraphSources(pathToFileURL(`${directory}/`));
  for (const [name, file] of Object.entries(options.subgraphs ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
      throw new SchemaCheckUsageError(`--subgraph ${name}=${file}: invalid subgraph name`);
    }
    const path = resolve(file);
    if (!existsSync(path))
      throw new SchemaCheckUsageError(`--subgraph ${name}=${file}: no such file`);
    const override: SubgraphSource = {
      name,
      url: DEFAULT_SUBGRAPH_URLS[name] ?? `http://127.0.0.1/${name}/graphql`,
      sdl: readFileSync(path, 'utf8'),
      file: displayPath(path),
    };
    const index = sources.findIndex((source) => source.name === name);
    if (index >= 0) {
      sources[index] = override;
    } else {
      warnings.push(
        `subgraph '${name}' is not in ${displayPath(directory)}: checked as a new subgraph`,
      );
      sources.push(override);
    }
  }
  return sources;
}

function compositionFailure(
  diagnostics: readonly CompositionDiagnostic[],
  warnings: readonly string[],
  base: Pick<SchemaCheckResult, 'baseline' | 'subgraphs'>,
): SchemaCheckResult {
  const compositionErrors = diagnostics.map((d) => ({ ...d, text: describeDiagnostic(d) }));
  return {
    ok: false,
    exitCode: 2,
    compositionErrors,
    changes: [],
    brokenOperations: [],
    invalidOperations: [],
    approved: [],
    failures: [
      `${compositionErrors.length} composition error(s): the proposal is not a valid supergraph`,
    ],
    warnings,
    ...base,
    operationCount: 0,
  };
}

function criticalityOf(change: Change): Criticality {
  switch (change.criticality.level) {
    case CriticalityLevel.Breaking:
      return 'breaking';
    case CriticalityLevel.Dangerous:
      return 'dangerous';
    default:
      return 'safe';
  }
}

function usersOf(
  operations: readonly RegisteredOperation[],
  usage: ReadonlyMap<RegisteredOperation, ReadonlySet<string>>,
  isUsed: (used: ReadonlySet<string>) => boolean,
): string[] {
  const names = operations.filter((op) => isUsed(usage.get(op) ?? new Set())).map((op) => op.name);
  return [...new Set(names)].sort(compareStrings);
}

/**
 * Whether an operation that uses `used` (see usedCoordinates) is affected by an API change.
 * Mostly "does it use the change's path", plus the cases where an operation is hit by something
 * it does not mention: a new or newly non-null argument of a field it selects (it must now pass
 * it), a changed default of an argument it leaves out, a new or newly required field of an input
 * type it sends, a value added to or removed from an enum it reads or sends.
 */
function apiChangeIsUsed(
  change: Change,
  used: ReadonlySet<string>,
  proposed: GraphQLSchema,
): boolean {
  const path = change.path;
  if (!path || path.startsWith('@')) return false;
  if (used.has(path)) return true;
  const [typeName = '', member = '', argument] = path.split('.');
  const field = `${typeName}.${member}`;
  switch (change.type) {
    case ChangeType.FieldArgumentAdded:
      return used.has(field);
    case ChangeType.FieldArgumentDefaultChanged:
      return used.has(field) && !used.has(path);
    case ChangeType.FieldArgumentTypeChanged:
      return used.has(field) && argumentIsNonNull(proposed, typeName, member, argument ?? '');
    case ChangeType.InputFieldAdded:
      return used.has(typeName);
    case ChangeType.InputFieldTypeChanged:
      return used.has(typeName) && inputFieldIsNonNull(proposed, typeName, member);
    case ChangeType.EnumValueAdded:
    case ChangeType.EnumValueRemoved:
    case ChangeType.EnumValueDeprecationReasonAdded:
    case ChangeType.EnumValueDeprecationReasonChanged:
    case ChangeType.EnumValueDeprecationReasonRemoved:
      return used.has(typeName);
    case ChangeType.ObjectTypeInterfaceRemoved:
      // An operation that reads the interface could receive the object until now.
      return used.has(String(change.meta.removedInterfaceName));
    default:
      return false;
  }
}

function argumentIsNonNull(
  schema: GraphQLSchema,
  typeName: string,
  fieldName: string,
  argumentName: string,
): boolean {
  const type = schema.getType(typeName);
  if (!type || !('getFields' in type)) return false;
  const field = type.getFields()[fieldName];
  const argument =
    field && 'args' in field ? field.args.find((a) => a.name === argumentName) : undefined;
  return argument !== undefined && isNonNullType(argument.type);
}

function inputFieldIsNonNull(schema: GraphQLSchema, typeName: string, fieldName: string): boolean {
  const type = schema.getType(typeName);
  if (!type || !('getFields' in type)) return false;
  const field = type.getFields()[fieldName];
  return field !== undefined && isNonNullType(field.type);
}
