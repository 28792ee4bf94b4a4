/**
 * The types of the versioned tags (tagVersions.ts, docs/caching.md "Why it is never stale"):
 * what a snapshot and an entry's recorded versions hold, and what the local layers are told to
 * drop. Apart so the caches can name them without the class.
 */

/** What the shared state was known to be before an execution read anything. */
export interface VersionSnapshot {
  readonly epoch: string;
  readonly seq: number;
  /** This instance's count of local invalidations at that moment ({@link untouchedSince}). */
  readonly mark: number;
}

/** The versions an entry was computed under. */
export interface RecordedVersions {
  readonly epoch: string;
  readonly tags: readonly string[];
  readonly versions: readonly number[];
}

/** What the local layer must drop: some tags, or everything. */
export type LocalInvalidation = readonly string[] | 'all';
export type InvalidationListener = (what: LocalInvalidation, origin: 'local' | 'channel') => void;
