/** Missions: by id, the paged history of a robot, creation and completion. */
import cassandra from 'cassandra-driver';
import type { Db } from '../../kit/cassandra/db.js';
import { pageAcrossBuckets, type CursorCodec, type Page } from '../../kit/cassandra/pagination.js';
import { fromUuid, isTimeUuid, type MissionOutcome, type MissionStatus } from './common.js';

export interface MissionModel {
  readonly id: string;
  readonly robotId: string;
  readonly organizationId: string;
  readonly status: MissionStatus;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
  readonly steps: string[];
}

const SELECT_MISSION =
  'SELECT mission_id, robot_id, organization_id, status, created_by, created_at, completed_at, steps FROM missions_by_id WHERE mission_id IN ?';
const SELECT_MISSIONS_OF_ROBOT =
  'SELECT mission_id FROM missions_by_robot WHERE robot_id = ? AND year = ?';
const INSERT_MISSION =
  'INSERT INTO missions_by_id (mission_id, robot_id, organization_id, status, created_by, created_at, steps) VALUES (?, ?, ?, ?, ?, ?, ?)';
const INSERT_MISSION_OF_ROBOT =
  'INSERT INTO missions_by_robot (robot_id, year, mission_id, status) VALUES (?, ?, ?, ?)';

function toMission(row: cassandra.types.Row): MissionModel {
  return {
    id: String(row['mission_id']),
    robotId: String(row['robot_id']),
    organizationId: String(row['organization_id']),
    status: row['status'],
    createdBy: fromUuid(row['created_by']) ?? '',
    createdAt: row['created_at'],
    completedAt: row['completed_at'] ?? null,
    steps: (row['steps'] as string[] | null) ?? [],
  };
}

/** The year partitions of a robot's history, newest first: this UTC year back to registration. */
function yearsOf(registeredAt: Date, now = new Date()): number[] {
  const newest = now.getUTCFullYear();
  const oldest = Math.min(registeredAt.getUTCFullYear(), newest);
  return Array.from({ length: newest - oldest + 1 }, (_, i) => newest - i);
}

export const missionsRepository = {
  /** Missions by id, in key order. An id that is not a timeuuid cannot exist and is not read. */
  async missionsById(db: Db, ids: readonly string[]): Promise<(MissionModel | null | Error)[]> {
    const readable = ids.filter(isTimeUuid);
    const found = await db.readOneIn(
      SELECT_MISSION,
      readable,
      (row) => String(row['mission_id']),
      toMission,
    );
    const byId = new Map(readable.map((id, i) => [id, found[i] ?? null]));
    return ids.map((id) => byId.get(id) ?? null);
  },

  /** One page of a robot's mission ids, newest first, walking its year partitions backwards. */
  async missionIdsOfRobot(
    db: Db,
    codec: CursorCodec,
    robot: { id: string; registeredAt: Date },
    first: number,
    after: string | null | undefined,
  ): Promise<Page<string>> {
    const page = await pageAcrossBuckets({
      db,
      codec,
      fingerprint: `robot-missions:${robot.id}`,
      cql: SELECT_MISSIONS_OF_ROBOT,
      buckets: yearsOf(robot.registeredAt),
      paramsFor: (year) => [robot.id, year],
      first,
      after,
    });
    return { ...page, rows: page.rows.map((row) => String(row['mission_id'])) };
  },

  /**
   * Writes a new IN_PROGRESS mission (missions_by_id and the robot's year partition) in one
   * logged batch. Its id is a timeuuid, so the robot's history sorts by creation time.
   */
  async createMission(
    db: Db,
    input: { robotId: string; organizationId: string; createdBy: string; steps: string[] },
  ): Promise<MissionModel> {
    const timeuuid = cassandra.types.TimeUuid.now();
    const mission: MissionModel = {
      id: timeuuid.toString(),
      robotId: input.robotId,
      organizationId: input.organizationId,
      status: 'IN_PROGRESS',
      createdBy: input.createdBy,
      createdAt: timeuuid.getDate(),
      completedAt: null,
      steps: input.steps,
    };
    await db.batch([
      {
        query: INSERT_MISSION,
        params: [
          mission.id,
          mission.robotId,
          mission.organizationId,
          mission.status,
          mission.createdBy,
          mission.createdAt,
          mission.steps,
        ],
      },
      {
        query: INSERT_MISSION_OF_ROBOT,
        params: [mission.robotId, yearOf(mission), mission.id, mission.status],
      },
    ]);
    return mission;
  },

  /** Removes a mission that never became its robot's current one (assignMission lost a race). */
  async deleteMission(db: Db, mission: MissionModel): Promise<void> {
    await db.batch([
      { query: 'DELETE FROM missions_by_id WHERE mission_id = ?', params: [mission.id] },
      {
        query: 'DELETE FROM missions_by_robot WHERE robot_id = ? AND year = ? AND mission_id = ?',
        params: [mission.robotId, yearOf(mission), mission.id],
      },
    ]);
  },

  /** Ends a mission: its status in both tables and completed_at, in one logged batch. */
  async finishMission(
    db: Db,
    mission: MissionModel,
    outcome: MissionOutcome,
  ): Promise<MissionModel> {
    const completedAt = new Date();
    await db.batch([
      {
        query: 'UPDATE missions_by_id SET status = ?, completed_at = ? WHERE mission_id = ?',
        params: [outcome, completedAt, mission.id],
      },
      {
        query:
          'UPDATE missions_by_robot SET status = ? WHERE robot_id = ? AND year = ? AND mission_id = ?',
        params: [outcome, mission.robotId, yearOf(mission), mission.id],
      },
    ]);
    return { ...mission, status: outcome, completedAt };
  },
};

function yearOf(mission: MissionModel): number {
  return mission.createdAt.getUTCFullYear();
}
