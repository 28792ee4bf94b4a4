/** Helpers the fleet repositories share: value mapping, bounded concurrency. */
import cassandra from 'cassandra-driver';

/** The GraphQL enums' values, stored as they are in the `status` text columns. */
export type RobotStatus = 'IDLE' | 'ACTIVE' | 'CHARGING' | 'ERROR' | 'OFFLINE' | 'MAINTENANCE';
export type MissionStatus = 'PENDING' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
/** How a mission may end (completeMission's `outcome`). */
export type MissionOutcome = Extract<MissionStatus, 'COMPLETED' | 'FAILED' | 'CANCELLED'>;

/**
 * A `float` column as the number that was written: the driver widens float32 to float64, so
 * 55.2 would come back as 55.20000076293945. Seven significant digits is float32's precision.
 */
export function fromFloat(value: number | null | undefined): number | null {
  return value == null ? null : Number(value.toPrecision(7));
}

export function fromUuid(value: unknown): string | null {
  return value == null ? null : String(value);
}

/**
 * A missing optional value of a new row: left unset rather than written as null, because a
 * null is a tombstone that every later read of the row has to skip.
 */
export function orUnset<T>(value: T | null | undefined): T | object {
  return value ?? cassandra.types.unset;
}

/** Version-1 UUIDs only: a `timeuuid` column refuses any other version with a server error. */
export function isTimeUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

/**
 * Runs `work` over `items`, at most `limit` at a time. The first failure rejects and stops the
 * workers from starting more items (those already running finish).
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
