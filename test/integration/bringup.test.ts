import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';

const up = () =>
  spawnSync('bash', ['infra/up.sh'], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, FLEETGRAPH_SERVICES: 'on' },
  });
/** A pid file's pid; a server another checkout started has none here (it is reused all the same). */
const pid = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return 'started elsewhere';
  }
};

const SERVICES = ['users', 'sessions', 'fleet', 'router'] as const;

/** Whether a service's pid file names a live process (what infra/services.sh calls running). */
function isRunning(service: string): boolean {
  try {
    process.kill(Number(pid(`.local/services/${service}.pid`)), 0);
    return true;
  } catch {
    return false;
  }
}

describe('the bring-up command', () => {
  // A developer's `npm run dev:up` stack stays up through `npm test`: only the services this
  // test started are stopped afterwards.
  let startedHere: string[] = [];
  before(() => {
    startedHere = SERVICES.filter((service) => !isRunning(service));
  });
  after(() => {
    if (startedHere.length > 0)
      spawnSync('bash', ['infra/services.sh', 'stop', ...startedHere], { encoding: 'utf8' });
  });

  it('when run twice, then the second run reuses every server and migrations and seed are no-ops', async () => {
    const first = up();
    assert.equal(first.status, 0, first.stdout + first.stderr);
    const pids = () => ({
      cassandra: pid('.local/cassandra/cassandra.pid'),
      redis: pid('.local/redis/redis.pid'),
      router: pid('.local/services/router.pid'),
      fleet: pid('.local/services/fleet.pid'),
    });
    const before = pids();
    const second = up();
    assert.equal(second.status, 0, second.stderr);
    assert.match(
      second.stdout,
      /\[cassandra\] reusing the node already answering CQL on 127\.0\.0\.1:9042/,
    );
    assert.match(
      second.stdout,
      /\[redis\] reusing the Redis already answering on 127\.0\.0\.1:6379/,
    );
    assert.match(
      second.stdout,
      /\[migrate\] keyspace fleetgraph: applied 0 \(none\), \d+ already applied/,
    );
    assert.match(second.stdout, /\[seed\] scale demo is already loaded/);
    for (const service of ['users', 'sessions', 'fleet', 'router'])
      // `reusing pid …`, or `reusing the server already answering …` (another checkout's).
      assert.match(second.stdout, new RegExp(`\\[${service}\\] reusing `));
    assert.deepEqual(pids(), before);
    const ready = await fetch('http://127.0.0.1:4000/readyz');
    assert.equal(ready.status, 200, await ready.text());
  });
});
