import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

describe('the bring-up command', () => {
  it('when run again on a running stack, then it reuses Cassandra and Redis and migrations are a no-op', () => {
    const pids = () => ({
      cassandra: readFileSync('.local/cassandra/cassandra.pid', 'utf8').trim(),
      redis: readFileSync('.local/redis/redis.pid', 'utf8').trim(),
    });
    const before = pids();
    const result = spawnSync('bash', ['infra/up.sh'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /\[cassandra\] reusing the node already answering CQL on 127\.0\.0\.1:9042/,
    );
    assert.match(
      result.stdout,
      /\[redis\] reusing the Redis already answering on 127\.0\.0\.1:6379/,
    );
    assert.match(
      result.stdout,
      /\[migrate\] keyspace fleetgraph: applied 0 \(none\), \d+ already applied/,
    );
    assert.match(result.stdout, /\[seed\] scale demo is already loaded/);
    assert.deepEqual(pids(), before);
  });
});
