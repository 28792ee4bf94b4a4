import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALL_VARIABLES, loadRouterConfig, loadSubgraphConfig } from '../../platform/config/load.js';
import { PUBLISHED_SECRETS } from '../../platform/config/secrets.js';

// No Docker engine runs on the project's machines, so docker-compose.yml is kept honest by
// construction: it must parse, every variable it passes to our services must be one that
// platform/config/variables.ts declares, every service must say when it is healthy, and each
// must start only once what it needs is healthy (or, for the migrate+seed job, done).

type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  profiles?: string[];
  restart?: string;
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
};

const text = readFileSync('docker-compose.yml', 'utf8');
// `merge`: the file shares settings through YAML merge keys (`<<: *fleetgraph-env`).
const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
/** Our services: the image built from the Dockerfile. */
const ours = services.filter(([, service]) => service.build !== undefined);
const SUBGRAPHS = ['users', 'sessions', 'fleet'];
/** What deploy/docker/entrypoint.sh starts: the labels of its `case`. */
const ENTRYPOINT_COMMANDS = new Set(
  [...readFileSync('deploy/docker/entrypoint.sh', 'utf8').matchAll(/^\s*([a-z][a-z |-]*)\)/gm)]
    .flatMap((match) => match[1]!.split('|'))
    .map((label) => label.trim()),
);
/** `${VAR:?message}`: compose refuses to start while VAR is unset or empty. */
const REQUIRED = /^\$\{(\w+):\?.+\}$/;

describe('docker-compose.yml', () => {
  it('when parsed, then Cassandra 5 and Redis 7 run from the official images with health checks', () => {
    assert.equal(compose.services['cassandra']?.image, 'cassandra:5');
    assert.equal(compose.services['redis']?.image, 'redis:7');
    assert.ok(compose.services['cassandra']?.healthcheck);
    assert.ok(compose.services['redis']?.healthcheck);
  });

  it('when parsed, then the whole stack runs from the one image: a migrate+seed job, three subgraphs and the router', () => {
    assert.deepEqual(ours.map(([name]) => name).sort(), [
      'fleet',
      'router',
      'sessions',
      'setup',
      'users',
    ]);
    for (const [name, service] of ours) {
      assert.equal(service.image, 'fleetgraph:dev', name);
      const [command] = service.command ?? [];
      assert.equal(command, name, `${name} runs ${command}`);
      assert.ok(
        ENTRYPOINT_COMMANDS.has(name),
        `deploy/docker/entrypoint.sh does not start ${name}`,
      );
    }
  });

  // The stack runs in development mode (HS256 tokens): unreachable from the network, and never on
  // the development secrets published in platform/config/secrets.ts.
  it('when a service publishes a port, then only on 127.0.0.1; it runs development mode, and every secret must come from the environment', () => {
    for (const [name, service] of services) {
      for (const port of service.ports ?? [])
        assert.match(String(port), /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port}`);
      const env = service.environment ?? {};
      if (service.build !== undefined) assert.equal(env['FLEETGRAPH_ENV'], 'development', name);
      for (const [variable, value] of Object.entries(env))
        if (/SECRET|TOKEN|PASSWORD/.test(variable))
          assert.match(String(value), REQUIRED, `${name}: ${variable} must be \${VAR:?…}`);
    }
    assert.doesNotMatch(text, /\$\{\w*(SECRET|TOKEN|PASSWORD)\w*:?-/, 'a secret with a default');
    // Only the router is public; its subgraphs are reached on the stack's network.
    for (const name of SUBGRAPHS) assert.equal(compose.services[name]?.ports, undefined, name);
  });

  it('when a project service sets an environment variable, then the configuration module knows it', () => {
    assert.ok(ours.length > 0);
    for (const [name, service] of ours)
      for (const variable of Object.keys(service.environment ?? {}))
        assert.ok(
          ALL_VARIABLES.includes(variable),
          `${name}: ${variable} is not a configuration variable`,
        );
  });

  it('when a service runs, then it has a health check; a one-shot job is awaited to completion instead', () => {
    for (const [name, service] of services) {
      if (service.restart === 'no') {
        const awaited = services.some(
          ([, other]) => other.depends_on?.[name]?.condition === 'service_completed_successfully',
        );
        assert.ok(awaited, `nothing waits for the job ${name} to complete`);
        continue;
      }
      assert.ok(service.healthcheck?.test?.length, `${name} has no health check`);
    }
  });

  it('when a service starts, then what it depends on is healthy (or completed) first', () => {
    for (const [name, service] of services)
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = compose.services[dependency];
        assert.ok(target, `${name} depends on a missing ${dependency}`);
        if (target.restart === 'no') assert.equal(condition, 'service_completed_successfully');
        else {
          assert.equal(condition, 'service_healthy', `${name} → ${dependency}`);
          assert.ok(
            target.healthcheck,
            `${name} waits for ${dependency}, which has no health check`,
          );
        }
      }
    const dependencies = (name: string) =>
      Object.keys(compose.services[name]?.depends_on ?? {}).sort();
    assert.deepEqual(dependencies('setup'), ['cassandra']);
    for (const name of SUBGRAPHS) assert.deepEqual(dependencies(name), ['cassandra', 'setup']);
    assert.deepEqual(dependencies('router'), ['fleet', 'redis', 'sessions', 'setup', 'users']);
  });

  it('when the router starts, then it reaches each subgraph on the port that subgraph listens on', () => {
    const router = compose.services['router']?.environment ?? {};
    const urls = Object.fromEntries(
      (router['SUBGRAPH_URLS'] ?? '').split(',').map((pair) => pair.split('=') as [string, string]),
    );
    for (const name of SUBGRAPHS) {
      const port = compose.services[name]?.environment?.[`${name.toUpperCase()}_PORT`];
      assert.equal(urls[name], `http://${name}:${port}/graphql`);
    }
  });

  it('when .env.example is copied to .env, then it sets exactly what compose requires, with values production refuses', () => {
    const required = new Set(
      services.flatMap(([, service]) =>
        Object.values(service.environment ?? {}).flatMap(
          (value) => REQUIRED.exec(value)?.[1] ?? [],
        ),
      ),
    );
    const example = Object.fromEntries(
      readFileSync('.env.example', 'utf8')
        .split('\n')
        .filter((line) => /^\w+=/.test(line))
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    assert.deepEqual(Object.keys(example).sort(), [...required].sort());
    const env = (service: string) => {
      const environment = { ...compose.services[service]?.environment };
      for (const [variable, value] of Object.entries(environment)) {
        const match = REQUIRED.exec(value);
        if (match) environment[variable] = example[match[1]!]!;
      }
      return environment;
    };
    // Accepted as the stack runs them (development)...
    assert.doesNotThrow(() => loadRouterConfig(env('router')));
    for (const name of SUBGRAPHS)
      assert.doesNotThrow(() => loadSubgraphConfig(name as 'users', env(name)));
    // ...and each secret refused by production as published.
    for (const [variable, value] of Object.entries(example))
      if (/SECRET|TOKEN/.test(variable)) assert.ok(PUBLISHED_SECRETS.includes(value), variable);
  });

  it('when the observability profile runs, then Prometheus scrapes the router ops port and each subgraph, and Grafana is provisioned', () => {
    const prometheus = compose.services['prometheus'];
    const grafana = compose.services['grafana'];
    assert.deepEqual(prometheus?.profiles, ['observability']);
    assert.deepEqual(grafana?.profiles, ['observability']);
    const config = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((c) => c.targets),
    );
    const router = compose.services['router']?.environment ?? {};
    const expected = [
      `router:${router['ROUTER_OPS_PORT']}`,
      ...SUBGRAPHS.map(
        (name) => `${name}:${compose.services[name]?.environment?.[`${name.toUpperCase()}_PORT`]}`,
      ),
    ];
    assert.deepEqual(targets.sort(), expected.sort());
    assert.ok(
      prometheus?.volumes?.some((v) => v.startsWith('./deploy/prometheus/prometheus.yml:')),
    );
    for (const mount of ['./deploy/grafana/provisioning:', './deploy/grafana/dashboards:'])
      assert.ok(
        grafana?.volumes?.some((v) => v.startsWith(mount)),
        mount,
      );
  });
});
