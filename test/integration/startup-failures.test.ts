import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

/** Runs a CLI entry point the way a user would, with an environment override. */
function runEntry(script: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr.trim() };
}

describe('start-up with a bad configuration', () => {
  it('when Cassandra is unreachable, then the process exits 1 with one line naming CASSANDRA_CONTACT_POINTS', () => {
    const { status, stderr } = runEntry('scripts/migrate.ts', {
      CASSANDRA_CONTACT_POINTS: '127.0.0.1:1',
    });
    assert.equal(status, 1);
    assert.equal(stderr.split('\n').length, 1, stderr);
    assert.match(
      stderr,
      /^fleetgraph: Cannot connect to Cassandra at 127\.0\.0\.1:1 \(CASSANDRA_CONTACT_POINTS/,
    );
  });

  it('when a port is invalid, then the process exits 1 with one line naming it', () => {
    const { status, stderr } = runEntry('subgraphs/fleet/index.ts', { FLEET_PORT: '0' });
    assert.equal(status, 1);
    assert.equal(
      stderr,
      'fleetgraph: Invalid configuration: FLEET_PORT must be between 1 and 65535 (got "0")',
    );
  });

  it('when a production secret is missing, then the process exits 1 with one line naming it', () => {
    // Everything else production requires (JWKS, issuer, audience, the operator token).
    const { status, stderr } = runEntry('router/index.ts', {
      FLEETGRAPH_ENV: 'production',
      JWT_SECRET: '',
      JWT_JWKS_URL: 'https://id.example/.well-known/jwks.json',
      JWT_ISSUER: 'https://id.example/',
      JWT_AUDIENCE: 'fleetgraph',
      OPERATOR_TOKEN: randomBytes(32).toString('base64url'),
      IDENTITY_SIGNING_SECRET: '',
    });
    assert.equal(status, 1);
    assert.equal(
      stderr,
      'fleetgraph: Invalid configuration: IDENTITY_SIGNING_SECRET is required in production',
    );
  });
});
