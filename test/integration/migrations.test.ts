import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { migrate, MigrationError, readMigrations } from '../../platform/cassandra/migrations.js';
import { cassandraForTest } from '../support/stack.js';

// A throw-away keyspace, so this test never touches the application's own schema history.
const keyspace = `fg_migrations_test_${process.pid}`;
const replication = { class: 'SimpleStrategy', replication_factor: '1' };

describe('the CQL migration runner against the real node', () => {
  let cassandra: CassandraClient;
  let folder: string;
  before(async () => {
    cassandra = await cassandraForTest({ withKeyspace: false });
    folder = mkdtempSync(join(tmpdir(), 'fg-migrations-'));
    writeFileSync(
      join(folder, '001_first.cql'),
      'CREATE TABLE IF NOT EXISTS {keyspace}.things (id int PRIMARY KEY, name text);',
    );
    writeFileSync(
      join(folder, '002_second.cql'),
      '-- a comment\nCREATE TABLE IF NOT EXISTS {keyspace}.other (id int PRIMARY KEY);\nALTER TABLE {keyspace}.things ADD IF NOT EXISTS colour text;',
    );
  });
  after(async () => {
    await cassandra.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await cassandra.shutdown();
  });

  it('when run on an empty keyspace, then it applies every file in order and records them', async () => {
    const report = await migrate(cassandra, {
      keyspace,
      replication,
      migrations: readMigrations(folder),
    });
    assert.deepEqual(report.applied, ['001_first.cql', '002_second.cql']);
    const columns = await cassandra.execute(
      'SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?',
      [keyspace, 'things'],
    );
    assert.deepEqual(columns.rows.map((r) => r['column_name']).sort(), ['colour', 'id', 'name']);
  });

  it('when run again, then it is a no-op', async () => {
    const report = await migrate(cassandra, {
      keyspace,
      replication,
      migrations: readMigrations(folder),
    });
    assert.deepEqual(report.applied, []);
    assert.deepEqual(report.alreadyApplied, ['001_first.cql', '002_second.cql']);
  });

  it('when an applied file was changed, then it is refused with a clear error', async () => {
    writeFileSync(
      join(folder, '001_first.cql'),
      'CREATE TABLE IF NOT EXISTS {keyspace}.things (id int PRIMARY KEY, name text, extra int);',
    );
    await assert.rejects(
      migrate(cassandra, { keyspace, replication, migrations: readMigrations(folder) }),
      (error: unknown) =>
        error instanceof MigrationError &&
        /001_first\.cql was changed after it was applied/.test(error.message),
    );
  });

  it('when a CREATE lacks IF NOT EXISTS or a number is skipped, then the files are refused', () => {
    const bad = mkdtempSync(join(tmpdir(), 'fg-migrations-bad-'));
    writeFileSync(join(bad, '001_x.cql'), 'CREATE TABLE {keyspace}.t (id int PRIMARY KEY);');
    assert.throws(() => readMigrations(bad), /IF NOT EXISTS/);
    const gap = mkdtempSync(join(tmpdir(), 'fg-migrations-gap-'));
    writeFileSync(join(gap, '002_x.cql'), 'SELECT now() FROM system.local;');
    assert.throws(() => readMigrations(gap), /expected version 001/);
  });
});
