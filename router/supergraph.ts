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
import { Kind, parse, type ConstDirectiveNode } from 'graphql';
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
  /** Typename → the subgraphs that resolve it by its `id` key ({@link entitySubgraphsOf}). */
  entitySubgraphs: Readonly<Record<string, readonly string[]>>;
}

/**
 * Typename → the subgraphs that resolve that entity by an `id` key: each
 * `@join__type(graph: G, key: "id")` of an object type, unless `resolvable: false`, with G
 * named as in the `join__Graph` enum. Read with graphql's parser, once per (re)load.
 */
export function entitySubgraphsOf(supergraphSdl: string): Record<string, string[]> {
  const document = parse(supergraphSdl);
  const graphs = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph')
      continue;
    for (const value of definition.values ?? []) {
      const name = argumentOf(value.directives, 'join__graph', 'name');
      if (typeof name === 'string') graphs.set(value.name.value, name);
    }
  }
  const entities: Record<string, string[]> = {};
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== 'join__type') continue;
      const graph = graphs.get(String(argumentOf([directive], 'join__type', 'graph')));
      const key = argumentOf([directive], 'join__type', 'key');
      const resolvable = argumentOf([directive], 'join__type', 'resolvable');
      if (!graph || key !== 'id' || resolvable === false) continue;
      (entities[definition.name.value] ??= []).push(graph);
    }
  }
  return entities;
}

/** A scalar argument of the first directive named so (enum values as their names). */
function argumentOf(
  directives: readonly ConstDirectiveNode[] | undefined,
  directive: string,
  argument: string,
): string | boolean | undefined {
  const found = directives?.find((d) => d.name.value === directive);
  const value = found?.arguments?.find((a) => a.name.value === argument)?.value;
  if (value?.kind === Kind.STRING || value?.kind === Kind.ENUM) return value.value;
  if (value?.kind === Kind.BOOLEAN) return value.value;
  return undefined;
}

export function schemaVersionOf(supergraphSdl: string): string {
  return createHash('sha256').update(supergraphSdl).digest('hex').slice(0, 16);
}
