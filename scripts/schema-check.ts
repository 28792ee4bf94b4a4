/**
 * `npm run schema:check -- [options]`: the schema registry check (schema/check/), offline.
 * Exit codes: 0 passed (warnings allowed), 1 a breaking change that a registered operation uses
 * (or a broken operation) and no approval, 2 composition errors, 64 usage errors.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  formatReport,
  formatText,
  REPORT_FORMATS,
  type ReportFormat,
} from '../schema/check/format.js';
import { runSchemaCheck, SchemaCheckUsageError } from '../schema/check/index.js';

const EX_USAGE = 64;

const USAGE = `Usage: npm run schema:check -- [options]

Composes schema/subgraphs/*.graphql and compares the proposal with a baseline supergraph.

  --base-ref <ref>          baseline: schema/supergraph.graphql at this git ref (default: main;
                            a missing ref falls back to HEAD with a warning)
  --base-file <path>        baseline: this supergraph file instead of a git ref
  --subgraph <name>=<path>  use this SDL for a subgraph (repeatable; a new name adds a subgraph)
  --operations <dir>        registered operations (default: schema/operations)
  --approvals <file>        approvals file (default: schema/approved-changes.json)
  --approve <coordinate>    approve a breaking change, e.g. Robot.batteryPercent (repeatable);
                            operation:<Name> approves a broken operation
  --format text|markdown|json   report format (default: text)
  --output <file>           write the report to a file (a text report still goes to stdout)
  -h, --help                this help

Exit codes: 0 passed, 1 breaking change used by a registered operation (not approved),
2 composition errors, 64 usage error. See schema/README.md.`;

function usageError(message: string): never {
  console.error(`schema:check: ${message}\n\n${USAGE}`);
  process.exit(EX_USAGE);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      'base-ref': { type: 'string' },
      'base-file': { type: 'string' },
      subgraph: { type: 'string', multiple: true },
      operations: { type: 'string' },
      approvals: { type: 'string' },
      approve: { type: 'string', multiple: true },
      format: { type: 'string', default: 'text' },
      output: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
    strict: true,
  }));
} catch (error) {
  usageError((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const format = values.format as ReportFormat;
if (!REPORT_FORMATS.includes(format)) {
  usageError(`--format must be one of ${REPORT_FORMATS.join(', ')} (got "${values.format}")`);
}
const subgraphs: Record<string, string> = {};
for (const entry of values.subgraph ?? []) {
  const match = /^([^=]+)=(.+)$/.exec(entry);
  if (!match) usageError(`--subgraph takes <name>=<path> (got "${entry}")`);
  subgraphs[match[1]!] = match[2]!;
}

try {
  const result = await runSchemaCheck({
    ...(values['base-ref'] !== undefined ? { baseRef: values['base-ref'] } : {}),
    ...(values['base-file'] !== undefined ? { baseFile: values['base-file'] } : {}),
    subgraphs,
    ...(values.operations !== undefined ? { operationsDir: values.operations } : {}),
    ...(values.approvals !== undefined ? { approvalsFile: values.approvals } : {}),
    approve: values.approve ?? [],
  });
  const report = formatReport(result, format);
  if (values.output !== undefined) {
    writeFileSync(values.output, report);
    // The CI log still gets a readable report next to the file meant for a PR comment.
    process.stdout.write(formatText(result));
    console.log(`schema:check: ${format} report written to ${values.output}`);
  } else {
    process.stdout.write(report);
  }
  process.exitCode = result.exitCode;
} catch (error) {
  if (error instanceof SchemaCheckUsageError) usageError(error.message);
  throw error;
}
