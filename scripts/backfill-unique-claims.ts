/**
 * `node --import tsx scripts/backfill-unique-claims.ts`: copies every existing user's email and
 * robot's serial into the per-organization uniqueness tables of migration 006
 * (users_by_organization_email, robots_by_organization_serial). `npm run db:migrate` runs it
 * when it applies migration 006, so a keyspace that already held users or robots gets their
 * claims in the same step (a data migration the CQL cannot express); by hand, a re-run changes
 * nothing.
 *
 * @remarks
 * Each row is claimed with `IF NOT EXISTS`, like the subgraphs do, so a claim a subgraph took
 * meanwhile is never overwritten. The old global tables could not hold one value twice, so no
 * organization can hold one twice either: nothing here can conflict except with itself.
 */
import cassandra from 'cassandra-driver';
import { pathToFileURL } from 'node:url';
import { loadToolConfig } from '../platform/config/load.js';
import {
  connectCassandra,
  WRITE_PROFILE,
  type CassandraClient,
} from '../platform/cassandra/client.js';
import { runMain } from '../platform/startup.js';

const TABLES = [
  {
    source: 'SELECT organization_id, email, user_id FROM {keyspace}.users_by_id',
    target:
      'INSERT INTO {keyspace}.users_by_organization_email (organization_id, email, user_id) VALUES (?, ?, ?) IF NOT EXISTS',
    columns: ['organization_id', 'email', 'user_id'],
  },
  {
    source: 'SELECT organization_id, serial, robot_id FROM {keyspace}.robots_by_id',
    target:
      'INSERT INTO {keyspace}.robots_by_organization_serial (organization_id, serial, robot_id) VALUES (?, ?, ?) IF NOT EXISTS',
    columns: ['organization_id', 'serial', 'robot_id'],
  },
] as const;

async function backfill(
  client: CassandraClient,
  keyspace: string,
  table: (typeof TABLES)[number],
): Promise<number> {
  const source = table.source.replace('{keyspace}', keyspace);
  const target = table.target.replace('{keyspace}', keyspace);
  let copied = 0;
  let pageState: string | undefined;
  do {
    const page = await client.execute(source, [], {
      prepare: true,
      fetchSize: 1000,
      ...(pageState ? { pageState } : {}),
    });
    const params = page.rows
      .map((row) => table.columns.map((column) => row[column] as unknown))
      .filter((values) => values.every((value) => value != null));
    await cassandra.concurrent.executeConcurrent(client, target, params, {
      concurrencyLevel: 32,
      executionProfile: WRITE_PROFILE,
    });
    copied += params.length;
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return copied;
}

/** Copies the claims; returns the rows copied per target table. */
export async function backfillUniqueClaims(
  client: CassandraClient,
  keyspace: string,
): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  for (const table of TABLES)
    copied[table.target.split(' ')[2]!.replace('{keyspace}.', '')] = await backfill(
      client,
      keyspace,
      table,
    );
  return copied;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  runMain(async () => {
    const config = loadToolConfig();
    const client = await connectCassandra(config);
    try {
      const copied = await backfillUniqueClaims(client, config.cassandra.keyspace);
      for (const [table, rows] of Object.entries(copied))
        console.log(`[backfill] ${table}: ${rows} rows`);
    } finally {
      await client.shutdown();
    }
  });
