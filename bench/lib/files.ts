/**
 * Output files in the repository's format: generated JSON and GraphQL are run through prettier
 * with the project's configuration, so `npm run check:format` passes on committed results.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import prettier from 'prettier';

/** `text` formatted as prettier would format a file at `path` (parser from its extension). */
export async function formatted(path: string, text: string): Promise<string> {
  const options = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(text, { ...options, filepath: path });
}

export async function writeFormatted(path: string, text: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await formatted(path, text));
}

export function writePlain(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
