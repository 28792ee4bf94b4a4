/**
 * robots_by_fleet_page (migration 008): a fleet's robots as one partition clustered by robot id,
 * each row a whole robot plus its current mission's status — Fleet.robots without a status is
 * one slice of one partition. The statements here keep it in step with robots_by_id; which
 * write goes in a logged batch and which alone is decided by the callers (robots.ts, and
 * docs/caching.md "robots_by_fleet_page").
 */
import type cassandra from 'cassandra-driver';
import type { Db } from '../../kit/cassandra/db.js';
import { pageAcrossBuckets, type CursorCodec, type Page } from '../../kit/cassandra/pagination.js';
import { orUnset, type MissionStatus } from './common.js';
import { ROBOT_COLUMNS, toRobot, type RobotModel } from './robotModel.js';

/** A robot as a fleet listing reads it: with its current mission's status (null: none). */
export interface ListedRobot extends RobotModel {
  readonly currentMissionStatus: MissionStatus | null;
}

const SELECT_PAGE = `SELECT ${ROBOT_COLUMNS}, current_mission_status FROM robots_by_fleet_page WHERE fleet_id = ?`;
const INSERT_ROW =
  'INSERT INTO robots_by_fleet_page (fleet_id, robot_id, organization_id, serial, model, status, firmware, operator_id, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const UPDATE_STATUS =
  'UPDATE robots_by_fleet_page SET status = ?, battery_percent = ? WHERE fleet_id = ? AND robot_id = ?';
const UPDATE_HEARTBEAT =
  'UPDATE robots_by_fleet_page SET last_heartbeat_at = ?, battery_percent = ?, latitude = ?, longitude = ?, heading = ? WHERE fleet_id = ? AND robot_id = ?';
const UPDATE_MISSION =
  'UPDATE robots_by_fleet_page SET current_mission_id = ?, current_mission_status = ? WHERE fleet_id = ? AND robot_id = ?';

function toListedRobot(row: cassandra.types.Row): ListedRobot {
  return { ...toRobot(row), currentMissionStatus: row['current_mission_status'] ?? null };
}

type Statement = { query: string; params: readonly unknown[] };

export const robotPagesRepository = {
  /**
   * One page of a fleet's robots in robot id order: one statement, one partition, resumed by the
   * driver's paging state (the cursor is bound to this table, so a cursor of the bucketed
   * listing is refused rather than misread).
   */
  async robotsOfFleet(
    db: Db,
    codec: CursorCodec,
    fleetId: string,
    first: number,
    after: string | null | undefined,
  ): Promise<Page<ListedRobot>> {
    const page = await pageAcrossBuckets({
      db,
      codec,
      fingerprint: `fleet-robot-page:${fleetId}`,
      cql: SELECT_PAGE,
      buckets: [fleetId],
      paramsFor: () => [fleetId],
      first,
      after,
    });
    return { ...page, rows: page.rows.map(toListedRobot) };
  },

  /** A new robot's row (registerRobot's logged batch): values it does not have stay unset. */
  insertRow(robot: RobotModel): Statement {
    return {
      query: INSERT_ROW,
      params: [
        robot.fleetId,
        robot.id,
        robot.organizationId,
        robot.serial,
        robot.model,
        robot.status,
        orUnset(robot.firmware),
        orUnset(robot.operatorId),
        robot.registeredAt,
      ],
    };
  },

  /** updateRobotStatus's change (its logged batch): an unset battery is left as it is. */
  updateStatus(robot: RobotModel, status: string, battery: number | null): Statement {
    return { query: UPDATE_STATUS, params: [status, orUnset(battery), robot.fleetId, robot.id] };
  },

  /** A heartbeat's columns, bound like robots_by_id's (robots.ts recordHeartbeat). */
  updateHeartbeat(robot: RobotModel, values: readonly unknown[]): Statement {
    return { query: UPDATE_HEARTBEAT, params: [...values, robot.fleetId, robot.id] };
  },

  /** Sets (or, with nulls, clears) the robot's current mission and its status. */
  async setMission(
    db: Db,
    robot: { fleetId: string; id: string },
    missionId: string | null,
    status: MissionStatus | null,
  ): Promise<void> {
    await db.execute(UPDATE_MISSION, [missionId, status, robot.fleetId, robot.id], {
      write: true,
      idempotent: true,
    });
  },
};
