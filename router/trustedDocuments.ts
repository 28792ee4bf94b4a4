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
import { parse, print } from 'graphql';
import { StartupError } from '../platform/startup.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class TrustedDocuments {
  private readonly byHash = new Map<string, { text: string; file: string }>();

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
    }
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
