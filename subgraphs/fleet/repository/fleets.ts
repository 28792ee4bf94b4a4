/** Fleets: by id, per organization, and the paged robot ids of one fleet. */
import type cassandra from 'cassandra-driver';
import { ALL_BUCKETS } from '../../../platform/cassandra/buckets.js';
import type { Db } from '../../kit/cassandra/db.js';
import {
  pageBucketsTogether,
  type CursorCodec,
  type Page,
} from '../../kit/cassandra/pagination.js';
import type { RobotStatus } from './common.js';

export interface FleetModel {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly site: string | null;
  readonly timezone: string | null;
  readonly createdAt: Date;
}

const SELECT_FLEET =
  'SELECT fleet_id, organization_id, name, site, timezone, created_at FROM fleets_by_id WHERE fleet_id IN ?';
const SELECT_FLEET_IDS_OF_ORGANIZATION =
  'SELECT organization_id, fleet_id FROM fleets_by_organization WHERE organization_id IN ?';
const SELECT_ROBOTS_OF_FLEET =
  'SELECT robot_id FROM robots_by_fleet WHERE fleet_id = ? AND bucket IN ?';
const SELECT_ROBOTS_OF_FLEET_IN_STATUS =
  'SELECT robot_id FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket IN ?';

function toFleet(row: cassandra.types.Row): FleetModel {
  return {
    id: String(row['fleet_id']),
    organizationId: String(row['organization_id']),
    name: row['name'],
    site: row['site'] ?? null,
    timezone: row['timezone'] ?? null,
    createdAt: row['created_at'],
  };
}

export const fleetsRepository = {
  fleetsById: (db: Db, ids: readonly string[]) =>
    db.readOneIn(SELECT_FLEET, ids, (row) => String(row['fleet_id']), toFleet),

  /** The fleet ids of each organization (one small partition each), in key order. */
  async fleetIdsByOrganization(
    db: Db,
    organizationIds: readonly string[],
  ): Promise<(string[] | Error)[]> {
    return db.readIn(
      SELECT_FLEET_IDS_OF_ORGANIZATION,
      organizationIds,
      (row) => String(row['organization_id']),
      (row) => String(row['fleet_id']),
    );
  },

  /** One page of a fleet's robot ids (optionally of one status), its 16 buckets read together. */
  async robotIdsOfFleet(
    db: Db,
    codec: CursorCodec,
    fleetId: string,
    status: RobotStatus | null,
    first: number,
    after: string | null | undefined,
  ): Promise<Page<string>> {
    const page = await pageBucketsTogether({
      db,
      codec,
      fingerprint: `fleet-robots:${fleetId}:${status ?? 'all'}`,
      cql: status ? SELECT_ROBOTS_OF_FLEET_IN_STATUS : SELECT_ROBOTS_OF_FLEET,
      buckets: ALL_BUCKETS,
      paramsFor: (buckets) => (status ? [fleetId, status, buckets] : [fleetId, buckets]),
      first,
      after,
    });
    return { ...page, rows: page.rows.map((row) => String(row['robot_id'])) };
  },
};
