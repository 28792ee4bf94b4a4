/**
 * The benchmark's data: its keyspace migrated and the seed loaded (scripts/migrate.ts and
 * `scripts/seed.ts --scale <scale> --if-empty`, run as child processes with
 * CASSANDRA_KEYSPACE set).
 *
 * @remarks
 * Starting those two scripts costs ~10 s on a 2-core machine even when there is nothing to do,
 * so the usual case is checked here first, read-only: every migration file recorded with its
 * checksum, and the seed's own completeness markers present (the scale's last robot — written
 * last — and organization 0's first session, which expires by TTL). Anything missing, and the
 * scripts run and decide for themselves.
 */
import { join } from 'node:path';
import { SCALES, seedIds, type SeedScale } from '../../scripts/seed-ids.js';
import type { CassandraClient } from '../../platform/cassandra/client.js';
import { readMigrations } from '../../platform/cassandra/migrations.js';
import { REPO_ROOT, runToCompletion } from './processes.js';

async function upToDate(
  cassandra: CassandraClient,
  keyspace: string,
  scale: SeedScale,
): Promise<boolean> {
  try {
    const files = readMigrations(join(REPO_ROOT, 'schema/cql'));
    const recorded = await cassandra.execute(
      `SELECT version, checksum FROM ${keyspace}.schema_migrations`,
    );
    const checksums = new Map(recorded.rows.map((row) => [row['version'], row['checksum']]));
    if (!files.every((file) => checksums.get(file.version) === file.checksum)) return false;
    const shape = SCALES[scale];
    const marker = await cassandra.execute(
      `SELECT robot_id FROM ${keyspace}.robots_by_id WHERE robot_id = ?`,
      [
        seedIds.robot(
          shape.organizations - 1,
          shape.fleetsPerOrganization - 1,
          shape.robotsPerFleet - 1,
        ),
      ],
      { prepare: true },
    );
    const session = await cassandra.execute(
      `SELECT session_id FROM ${keyspace}.sessions_by_id WHERE session_id = ?`,
      [seedIds.session(0, 0, 0)],
      { prepare: true },
    );
    return marker.rowLength > 0 && session.rowLength > 0;
  } catch {
    return false; // no keyspace or table yet
  }
}

/** Returns the seconds spent (0 when the data was already in place). */
export async function ensureData(
  cassandra: CassandraClient,
  keyspace: string,
  scale: SeedScale,
): Promise<{ seconds: number; loaded: boolean }> {
  if (await upToDate(cassandra, keyspace, scale)) return { seconds: 0, loaded: false };
  const env = { CASSANDRA_KEYSPACE: keyspace, LOG_LEVEL: 'warn' };
  const started = performance.now();
  await runToCompletion('migrate', 'scripts/migrate.ts', [], env);
  await runToCompletion('seed', 'scripts/seed.ts', ['--scale', scale, '--if-empty'], env);
  return { seconds: Math.round((performance.now() - started) / 100) / 10, loaded: true };
}
