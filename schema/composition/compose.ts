/**
 * Composition of the subgraph SDLs (schema/subgraphs/<name>.graphql) into a supergraph, with
 * @apollo/composition. Returns a result value (errors or SDL) rather than throwing, as
 * composition-js itself does, so the CLI and tests decide how to report.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse, Source } from 'graphql';

export const SUBGRAPHS_DIR = new URL('../subgraphs/', import.meta.url);
export const SUPERGRAPH_FILE = new URL('../supergraph.graphql', import.meta.url);

/**
 * The URLs written into the supergraph's join__Graph entries: the development ports. The
 * router overrides them per deployment with SUBGRAPH_URLS, so the committed file is the same
 * everywhere.
 */
export const DEFAULT_SUBGRAPH_URLS: Readonly<Record<string, string>> = {
  users: 'http://127.0.0.1:4001/graphql',
  sessions: 'http://127.0.0.1:4002/graphql',
  fleet: 'http://127.0.0.1:4003/graphql',
};

export interface SubgraphSource {
  readonly name: string;
  readonly url: string;
  readonly sdl: string;
  /**
   * Where the SDL was read from (relative to the working directory when possible). Composition
   * errors then point at `file:line:column`; without it they name the subgraph only.
   */
  readonly file?: string;
}

/** Where a composition error points: the subgraph and, when composition kept it, the position. */
export interface CompositionErrorLocation {
  readonly subgraph: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

/** One composition (or SDL parse) error in a shape the CLIs and the schema check can print. */
export interface CompositionDiagnostic {
  readonly code: string;
  readonly message: string;
  readonly locations: readonly CompositionErrorLocation[];
}

export type CompositionOutcome =
  | { readonly ok: true; readonly supergraphSdl: string; readonly hints: readonly string[] }
  | {
      readonly ok: false;
      /** One readable line per error (see describeDiagnostic). */
      readonly errors: readonly string[];
      readonly diagnostics: readonly CompositionDiagnostic[];
    };

export function readSubgraphSources(directory: URL = SUBGRAPHS_DIR): SubgraphSource[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.graphql$/, '');
      const path = fileURLToPath(new URL(file, directory));
      return {
        name,
        url: DEFAULT_SUBGRAPH_URLS[name] ?? `http://127.0.0.1/${name}/graphql`,
        sdl: readFileSync(path, 'utf8'),
        file: displayPath(path),
      };
    });
}

/** A path relative to the working directory when it lies below it, else absolute. */
export function displayPath(path: string): string {
  const fromCwd = relative(process.cwd(), path);
  return fromCwd.startsWith('..') || fromCwd === '' ? path : fromCwd;
}

export function composeSupergraph(sources: readonly SubgraphSource[]): CompositionOutcome {
  const diagnostics: CompositionDiagnostic[] = [];
  const services = sources.flatMap((source) => {
    try {
      // A named Source makes every AST node (and so every composition error) carry its file.
      const typeDefs = parse(new Source(source.sdl, source.file ?? source.name));
      return [{ name: source.name, url: source.url, typeDefs }];
    } catch (error) {
      diagnostics.push(parseDiagnostic(source, error));
      return [];
    }
  });
  if (diagnostics.length > 0) return failure(diagnostics);
  const result = composeServices(services);
  if (result.errors) {
    const subgraphByFile = new Map(sources.map((s) => [s.file ?? s.name, s.name]));
    return failure(result.errors.map((error) => compositionDiagnostic(error, subgraphByFile)));
  }
  return {
    ok: true,
    supergraphSdl: `${result.supergraphSdl.trimEnd()}\n`,
    hints: result.hints.map((hint) => hint.toString()),
  };
}

function failure(diagnostics: readonly CompositionDiagnostic[]): CompositionOutcome {
  return { ok: false, errors: diagnostics.map(describeDiagnostic), diagnostics };
}

/**
 * "FIELD_TYPE_MISMATCH: Type of field … (at fleet schema/subgraphs/fleet.graphql:165:3, sessions
 * schema/subgraphs/sessions.graphql:75:3)": the code to search for, composition's own message,
 * then every place it points at, so an editor can jump there.
 */
export function describeDiagnostic(diagnostic: CompositionDiagnostic): string {
  const where = diagnostic.locations.map((location) =>
    location.file && location.line !== undefined
      ? `${location.subgraph} ${location.file}:${location.line}:${location.column ?? 1}`
      : location.subgraph,
  );
  return `${diagnostic.code}: ${diagnostic.message}${where.length ? ` (at ${where.join(', ')})` : ''}`;
}

function parseDiagnostic(source: SubgraphSource, error: unknown): CompositionDiagnostic {
  const position = error instanceof GraphQLError ? error.locations?.[0] : undefined;
  return {
    code: 'INVALID_GRAPHQL',
    message: (error as Error).message,
    locations: [
      position
        ? { subgraph: source.name, file: source.file ?? source.name, ...position }
        : { subgraph: source.name },
    ],
  };
}

/**
 * Composition errors carry the subgraph AST nodes they are about. Most nodes have a `subgraph`
 * property; some (e.g. INVALID_FIELD_SHARING's) do not, so the subgraph is also recovered from
 * the node's source name, which composeSupergraph sets to the subgraph's file.
 */
function compositionDiagnostic(
  error: GraphQLError,
  subgraphByFile: ReadonlyMap<string, string>,
): CompositionDiagnostic {
  const nodes = (error.nodes ?? []) as unknown as readonly {
    loc?: { startToken: { line: number; column: number }; source: { name: string } };
    subgraph?: string;
  }[];
  const locations = nodes.flatMap((node): CompositionErrorLocation[] => {
    const file = node.loc?.source.name;
    const subgraph = node.subgraph ?? (file ? subgraphByFile.get(file) : undefined);
    if (!subgraph) return [];
    if (!node.loc) return [{ subgraph }];
    const { line, column } = node.loc.startToken;
    return [{ subgraph, file: file ?? subgraph, line, column }];
  });
  return {
    code: String(error.extensions?.['code'] ?? 'COMPOSITION_ERROR'),
    message: error.message,
    locations,
  };
}
