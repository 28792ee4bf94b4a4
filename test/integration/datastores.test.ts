import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { WRITE_PROFILE } from '../../platform/cassandra/client.js';
import type { RedisClient } from '../../platform/redis/client.js';
import { cassandraForTest, redisForTest } from '../support/stack.js';

describe('the real Cassandra node', () => {
  let cassandra: CassandraClient;
  before(async () => {
    cassandra = await cassandraForTest();
  });
  after(() => cassandra.shutdown());

  it('when a row is written with a prepared statement, then a prepared read returns it', async () => {
    const id = randomUUID();
    const createdAt = new Date('2026-01-02T03:04:05.678Z');
    await cassandra.execute(
      'INSERT INTO organizations (organization_id, name, created_at) VALUES (?, ?, ?)',
      [id, 'Integration Test Org', createdAt],
      { prepare: true, executionProfile: WRITE_PROFILE },
    );
    const result = await cassandra.execute(
      'SELECT organization_id, name, created_at FROM organizations WHERE organization_id = ?',
      [id],
      { prepare: true },
    );
    assert.equal(result.rowLength, 1);
    assert.equal(result.first()['organization_id'].toString(), id);
    assert.equal(result.first()['name'], 'Integration Test Org');
    assert.equal((result.first()['created_at'] as Date).toISOString(), createdAt.toISOString());
    await cassandra.execute('DELETE FROM organizations WHERE organization_id = ?', [id], {
      prepare: true,
    });
  });

  it('when asked for its version, then it reports Apache Cassandra 5.0', async () => {
    const result = await cassandra.execute('SELECT release_version FROM system.local');
    assert.match(result.first()['release_version'] as string, /^5\.0\./);
  });
});

describe('the real Redis', () => {
  let redis: RedisClient;
  before(async () => {
    redis = await redisForTest();
  });
  after(() => redis.quit());

  it('when a key is set through ioredis with a TTL, then it reads back with that TTL', async () => {
    const key = `test:datastores:${randomUUID()}`;
    await redis.set(key, 'hello from fleetgraph', 'EX', 60);
    assert.equal(await redis.get(key), 'hello from fleetgraph');
    const ttl = await redis.ttl(key);
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
    await redis.del(key);
    assert.equal(await redis.get(key), null);
  });
});
