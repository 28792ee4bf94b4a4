/**
 * Composition of the subgraph SDLs (schema/subgraphs/<name>.graphql) into a supergraph, with
 * @apollo/composition. Returns a result value (errors or SDL) rather than throwing, as
 * composition-js itself does, so the CLI and tests decide how to report.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse, type GraphQLError } from 'graphql';

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
}

export type CompositionOutcome =
  | { readonly ok: true; readonly supergraphSdl: string; readonly hints: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

export function readSubgraphSources(directory: URL = SUBGRAPHS_DIR): SubgraphSource[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const name = file.replace(/\.graphql$/, '');
      return {
        name,
        url: DEFAULT_SUBGRAPH_URLS[name] ?? `http://127.0.0.1/${name}/graphql`,
        sdl: readFileSync(new URL(file, directory), 'utf8'),
      };
    });
}

export function composeSupergraph(sources: readonly SubgraphSource[]): CompositionOutcome {
  const parseErrors: string[] = [];
  const services = sources.flatMap((source) => {
    try {
      return [{ name: source.name, url: source.url, typeDefs: parse(source.sdl) }];
    } catch (error) {
      parseErrors.push(`[${source.name}] ${(error as Error).message}`);
      return [];
    }
  });
  if (parseErrors.length > 0) return { ok: false, errors: parseErrors };
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map(describeError) };
  return {
    ok: true,
    supergraphSdl: `${result.supergraphSdl.trimEnd()}\n`,
    hints: result.hints.map((hint) => hint.toString()),
  };
}

/** "[fleet] schema/subgraphs/fleet.graphql:12:3 FIELD_TYPE_MISMATCH: …" where locations exist. */
function describeError(error: GraphQLError): string {
  const code = String(error.extensions?.['code'] ?? 'COMPOSITION_ERROR');
  const nodes = (error.nodes ?? []) as unknown as readonly {
    loc?: { startToken: { line: number; column: number }; source: { name: string } };
    subgraph?: string;
  }[];
  const where = nodes
    .map((node) =>
      node.loc
        ? `${node.subgraph ?? node.loc.source.name}:${node.loc.startToken.line}:${node.loc.startToken.column}`
        : node.subgraph,
    )
    .filter(Boolean);
  return `${code}: ${error.message}${where.length ? ` (at ${where.join(', ')})` : ''}`;
}
