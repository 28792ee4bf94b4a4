/**
 * Which tags this instance has dropped from its in-process layer lately, so that a copy checked
 * in Redis a moment ago is not put in the layer after a purge that concerned it was heard:
 * the purge would have had nothing to drop, and the copy would outlive the write.
 */
import type { LocalInvalidation } from './tagVersions.js';

/** Recently invalidated tags remembered; anything older counts as touched. */
const REMEMBERED_TAGS = 50_000;

export class RecentInvalidations {
  private count = 0;
  private lastAll = 0;
  private forgottenUpTo = 0;
  /** tag → the count when it was last invalidated, oldest first. */
  private readonly lastInvalidated = new Map<string, number>();

  /** A mark to pass to {@link untouchedSince} later. */
  get mark(): number {
    return this.count;
  }

  record(what: LocalInvalidation): void {
    const count = ++this.count;
    if (what === 'all') {
      this.lastAll = count;
      this.lastInvalidated.clear();
      return;
    }
    for (const tag of what) {
      this.lastInvalidated.delete(tag);
      this.lastInvalidated.set(tag, count);
    }
    for (const [tag, at] of this.lastInvalidated) {
      if (this.lastInvalidated.size <= REMEMBERED_TAGS) break;
      this.lastInvalidated.delete(tag);
      this.forgottenUpTo = at;
    }
  }

  /** Whether no invalidation since `mark` touched any of `tags`. */
  untouchedSince(mark: number, tags: readonly string[]): boolean {
    if (this.count === mark) return true;
    if (this.lastAll > mark || this.forgottenUpTo > mark) return false;
    return !tags.some((tag) => (this.lastInvalidated.get(tag) ?? 0) > mark);
  }
}
