import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALL_VARIABLES } from '../../platform/config/load.js';

// No Docker engine runs on the project's machines, so docker-compose.yml is kept honest by
// construction: it must parse, and every variable it passes to our services must be one that
// platform/config/variables.ts declares.
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
    services: Record<
      string,
      {
        image?: string;
        environment?: Record<string, string>;
        healthcheck?: unknown;
        ports?: string[];
      }
    >;
  };

  it('when parsed, then Cassandra 5 and Redis 7 run from the official images with health checks', () => {
    assert.equal(compose.services['cassandra']?.image, 'cassandra:5');
    assert.equal(compose.services['redis']?.image, 'redis:7');
    assert.ok(compose.services['cassandra']?.healthcheck);
    assert.ok(compose.services['redis']?.healthcheck);
  });

  // The development stack runs on the published development secrets (platform/config/secrets.ts):
  // it must be unreachable from the network, and production must never start from it on them.
  it('when a service publishes a port, then only on 127.0.0.1; and it never runs production on default secrets', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? [])
        assert.match(String(port), /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port}`);
      const env = service.environment ?? {};
      if (env['FLEETGRAPH_ENV'] === 'development') continue;
      for (const [variable, value] of Object.entries(env))
        if (/SECRET|TOKEN|PASSWORD/.test(variable))
          assert.match(
            String(value),
            /^\$\{\w+:\?.+\}$/,
            `${name}: ${variable} must be \${VAR:?…}`,
          );
    }
  });

  it('when a project service sets an environment variable, then the configuration module knows it', () => {
    const ours = Object.entries(compose.services).filter(
      ([name]) => !['cassandra', 'redis'].includes(name),
    );
    assert.ok(ours.length > 0);
    for (const [name, service] of ours) {
      for (const variable of Object.keys(service.environment ?? {})) {
        assert.ok(
          ALL_VARIABLES.includes(variable),
          `${name}: ${variable} is not a configuration variable`,
        );
      }
    }
  });
});
