/**
 * What `npm run schema:compose` does, as a function the tests can call: compose
 * schema/subgraphs/*.graphql, then write schema/supergraph.graphql and schema/api-schema.graphql.
 * A file is rewritten only when its bytes change, so the router's mtime-based hot reload stays
 * quiet and re-running on an unchanged tree is a no-op.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_SCHEMA_FILE, printApiSchema } from './apiSchema.js';
import {
  composeSupergraph,
  displayPath,
  readSubgraphSources,
  SUBGRAPHS_DIR,
  SUPERGRAPH_FILE,
  type CompositionDiagnostic,
} from './compose.js';

export interface ComposeFilesOptions {
  readonly subgraphsDir?: URL;
  readonly supergraphFile?: URL;
  readonly apiSchemaFile?: URL;
}

export interface WrittenFile {
  /** Relative to the working directory when below it. */
  readonly path: string;
  readonly written: boolean;
}

export type ComposeFilesResult =
  | {
      readonly ok: true;
      readonly subgraphs: readonly string[];
      readonly files: readonly WrittenFile[];
      readonly hints: readonly string[];
    }
  | {
      readonly ok: false;
      readonly subgraphs: readonly string[];
      readonly errors: readonly string[];
      readonly diagnostics: readonly CompositionDiagnostic[];
    };

export async function composeSchemaFiles(
  options: ComposeFilesOptions = {},
): Promise<ComposeFilesResult> {
  const sources = readSubgraphSources(options.subgraphsDir ?? SUBGRAPHS_DIR);
  const subgraphs = sources.map((source) => source.name);
  const outcome = composeSupergraph(sources);
  if (!outcome.ok) {
    return { ok: false, subgraphs, errors: outcome.errors, diagnostics: outcome.diagnostics };
  }
  // Both texts are computed before anything is written, so a failure leaves no half-update.
  const apiSchemaSdl = await printApiSchema(outcome.supergraphSdl);
  const files = [
    writeIfChanged(options.supergraphFile ?? SUPERGRAPH_FILE, outcome.supergraphSdl),
    writeIfChanged(options.apiSchemaFile ?? API_SCHEMA_FILE, apiSchemaSdl),
  ];
  return { ok: true, subgraphs, files, hints: outcome.hints };
}

export function writeIfChanged(file: URL, text: string): WrittenFile {
  const path = fileURLToPath(file);
  const unchanged = existsSync(path) && readFileSync(path, 'utf8') === text;
  if (!unchanged) writeFileSync(path, text);
  return { path: displayPath(path), written: !unchanged };
}
