/**
 * Trusted documents: the registered client operations in schema/operations/<client>/*.graphql
 * (TRUSTED_DOCUMENTS_DIR) — the same registry the schema checks use.
 *
 * A document is identified by the SHA-256 of its normalised text (graphql `print` of the
 * parsed file), so formatting and comments do not matter. A client may send the full query,
 * or only `extensions.persistedQuery.sha256Hash` of a registered document, in which case the
 * router fills in the text (persisted-operations mode). Partner keys created with
 * `--trusted-documents-only` may send nothing else.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Kind, parse, print, type DocumentNode } from 'graphql';
import { StartupError } from '../platform/startup.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The metrics label of every operation that is not a registered document. */
export const UNREGISTERED_OPERATION = 'unregistered';
/** Verdicts remembered per query text; when full the memo starts over (bounded memory). */
const LABEL_MEMO_SIZE = 2000;

export class TrustedDocuments {
  private readonly byHash = new Map<string, { text: string; file: string }>();
  /** Operation names of the registered documents: the only ones metrics may carry. */
  private readonly names = new Set<string>();
  /** Apollo's hash of a query text as sent → whether it is a registered document. */
  private readonly verdicts = new Map<string, boolean>();

  constructor(directory: string) {
    for (const file of listGraphqlFiles(directory)) {
      let text: string;
      try {
        text = print(parse(readFileSync(file, 'utf8')));
      } catch (error) {
        throw new StartupError(
          `trusted document ${relative(process.cwd(), file)} does not parse: ${(error as Error).message}`,
        );
      }
      this.byHash.set(sha256(text), { text, file });
      for (const name of operationNamesOf(parse(text))) this.names.add(name);
    }
  }

  /**
   * The operation label of metrics (router/metrics.ts): the operation's name when the document
   * is a registered one, else {@link UNREGISTERED_OPERATION}. Callers choose operation names;
   * as labels they would make a new series each (unbounded memory) and show every client's
   * names to whoever reads the metrics. A name not registered costs a set lookup; a registered
   * name is checked against the registry once per distinct text (`queryHash`, Apollo's hash of
   * the text as sent), so an unregistered document cannot borrow a registered name.
   */
  operationLabel(
    operationName: string | null | undefined,
    queryHash: string,
    source: string | undefined,
  ): string {
    if (!operationName || !this.names.has(operationName) || !source) return UNREGISTERED_OPERATION;
    let trusted = this.verdicts.get(queryHash);
    if (trusted === undefined) {
      trusted = this.isTrusted(source);
      if (this.verdicts.size >= LABEL_MEMO_SIZE) this.verdicts.clear();
      this.verdicts.set(queryHash, trusted);
    }
    return trusted ? operationName : UNREGISTERED_OPERATION;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The registered text for a hash, if any. */
  textFor(hash: string): string | undefined {
    return this.byHash.get(hash.toLowerCase())?.text;
  }

  /** Whether a query text is (equivalent to) a registered document. */
  isTrusted(query: string): boolean {
    try {
      return this.byHash.has(sha256(print(parse(query))));
    } catch {
      return false;
    }
  }

  static hashOf(query: string): string {
    return sha256(print(parse(query)));
  }
}

function operationNamesOf(document: DocumentNode): string[] {
  return document.definitions.flatMap((definition) =>
    definition.kind === Kind.OPERATION_DEFINITION && definition.name ? [definition.name.value] : [],
  );
}

function listGraphqlFiles(directory: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    throw new StartupError(`TRUSTED_DOCUMENTS_DIR ${directory} cannot be read`);
  }
  return entries.flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return listGraphqlFiles(path);
    return entry.endsWith('.graphql') ? [path] : [];
  });
}
