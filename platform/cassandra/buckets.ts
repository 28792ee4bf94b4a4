/**
 * Partition buckets for wide access patterns (robots per fleet, users per organization).
 *
 * @remarks
 * A bucket is derived from the row's own uuid, so writers (repositories, the seed loader)
 * and readers agree without a lookup, and a fleet's rows spread evenly over
 * {@link BUCKET_COUNT} partitions. Pages walk buckets 0..N-1 in order (see pagination.ts).
 */
export const BUCKET_COUNT = 16;

/** Every bucket, in the order pages walk them. */
export const ALL_BUCKETS: readonly number[] = Array.from({ length: BUCKET_COUNT }, (_, i) => i);

export function bucketOf(id: string): number {
  return Number.parseInt(id.slice(0, 2), 16) % BUCKET_COUNT;
}

/** The UTC calendar day of a timestamp, as the `date` column of a day-bucketed table. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
