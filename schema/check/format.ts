/**
 * The check's reports: `text` for terminals and CI logs, `markdown` for a pull-request comment,
 * `json` for machines (a stable shape: keys in a fixed order, arrays sorted by the check).
 */
import type { ChangeReport, Criticality, OperationReport, SchemaCheckResult } from './index.js';

export type ReportFormat = 'text' | 'markdown' | 'json';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'markdown', 'json'];

/** Lets a CI step find and update its own pull-request comment. */
export const MARKDOWN_MARKER = '<!-- fleetgraph-schema-check -->';

export function formatReport(result: SchemaCheckResult, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return formatJson(result);
    case 'markdown':
      return formatMarkdown(result);
    default:
      return formatText(result);
  }
}

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const byCriticality = (result: SchemaCheckResult, criticality: Criticality) =>
  result.changes.filter((change) => change.criticality === criticality);

/** "2 breaking changes (1 used by registered operations), 1 dangerous, 3 safe; 1 broken operation" */
export function summaryLine(result: SchemaCheckResult): string {
  if (result.compositionErrors.length > 0) {
    return `${count(result.compositionErrors.length, 'composition error')}: the subgraphs do not compose`;
  }
  const breaking = byCriticality(result, 'breaking');
  const used = breaking.filter((c) => c.usedBy.length > 0);
  const approved = breaking.filter((c) => c.approved);
  const details = [
    used.length > 0 ? `${used.length} used by registered operations` : '',
    approved.length > 0 ? `${approved.length} approved` : '',
  ].filter(Boolean);
  const operations = [
    result.brokenOperations.length > 0
      ? count(result.brokenOperations.length, 'broken operation')
      : '',
    result.invalidOperations.length > 0
      ? count(result.invalidOperations.length, 'invalid operation')
      : '',
  ].filter(Boolean);
  return (
    `${count(breaking.length, 'breaking change')}${details.length ? ` (${details.join(', ')})` : ''}, ` +
    `${byCriticality(result, 'dangerous').length} dangerous, ${byCriticality(result, 'safe').length} safe` +
    (operations.length ? `; ${operations.join(', ')}` : '')
  );
}

// ---------------------------------------------------------------------------------------- text

const MARK: Record<Criticality, string> = { breaking: '✖', dangerous: '⚠', safe: '✔' };

export function formatText(result: SchemaCheckResult): string {
  const lines: string[] = [];
  lines.push(
    `Schema check ${result.ok ? 'passed' : 'FAILED'} (exit ${result.exitCode}): ${summaryLine(result)}`,
  );
  lines.push(`  baseline:   ${result.baseline}`);
  lines.push(`  proposal:   ${result.subgraphs.map((s) => `${s.name} (${s.file})`).join(', ')}`);
  if (result.compositionErrors.length === 0) {
    lines.push(`  operations: ${result.operationCount} registered`);
  }
  if (result.compositionErrors.length > 0) {
    lines.push('', `Composition errors (${result.compositionErrors.length}):`);
    for (const error of result.compositionErrors) lines.push(`  ✖ ${error.text}`);
  }
  for (const criticality of ['breaking', 'dangerous', 'safe'] as const) {
    const changes = byCriticality(result, criticality);
    if (changes.length === 0) continue;
    lines.push('', `${capitalize(criticality)} changes (${changes.length}):`);
    for (const change of changes) {
      lines.push(`  ${MARK[criticality]} ${change.coordinate}  ${change.type}: ${change.message}`);
      if (change.usedBy.length > 0) lines.push(`      used by: ${change.usedBy.join(', ')}`);
      if (criticality === 'breaking') lines.push(`      ${breakingStatus(change)}`);
    }
  }
  for (const [title, operations] of [
    [
      'Broken operations (valid against the baseline, not against the proposal)',
      result.brokenOperations,
    ],
    ['Invalid operations (valid against neither schema)', result.invalidOperations],
  ] as const) {
    if (operations.length === 0) continue;
    lines.push('', `${title} (${operations.length}):`);
    for (const operation of operations) {
      lines.push(
        `  ✖ ${operation.name} (${operation.file})${operation.approved ? ' — approved' : ''}`,
      );
      for (const error of operation.errors) {
        lines.push(`      ${error.message}${error.location ? ` at ${error.location}` : ''}`);
      }
      if (operation.usesBreakingChanges.length > 0)
        lines.push(`      uses breaking changes: ${operation.usesBreakingChanges.join(', ')}`);
    }
  }
  if (result.approved.length > 0) {
    lines.push('', `Approved (${result.approved.length}):`);
    for (const approval of result.approved) {
      lines.push(
        `  ✔ ${approval.coordinate} by ${approval.approvedBy} (${approval.source}): ${approval.reason}`,
      );
    }
  }
  if (result.warnings.length > 0) {
    lines.push('', `Warnings (${result.warnings.length}):`);
    for (const warning of result.warnings) lines.push(`  ⚠ ${warning}`);
  }
  if (result.failures.length > 0) {
    lines.push('', `Failed because (${result.failures.length}):`);
    for (const failure of result.failures) lines.push(`  ✖ ${failure}`);
  }
  return `${lines.join('\n')}\n`;
}

function breakingStatus(change: ChangeReport): string {
  if (change.approved) return 'approved';
  if (change.usedBy.length === 0) return 'allowed: no registered operation uses it';
  return 'FAILS: used by a registered operation and not approved';
}

const capitalize = (word: string) => `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`;

// ------------------------------------------------------------------------------------ markdown

export function formatMarkdown(result: SchemaCheckResult): string {
  const lines: string[] = [MARKDOWN_MARKER];
  lines.push(
    `## Schema check ${result.ok ? '✅ passed' : '❌ failed'}`,
    '',
    `**${escapeCell(summaryLine(result))}** — compared with \`${result.baseline}\` (exit ${result.exitCode})`,
  );
  if (result.compositionErrors.length > 0) {
    lines.push('', '### Composition errors', '', '| code | error | where |', '| --- | --- | --- |');
    for (const error of result.compositionErrors) {
      const where = error.locations
        .map((l) =>
          l.file && l.line ? `${l.subgraph} \`${l.file}:${l.line}:${l.column ?? 1}\`` : l.subgraph,
        )
        .join('<br>');
      lines.push(`| \`${error.code}\` | ${escapeCell(error.message)} | ${where || '—'} |`);
    }
  }
  const breaking = byCriticality(result, 'breaking');
  if (breaking.length > 0) {
    lines.push(
      '',
      '### Breaking changes',
      '',
      '| status | coordinate | change | message | used by |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const change of breaking) {
      const status = change.approved
        ? '✅ approved'
        : change.usedBy.length > 0
          ? '❌ used'
          : '⚠️ unused';
      lines.push(
        `| ${status} | \`${change.coordinate}\` | ${change.type} | ${escapeCell(change.message)} | ${usedBy(change)} |`,
      );
    }
  }
  for (const [criticality, title] of [
    ['dangerous', 'Dangerous changes'],
    ['safe', 'Safe changes'],
  ] as const) {
    const changes = byCriticality(result, criticality);
    if (changes.length === 0) continue;
    const table = [
      '| coordinate | change | message | used by |',
      '| --- | --- | --- | --- |',
      ...changes.map(
        (c) => `| \`${c.coordinate}\` | ${c.type} | ${escapeCell(c.message)} | ${usedBy(c)} |`,
      ),
    ];
    // Safe changes can be many (every description edit); folded so the comment stays short.
    if (criticality === 'safe') {
      lines.push(
        '',
        `<details><summary>${title} (${changes.length})</summary>`,
        '',
        ...table,
        '',
        '</details>',
      );
    } else {
      lines.push('', `### ${title}`, '', ...table);
    }
  }
  const affected = [...result.brokenOperations, ...result.invalidOperations];
  const usingBreaking = new Set(breaking.flatMap((c) => c.usedBy));
  if (affected.length > 0 || usingBreaking.size > 0) {
    lines.push(
      '',
      '### Affected operations',
      '',
      '| operation | file | status | errors | breaking changes used |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const operation of affected) {
      lines.push(
        `| ${operation.name} | \`${operation.file}\` | ${operationStatus(result, operation)} | ${operation.errors
          .map((e) => escapeCell(`${e.message}${e.location ? ` (${e.location})` : ''}`))
          .join(
            '<br>',
          )} | ${operation.usesBreakingChanges.map((c) => `\`${c}\``).join(', ') || '—'} |`,
      );
    }
    // Operations that still validate but use a breaking change (e.g. an enum value removed).
    const listed = new Set(affected.map((o) => o.name));
    for (const name of [...usingBreaking].filter((n) => !listed.has(n)).sort()) {
      const coordinates = breaking
        .filter((c) => c.usedBy.includes(name))
        .map((c) => `\`${c.coordinate}\``);
      lines.push(`| ${name} | | still validates | — | ${coordinates.join(', ')} |`);
    }
  }
  if (result.approved.length > 0) {
    lines.push(
      '',
      '### Approved',
      '',
      '| coordinate | approved by | reason |',
      '| --- | --- | --- |',
    );
    for (const approval of result.approved) {
      lines.push(
        `| \`${approval.coordinate}\` | ${escapeCell(approval.approvedBy)} | ${escapeCell(approval.reason)} |`,
      );
    }
  }
  if (result.warnings.length > 0) {
    lines.push('', '### Warnings', '', ...result.warnings.map((w) => `- ${escapeCell(w)}`));
  }
  if (!result.ok && result.compositionErrors.length === 0) {
    lines.push(
      '',
      'To land a breaking change that registered operations use, add it to `schema/approved-changes.json` ' +
        '(`coordinate`, `reason`, `approvedBy`) — see `schema/README.md`.',
    );
  }
  return `${lines.join('\n')}\n`;
}

function operationStatus(result: SchemaCheckResult, operation: OperationReport): string {
  if (result.invalidOperations.includes(operation)) return '❌ invalid';
  return operation.approved ? '✅ broken, approved' : '❌ broken';
}

const usedBy = (change: ChangeReport) => change.usedBy.map(escapeCell).join(', ') || '—';

/** Table cells: no pipes or line breaks; markdown specials that GitHub would render escaped. */
function escapeCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
    .replace(/\r?\n/g, ' ');
}

// ---------------------------------------------------------------------------------------- json

export function formatJson(result: SchemaCheckResult): string {
  const json = {
    ok: result.ok,
    exitCode: result.exitCode,
    compositionErrors: result.compositionErrors.map((e) => ({
      code: e.code,
      message: e.message,
      locations: e.locations,
      text: e.text,
    })),
    changes: result.changes.map((c) => ({
      criticality: c.criticality,
      type: c.type,
      message: c.message,
      coordinate: c.coordinate,
      usedBy: c.usedBy,
      approved: c.approved,
      source: c.source,
    })),
    brokenOperations: result.brokenOperations.map(operationJson),
    invalidOperations: result.invalidOperations.map(operationJson),
    approved: result.approved,
    failures: result.failures,
    warnings: result.warnings,
    baseline: result.baseline,
    subgraphs: result.subgraphs,
    operationCount: result.operationCount,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

function operationJson(operation: OperationReport) {
  return {
    file: operation.file,
    name: operation.name,
    errors: operation.errors,
    usesBreakingChanges: operation.usesBreakingChanges,
    approved: operation.approved,
  };
}
