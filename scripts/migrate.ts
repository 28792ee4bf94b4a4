/**
 * `npm run db:migrate`: creates the keyspace (CASSANDRA_REPLICATION) and applies the CQL files
 * of schema/cql in order. A re-run is a no-op; a changed applied file is refused.
 */
import { fileURLToPath } from 'node:url';
import { loadToolConfig } from '../platform/config/load.js';
import { connectCassandra } from '../platform/cassandra/client.js';
import { migrate, MigrationError, readMigrations } from '../platform/cassandra/migrations.js';
import { runMain, StartupError } from '../platform/startup.js';
import { backfillActiveSessions } from './backfill-active-sessions.js';
import { backfillRobotPages } from './backfill-robot-pages.js';
import { backfillUniqueClaims } from './backfill-unique-claims.js';

/** Data steps that go with a schema migration: run once, right after it is applied. */
const DATA_STEPS: Readonly<Record<string, typeof backfillUniqueClaims>> = {
  '006_unique_per_organization': backfillUniqueClaims,
  '008_robots_by_fleet_page': backfillRobotPages,
  '009_active_sessions_by_user': backfillActiveSessions,
};

runMain(async () => {
  const config = loadToolConfig();
  const migrations = readMigrations(fileURLToPath(new URL('../schema/cql/', import.meta.url)));
  const client = await connectCassandra(config, { withKeyspace: false });
  try {
    const report = await migrate(client, {
      keyspace: config.cassandra.keyspace,
      replication: config.cassandra.replication,
      migrations,
    });
    console.log(
      `[migrate] keyspace ${config.cassandra.keyspace}: applied ${report.applied.length} (${report.applied.join(', ') || 'none'}), ` +
        `${report.alreadyApplied.length} already applied`,
    );
    for (const name of report.applied) {
      const step = DATA_STEPS[name.replace(/\.cql$/, '')];
      if (!step) continue;
      const copied = await step(client, config.cassandra.keyspace);
      console.log(`[migrate] ${name} data step: ${JSON.stringify(copied)}`);
    }
  } catch (error) {
    if (error instanceof MigrationError) throw new StartupError(error.message);
    throw error;
  } finally {
    await client.shutdown();
  }
});
