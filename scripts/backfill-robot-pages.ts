/**
 * `node --import tsx scripts/backfill-robot-pages.ts`: copies every robot of robots_by_id, with
 * its current mission's status (missions_by_id), into robots_by_fleet_page (migration 008).
 * `npm run db:migrate` runs it when it applies migration 008; by hand, a re-run changes nothing.
 *
 * @remarks
 * Each column is written with the write time it has in the source (`USING TIMESTAMP` of its
 * `WRITETIME`), so the copy merges by last write wins, column by column: a value a subgraph wrote
 * to the page meanwhile (newer) is never overwritten, and a value only the source has (written
 * by a subgraph of the previous release during the deploy) is taken — a re-run after the deploy
 * catches those up. Null columns are skipped (unset): nothing to merge from a deleted cell.
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

/** The columns copied from robots_by_id (robot_id and fleet_id are the page's key). */
const COLUMNS = [
  'organization_id',
  'serial',
  'model',
  'status',
  'battery_percent',
  'firmware',
  'last_heartbeat_at',
  'latitude',
  'longitude',
  'heading',
  'operator_id',
  'current_mission_id',
  'registered_at',
] as const;
const PAGE_SIZE = 500;

type Cell = { column: string; value: unknown; writetime: cassandra.types.Long };

/** One UPDATE per distinct write time of a robot's cells (registration's share one). */
function updatesOf(keyspace: string, fleetId: unknown, robotId: unknown, cells: Cell[]) {
  const byTime = new Map<string, Cell[]>();
  for (const cell of cells) {
    const key = cell.writetime.toString();
    byTime.set(key, [...(byTime.get(key) ?? []), cell]);
  }
  return [...byTime.values()].map((group) => ({
    query: `UPDATE ${keyspace}.robots_by_fleet_page USING TIMESTAMP ? SET ${group
      .map((c) => `${c.column} = ?`)
      .join(', ')} WHERE fleet_id = ? AND robot_id = ?`,
    params: [group[0]!.writetime, ...group.map((c) => c.value), fleetId, robotId],
  }));
}

/** The status and its write time of each current mission, by mission id. */
async function missionStatuses(
  client: CassandraClient,
  keyspace: string,
  missionIds: string[],
): Promise<Map<string, Cell>> {
  const found = new Map<string, Cell>();
  for (let i = 0; i < missionIds.length; i += 100) {
    const result = await client.execute(
      `SELECT mission_id, status, WRITETIME(status) AS wt FROM ${keyspace}.missions_by_id WHERE mission_id IN ?`,
      [missionIds.slice(i, i + 100)],
      { prepare: true },
    );
    for (const row of result.rows)
      if (row['status'] != null)
        found.set(String(row['mission_id']), {
          column: 'current_mission_status',
          value: row['status'],
          writetime: row['wt'],
        });
  }
  return found;
}

/** Copies the robots; returns the rows copied. */
export async function backfillRobotPages(
  client: CassandraClient,
  keyspace: string,
): Promise<Record<string, number>> {
  const source = `SELECT robot_id, fleet_id, ${COLUMNS.join(', ')}, ${COLUMNS.map(
    (c) => `WRITETIME(${c}) AS wt_${c}`,
  ).join(', ')} FROM ${keyspace}.robots_by_id`;
  let copied = 0;
  let pageState: string | undefined;
  do {
    const page = await client.execute(source, [], {
      prepare: true,
      fetchSize: PAGE_SIZE,
      ...(pageState ? { pageState } : {}),
    });
    const missionIds = page.rows
      .map((row) => row['current_mission_id'])
      .filter((id) => id != null)
      .map(String);
    const missions = await missionStatuses(client, keyspace, missionIds);
    const updates = page.rows.flatMap((row) => {
      const cells: Cell[] = COLUMNS.filter((c) => row[c] != null).map((column) => ({
        column,
        value: row[column],
        writetime: row[`wt_${column}`],
      }));
      const mission = missions.get(String(row['current_mission_id']));
      return updatesOf(
        keyspace,
        row['fleet_id'],
        row['robot_id'],
        mission ? [...cells, mission] : cells,
      );
    });
    await cassandra.concurrent.executeConcurrent(client, updates, {
      concurrencyLevel: 32,
      executionProfile: WRITE_PROFILE,
    });
    copied += page.rows.length;
    pageState = page.pageState ?? undefined;
  } while (pageState);
  return { robots_by_fleet_page: copied };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  runMain(async () => {
    const config = loadToolConfig();
    const client = await connectCassandra(config);
    try {
      const copied = await backfillRobotPages(client, config.cassandra.keyspace);
      for (const [table, rows] of Object.entries(copied))
        console.log(`[backfill] ${table}: ${rows} rows`);
    } finally {
      await client.shutdown();
    }
  });
