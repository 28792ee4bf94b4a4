/**
 * One Redis read shared by every caller that asked for it before it was sent
 * (TagVersions.heardAllPurges, docs/caching.md "Why it is never stale", step 4).
 *
 * The purge barrier's rule is that its read leaves after the caller's request arrived: then
 * every purge made before the request is in the answer. A caller that asks while a read is
 * still waiting to be sent may take that read's answer; one that asks after the read left may
 * not (the read may predate its request) and gets the next read. The read leaves on
 * `setImmediate`, so the callers of one turn of the event loop share it: the parallel `_entities`
 * fetches of one dashboard (users and sessions: two reads a request before), and the lookups of
 * other requests handled in the same turn. Written here rather than with ioredis's
 * auto-pipelining, which batches commands into fewer writes but still sends each one, and whose
 * Redis Cluster mode has had slot-grouping bugs with scripts (redis/ioredis#2109).
 */
export class SharedRoundTrip<T> {
  /** The read not sent yet, which a caller may still join. */
  private waiting: Promise<T | undefined> | undefined;

  constructor(private readonly read: () => Promise<T>) {}

  /** The answer of a read sent after this call; undefined when that read failed. */
  ask(): Promise<T | undefined> {
    this.waiting ??= new Promise((resolve) => {
      setImmediate(() => {
        // Gone before the read is sent: a caller from now on waits for the next one.
        this.waiting = undefined;
        this.read().then(resolve, () => resolve(undefined));
      });
    });
    return this.waiting;
  }
}
