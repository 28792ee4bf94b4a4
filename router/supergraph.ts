/**
 * The supergraph the router serves: read from a file (SUPERGRAPH_PATH; any composed supergraph,
 * not only ours) and hot-reloaded when the file changes. No runtime introspection of subgraphs.
 *
 * @remarks
 * Implemented as the gateway's `supergraphSdl` hook: the gateway plans new requests with the
 * new schema once `update` returns, while requests already executing finish on the old one, so
 * a reload drops nothing. An invalid new file is logged and ignored (the old schema stays).
 * The file is polled (fs.watchFile, 500 ms) because editors and `git checkout` replace files,
 * which inotify-based fs.watch loses track of.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '../platform/logger.js';

/** Subgraph name → URL, from the supergraph's `join__Graph` enum. */
export function subgraphUrlsOf(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(
    /@join__graph\(name:\s*"([^"]+)",\s*url:\s*"([^"]*)"\)/g,
  )) {
    urls[match[1]!] = match[2]!;
  }
  return urls;
}

export function supergraphFromFile(
  path: string,
  logger: Logger,
  onLoad: (sdl: string) => void,
): SupergraphSdlHook {
  return async ({ update }) => {
    let current = readFileSync(path, 'utf8');
    onLoad(current);
    const listener = () => {
      let next: string;
      try {
        next = readFileSync(path, 'utf8');
      } catch (error) {
        logger.error(
          { err: error, path },
          'supergraph file unreadable; keeping the current schema',
        );
        return;
      }
      if (next === current) return;
      try {
        update(next);
        current = next;
        onLoad(next);
        logger.info({ path }, 'supergraph reloaded');
      } catch (error) {
        logger.error({ err: error, path }, 'new supergraph rejected; keeping the current schema');
      }
    };
    watchFile(path, { interval: 500 }, listener);
    return { supergraphSdl: current, cleanup: async () => unwatchFile(path, listener) };
  };
}

/** What the router knows of the supergraph it serves now; replaced on each (re)load. */
export interface SupergraphState {
  /** Subgraph name → URL: the supergraph's, overridden by SUBGRAPH_URLS. */
  subgraphUrls: Record<string, string>;
  /** Identifies the schema served (part of every response cache key). */
  version: string;
}

export function schemaVersionOf(supergraphSdl: string): string {
  return createHash('sha256').update(supergraphSdl).digest('hex').slice(0, 16);
}
