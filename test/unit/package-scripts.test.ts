/**
 * Every file an npm script runs exists: `db:migrate` and `db:seed` once pointed at files that
 * had moved, and nothing noticed until someone typed the README's command.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const scripts = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

describe('package.json scripts', () => {
  for (const [name, command] of Object.entries(scripts)) {
    const files = [...command.matchAll(/(?:^|\s)((?:[\w.-]+\/)+[\w.-]+\.(?:ts|sh|js))(?=\s|$)/g)]
      .map((m) => m[1]!)
      .filter((file) => !file.startsWith('dist/')); // built by `npm run build`
    it(`"${name}" runs files that exist (${files.join(', ') || 'none'})`, () => {
      for (const file of files)
        assert.ok(existsSync(new URL(`../../${file}`, import.meta.url)), `${name}: ${file}`);
    });
  }
});
