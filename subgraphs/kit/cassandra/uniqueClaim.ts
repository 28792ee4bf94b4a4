/**
 * A value that at most one owner may hold (a user's email, a robot's serial), claimed in a
 * lookup table keyed by the value.
 *
 * @remarks
 * A lightweight transaction (`INSERT … IF NOT EXISTS`) is the only uniqueness Cassandra can
 * enforce: of two concurrent claims exactly one is applied. The claim is taken before the
 * owner's rows are written, and released (`DELETE … IF <owner> = ?`, so only by its holder) if
 * that write fails, so a rejected mutation leaves nothing behind. Neither statement is
 * idempotent — an LWT sent twice may report its own first application as a conflict — so both
 * run with the driver's default of no retries for writes.
 */
import { conflict } from '../../../platform/contract/errors.js';
import type { Db } from './db.js';

export interface UniqueClaimSpec {
  /** The lookup table, partitioned by the value. */
  readonly table: string;
  /** Its partition key: the unique value. */
  readonly valueColumn: string;
  /** The column naming the holder. */
  readonly ownerColumn: string;
  /** The CONFLICT message when another owner holds `value`. */
  readonly takenMessage: (value: string) => string;
}

export interface UniqueClaim {
  /** Claims `value` for `owner`; CONFLICT when another owner holds it. */
  claim(db: Db, value: string, owner: string): Promise<void>;
  /** Gives `value` up, if `owner` holds it. */
  release(db: Db, value: string, owner: string): Promise<void>;
  /** Claims `value`, then runs `write`; if `write` fails, releases the claim and rethrows. */
  claimFor<R>(db: Db, value: string, owner: string, write: () => Promise<R>): Promise<R>;
}

export function uniqueClaim(spec: UniqueClaimSpec): UniqueClaim {
  const { table, valueColumn, ownerColumn } = spec;
  const insert = `INSERT INTO ${table} (${valueColumn}, ${ownerColumn}) VALUES (?, ?) IF NOT EXISTS`;
  const remove = `DELETE FROM ${table} WHERE ${valueColumn} = ? IF ${ownerColumn} = ?`;
  const self: UniqueClaim = {
    async claim(db, value, owner) {
      const result = await db.execute(insert, [value, owner], { write: true });
      if (!result.wasApplied()) throw conflict(spec.takenMessage(value));
    },
    async release(db, value, owner) {
      await db.execute(remove, [value, owner], { write: true });
    },
    async claimFor(db, value, owner, write) {
      await self.claim(db, value, owner);
      try {
        return await write();
      } catch (error) {
        await self.release(db, value, owner);
        throw error;
      }
    },
  };
  return self;
}
