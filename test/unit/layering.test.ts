/**
 * The dependency rule (docs/architecture.md): layers only point down.
 *
 *   platform/            imports neither router/ nor subgraphs/
 *   router/              imports platform/, never subgraphs/
 *   subgraphs/kit/       imports platform/, never a subgraph or the router
 *   subgraphs/<name>/    imports platform/ and subgraphs/kit/, never another subgraph or the router
 *
 * Every static and dynamic relative import of every source file is resolved to the file it
 * names, so `../../fleet/x.js` from deep inside users/ is judged by where it lands, not by its
 * spelling. eslint's `no-restricted-imports` (eslint.config.js) catches the plain cases while
 * typing; this test is the exact check.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const LAYERED = ['platform', 'router', 'subgraphs'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The layer a repository-relative path belongs to: platform, router, kit or a subgraph's name. */
export function layerOf(path: string): string | undefined {
  const [top, second] = path.split(sep);
  if (top === 'platform' || top === 'router') return top;
  if (top === 'subgraphs' && second) return second === 'kit' ? 'kit' : `subgraph:${second}`;
  return undefined;
}

/** Why `from` may not import `to`, or undefined when it may. */
export function violation(from: string, to: string): string | undefined {
  const source = layerOf(from);
  const target = layerOf(to);
  if (!source || !target || source === target) return undefined;
  if (target === 'platform') return undefined;
  if (source === 'platform') return 'the platform imports neither the router nor the subgraphs';
  if (source === 'router') return 'the router imports nothing from subgraphs/';
  if (source === 'kit') return 'the subgraph kit imports no subgraph and not the router';
  if (target === 'kit') return undefined;
  return target === 'router'
    ? 'a subgraph does not import the router'
    : 'a subgraph does not import another subgraph';
}

/** Every relative import of the layered sources, as [importer, imported] repository paths. */
function importEdges(): [string, string][] {
  return LAYERED.flatMap((dir) => sourcesUnder(join(ROOT, dir))).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(IMPORT)].map(
      (match) =>
        [
          relative(ROOT, file),
          relative(ROOT, normalize(join(dirname(file), match[1] as string))),
        ] as [string, string],
    );
  });
}

describe('the dependency rule', () => {
  it('when every import of platform/, router/ and subgraphs/ is resolved, then none points up or sideways', () => {
    const edges = importEdges();
    assert.ok(edges.length > 150, `expected the whole tree to be read, found ${edges.length}`);
    const broken = edges
      .map(([from, to]) => ({ from, to, why: violation(from, to) }))
      .filter((edge) => edge.why);
    assert.deepEqual(
      broken.map((edge) => `${edge.from} → ${edge.to}: ${edge.why}`),
      [],
    );
  });

  it('when an import points up or sideways, then the rule names it', () => {
    const cases: [string, string, boolean][] = [
      ['router/server.ts', 'subgraphs/kit/server.js', false],
      ['router/auth/jwt.ts', 'platform/config/load.js', true],
      ['platform/http.ts', 'router/metrics.js', false],
      ['platform/config.ts', 'subgraphs/kit/loaders.js', false],
      ['subgraphs/kit/server.ts', 'subgraphs/fleet/context.js', false],
      ['subgraphs/users/resolvers.ts', 'subgraphs/fleet/resolvers.js', false],
      ['subgraphs/fleet/repository/robots.ts', 'subgraphs/kit/cassandra/db.js', true],
      ['subgraphs/fleet/resolvers.ts', 'router/metrics.js', false],
      ['subgraphs/sessions/context.ts', 'platform/contract/identity.js', true],
    ];
    for (const [from, to, allowed] of cases) {
      assert.equal(violation(from, to) === undefined, allowed, `${from} → ${to}`);
    }
  });
});
