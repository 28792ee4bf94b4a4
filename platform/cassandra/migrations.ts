/**
 * CQL migration runner.
 *
 * @remarks
 * Migrations are the files `schema/cql/NNN_name.cql`, applied in numeric order. Each applied
 * file is recorded in `<keyspace>.schema_migrations` with a SHA-256 of its text, so:
 * - a re-run is a no-op;
 * - an applied file whose text changed is refused (change the schema with a new file instead);
 * - a gap or duplicate number is refused.
 *
 * Cassandra DDL is not transactional: a file that fails half-way leaves its earlier statements
 * applied and is not recorded. Every statement therefore uses `IF NOT EXISTS` (a convention the
 * runner checks), so fixing the file and re-running completes it.
 *
 * The keyspace itself is created here, not in a file, because its replication differs per
 * environment (CASSANDRA_REPLICATION).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CassandraClient } from './client.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Reads and validates the migration files of a folder, ordered by version. */
export function readMigrations(directory: string): Migration[] {
  const files = readdirSync(directory)
    .filter((file) => file.endsWith('.cql'))
    .sort();
  const migrations = files.map((file) => {
    const match = /^(\d{3})_([a-z0-9_]+)\.cql$/.exec(file);
    if (!match) throw new MigrationError(`Migration file ${file} must be named NNN_name.cql`);
    const text = readFileSync(join(directory, file), 'utf8');
    const statements = splitStatements(text);
    for (const statement of statements) {
      if (
        /^\s*(CREATE\s|ALTER\s+TABLE\s+\S+\s+ADD\s)/i.test(statement) &&
        !/IF NOT EXISTS/i.test(statement)
      ) {
        throw new MigrationError(
          `${file}: every CREATE and ALTER TABLE … ADD must say IF NOT EXISTS so a failed run can be resumed`,
        );
      }
    }
    return {
      version: Number(match[1]),
      name: file,
      checksum: createHash('sha256').update(text).digest('hex'),
      statements,
    };
  });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationError(
        `Migration ${migration.name} breaks the sequence: expected version ${String(index + 1).padStart(3, '0')}`,
      );
    }
  });
  return migrations;
}

/** Splits a CQL file into statements, dropping `--` and `//` comments. */
export function splitStatements(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/(--|\/\/).*$/, ''))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim().replace(/\s+/g, ' '))
    .filter((statement) => statement.length > 0);
}

export interface MigrationReport {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

/**
 * Creates the keyspace if needed and applies every migration not yet recorded.
 * The client must not be bound to the keyspace (it may not exist yet).
 */
export async function migrate(
  client: CassandraClient,
  options: {
    keyspace: string;
    replication: Readonly<Record<string, string>>;
    migrations: readonly Migration[];
  },
): Promise<MigrationReport> {
  const { keyspace } = options;
  const replication = Object.entries(options.replication)
    .map(([key, value]) => `'${key}': '${value}'`)
    .join(', ');
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {${replication}}`,
  );
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations (
       version int PRIMARY KEY, name text, checksum text, applied_at timestamp)`,
  );
  const recorded = new Map<number, { name: string; checksum: string }>();
  const rows = await client.execute(
    `SELECT version, name, checksum FROM ${keyspace}.schema_migrations`,
  );
  for (const row of rows.rows)
    recorded.set(row['version'] as number, { name: row['name'], checksum: row['checksum'] });

  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const migration of options.migrations) {
    const previous = recorded.get(migration.version);
    if (previous) {
      if (previous.checksum !== migration.checksum || previous.name !== migration.name) {
        throw new MigrationError(
          `Migration ${migration.name} was changed after it was applied as ${previous.name} ` +
            `(checksum ${previous.checksum.slice(0, 12)} != ${migration.checksum.slice(0, 12)}); ` +
            `restore it and put the change in a new migration`,
        );
      }
      report.alreadyApplied.push(migration.name);
      continue;
    }
    for (const statement of migration.statements) {
      // Unqualified table names resolve to the target keyspace.
      await client.execute(statement.replace(/\{keyspace\}/g, keyspace));
    }
    await client.execute(
      `INSERT INTO ${keyspace}.schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, toTimestamp(now()))`,
      [migration.version, migration.name, migration.checksum],
      { prepare: true },
    );
    report.applied.push(migration.name);
  }
  return report;
}
