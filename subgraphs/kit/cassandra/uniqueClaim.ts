/**
 * A value that at most one owner of an organization may hold (a user's email, a robot's
 * serial), claimed in a lookup table keyed by the organization and the value.
 *
 * @remarks
 * A lightweight transaction (`INSERT … IF NOT EXISTS`) is the only uniqueness Cassandra can
 * enforce: of two concurrent claims exactly one is applied. The claim is taken before the
 * owner's rows are written, and released (`DELETE … IF <owner> = ?`, so only by its holder) if
 * that write fails, so a rejected mutation leaves nothing behind. Neither statement is
 * idempotent — an LWT sent twice may report its own first application as a conflict — so both
 * run with the driver's default of no retries for writes.
 *
 * Uniqueness is scoped to the organization, never global (security issue 16): a global claim
 * answers CONFLICT for a value another tenant holds, so an admin could learn whether any
 * organization has a user with an email or a robot with a serial, and could squat values another
 * tenant had yet to claim. Scoped, a claim touches only the caller's organization's partition:
 * another tenant's values change neither the answer, nor its shape, nor the statements run.
 */
import { conflict } from '../../../platform/contract/errors.js';
import type { Db } from './db.js';

export interface UniqueClaimSpec {
  /** The lookup table, partitioned by (organization, value). */
  readonly table: string;
  /** The organization column: the value is unique within it, not across organizations. */
  readonly organizationColumn: string;
  /** The unique value's column. */
  readonly valueColumn: string;
  /** The column naming the holder. */
  readonly ownerColumn: string;
  /** The CONFLICT message when another owner of the same organization holds `value`. */
  readonly takenMessage: (value: string) => string;
}

/** Where a claim lives: a value within one organization. */
export interface ClaimKey {
  readonly organizationId: string;
  readonly value: string;
}

export interface UniqueClaim {
  /** Claims `key` for `owner`; CONFLICT when another owner of the organization holds it. */
  claim(db: Db, key: ClaimKey, owner: string): Promise<void>;
  /** Gives `key` up, if `owner` holds it. */
  release(db: Db, key: ClaimKey, owner: string): Promise<void>;
  /** Claims `key`, then runs `write`; if `write` fails, releases the claim and rethrows. */
  claimFor<R>(db: Db, key: ClaimKey, owner: string, write: () => Promise<R>): Promise<R>;
}

export function uniqueClaim(spec: UniqueClaimSpec): UniqueClaim {
  const { table, organizationColumn, valueColumn, ownerColumn } = spec;
  const insert = `INSERT INTO ${table} (${organizationColumn}, ${valueColumn}, ${ownerColumn}) VALUES (?, ?, ?) IF NOT EXISTS`;
  const remove = `DELETE FROM ${table} WHERE ${organizationColumn} = ? AND ${valueColumn} = ? IF ${ownerColumn} = ?`;
  const self: UniqueClaim = {
    async claim(db, key, owner) {
      const result = await db.execute(insert, [key.organizationId, key.value, owner], {
        write: true,
      });
      if (!result.wasApplied()) throw conflict(spec.takenMessage(key.value));
    },
    async release(db, key, owner) {
      await db.execute(remove, [key.organizationId, key.value, owner], { write: true });
    },
    async claimFor(db, key, owner, write) {
      await self.claim(db, key, owner);
      try {
        return await write();
      } catch (error) {
        await self.release(db, key, owner);
        throw error;
      }
    },
  };
  return self;
}
