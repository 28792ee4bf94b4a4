/**
 * Approved breaking changes: schema/approved-changes.json (reviewed in the pull request that
 * makes the change) and `--approve <coordinate>` flags (for a one-off run). An approval names a
 * change by its coordinate (`Type`, `Type.field`, `Type.field.argument`, `Enum.VALUE`) and
 * optionally by its change type; `operation:<Name>` approves a registered operation breaking.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { SchemaCheckUsageError } from './errors.js';

const approvalsFileSchema = z.array(
  z
    .object({
      coordinate: z.string().min(1),
      reason: z.string().min(1),
      approvedBy: z.string().min(1),
      /** Narrows the approval to one change type, e.g. FIELD_REMOVED. */
      type: z.string().min(1).optional(),
    })
    .strict(),
);

export interface Approval {
  readonly coordinate: string;
  readonly type?: string;
  readonly reason: string;
  readonly approvedBy: string;
  /** The approvals file it came from, or `--approve`. */
  readonly source: string;
}

export const OPERATION_APPROVAL_PREFIX = 'operation:';

/**
 * Reads the approvals file (a missing file is no approvals unless it was asked for explicitly:
 * `required`) and adds one approval per `--approve` flag.
 */
export function readApprovals(
  file: string,
  displayFile: string,
  required: boolean,
  flags: readonly string[],
): Approval[] {
  const approvals: Approval[] = [];
  if (existsSync(file)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new SchemaCheckUsageError(
        `${displayFile} is not valid JSON: ${(error as Error).message}`,
      );
    }
    const parsed = approvalsFileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SchemaCheckUsageError(
        `${displayFile} must be a list of {"coordinate", "reason", "approvedBy"}: ` +
          `${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
      );
    }
    for (const entry of parsed.data) approvals.push({ ...entry, source: displayFile });
  } else if (required) {
    throw new SchemaCheckUsageError(`approvals file ${displayFile} does not exist`);
  }
  for (const coordinate of flags) {
    if (!coordinate.trim()) throw new SchemaCheckUsageError('--approve needs a coordinate');
    approvals.push({
      coordinate: coordinate.trim(),
      reason: 'approved on the command line',
      approvedBy: '--approve',
      source: '--approve',
    });
  }
  return approvals;
}

export function approvesChange(
  approval: Approval,
  change: { readonly coordinate: string; readonly type: string },
): boolean {
  return (
    approval.coordinate === change.coordinate &&
    (approval.type === undefined || approval.type === change.type)
  );
}

export function approvesOperation(approval: Approval, operationName: string): boolean {
  return approval.coordinate === `${OPERATION_APPROVAL_PREFIX}${operationName}`;
}
