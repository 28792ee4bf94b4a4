import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { loadRouterConfig } from '../../platform/config/load.js';

// No Docker engine on the project's machines: the Dockerfile is checked against what the
// processes need. Its runtime stage holds dist/ and the production node_modules only, so every
// file the entry point starts must be built and copied, every package those processes import
// must be a production dependency, and the schema files they read must be there.

const dockerfile = readFileSync('Dockerfile', 'utf8');
const entrypoint = readFileSync('deploy/docker/entrypoint.sh', 'utf8');
const build = readFileSync('scripts/build.ts', 'utf8');
const runtime = dockerfile.slice(dockerfile.search(/^FROM .* AS runtime$/m));
const SUBGRAPHS = ['users', 'sessions', 'fleet'];
/** What the runtime stage copies from the build stage: `COPY --from=build … /app/<path> <dest>`. */
const copied = [...runtime.matchAll(/^COPY --from=build [^\n]*?\/app\/(\S+) \S+$/gm)].map(
  (m) => m[1]!,
);
const isCopied = (path: string) =>
  copied.some((source) => path === source || path.startsWith(`${source}/`));

/** The built files the entry point and the HEALTHCHECK run (`$service` for each subgraph). */
const entries = [
  ...new Set(
    [...`${entrypoint}\n${dockerfile}`.matchAll(/dist\/[\w$/.-]+\.js/g)].flatMap(([path]) =>
      path.includes('$service') ? SUBGRAPHS.map((s) => path.replace('$service', s)) : [path],
    ),
  ),
].filter((path) => !path.includes('$'));

describe('Dockerfile', () => {
  it('when built, then it starts from an exactly pinned Node image of the version package.json asks for', () => {
    const image =
      /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-bookworm-slim(@sha256:[0-9a-f]{64})?$/m.exec(
        dockerfile,
      );
    assert.ok(image, 'NODE_IMAGE must be node:<major>.<minor>.<patch>-bookworm-slim');
    const engines = (
      JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }
    ).engines.node;
    const [major, minor] = (/>=(\d+)\.(\d+)/.exec(engines) ?? []).slice(1).map(Number);
    assert.equal(Number(image[1]), major);
    assert.ok(Number(image[2]) >= (minor ?? 0), `${image[0]} is older than ${engines}`);
    assert.match(dockerfile, /^FROM \$\{NODE_IMAGE\} AS build$/m);
    assert.match(dockerfile, /^FROM \$\{NODE_IMAGE\} AS runtime$/m);
  });

  it('when the image runs, then as a non-root user, with a health check and the entry point', () => {
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    assert.ok(user && !/^(0|root)(:|$)/.test(user), `runs as ${user}`);
    assert.match(
      runtime,
      /^HEALTHCHECK .*\n?\s*CMD \["node", "dist\/scripts\/healthcheck\.js"\]$/m,
    );
    assert.match(runtime, /^COPY .*deploy\/docker\/entrypoint\.sh \/usr\/local\/bin\/fleetgraph$/m);
    assert.match(runtime, /^ENTRYPOINT \["fleetgraph"\]$/m);
    assert.match(dockerfile, /npm ci\b/);
    assert.match(dockerfile, /npm run build\b/);
    assert.match(dockerfile, /npm prune --omit=dev\b/);
  });

  it('when the entry point starts a process, then its file is built from a source and copied into the image', () => {
    for (const service of ['router', ...SUBGRAPHS, 'migrate', 'seed', 'setup', 'script'])
      assert.match(
        entrypoint,
        new RegExp(`^\\s*(?:[a-z]+ \\| )*${service}(?: \\| [a-z]+)*\\)`, 'm'),
      );
    assert.ok(entries.length >= 7, entries.join(', '));
    for (const entry of entries) {
      const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      assert.ok(existsSync(source), `${entry}: no ${source}`);
      assert.ok(isCopied(entry), `${entry} is not copied into the runtime stage`);
    }
    assert.ok(isCopied('router/v8-flags'), 'the router V8 flags');
  });

  it('when a process reads schema files, then the image holds them', () => {
    // Built beside dist/: the subgraphs' SDL and the migrations (dist/scripts/migrate.js reads ../schema/cql).
    for (const dir of ['schema/subgraphs', 'schema/cql']) {
      assert.ok(build.includes(`'${dir}'`), `scripts/build.ts does not copy ${dir}`);
      assert.ok(isCopied(`dist/${dir}`), `dist/${dir}`);
    }
    // Read from the working directory by the router.
    const { supergraphPath, trustedDocumentsDir } = loadRouterConfig({});
    for (const path of [supergraphPath, trustedDocumentsDir])
      assert.ok(isCopied(path), `${path} is not copied into the runtime stage`);
  });

  it('when the processes import a package, then it is a production dependency (npm prune --omit=dev keeps it)', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const seen = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      const specifiers = [
        ...text.matchAll(/^\s*(?:import|export)(?!\s+type\b)[^'"]*?from\s+'([^']+)'/gm),
        ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
        ...text.matchAll(/\b(?:import|require\.resolve|require)\(\s*'([^']+)'\s*\)/g),
      ].map((m) => m[1]!);
      for (const specifier of specifiers) {
        if (specifier.startsWith('node:')) continue;
        if (specifier.startsWith('.')) {
          const path = normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
          if (existsSync(path)) visit(path);
          continue;
        }
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    };
    for (const entry of entries) visit(entry.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    assert.ok(seen.size > 50, `only ${seen.size} modules reached`);
    for (const name of ['@apollo/gateway', 'cassandra-driver', 'ioredis'])
      assert.ok(packages.has(name), `${name} not found: the import scan is broken`);
    for (const name of packages) {
      const entry = lock.packages[`node_modules/${name}`];
      assert.ok(entry, `${name} is imported at run time but not installed`);
      assert.notEqual(entry.dev, true, `${name} is a devDependency only, but the image needs it`);
    }
  });
});

describe('.dockerignore', () => {
  it('when the build context is sent, then local state, installed modules, outputs and .env stay out', () => {
    const ignored = new Set(
      readFileSync('.dockerignore', 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#')),
    );
    for (const path of ['.git', '.local', 'node_modules', 'dist', '.env'])
      assert.ok(ignored.has(path), `${path} is sent to the build`);
  });
});
