/** Robots: by id, per operator, registration, status changes and heartbeats. */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { bucketOf } from '../../../platform/cassandra/buckets.js';
import type { Db } from '../../kit/cassandra/db.js';
import { uniqueClaim } from '../../kit/cassandra/uniqueClaim.js';
import { orUnset, type RobotStatus } from './common.js';
import { ROBOT_COLUMNS, toRobot, type RobotModel } from './robotModel.js';
import { robotPagesRepository as pages } from './robotPages.js';

export { ROBOT_COLUMNS, toRobot, type RobotModel } from './robotModel.js';

const SELECT_ROBOTS_IN = `SELECT ${ROBOT_COLUMNS} FROM robots_by_id WHERE robot_id IN ?`;
const SELECT_ROBOT_IDS_OF_OPERATORS =
  'SELECT operator_id, robot_id FROM robots_by_operator WHERE operator_id IN ?';

/**
 * One robot per serial within an organization (robots_by_organization_serial), claimed before
 * the robot's rows are written. Not across organizations: a global claim told one tenant
 * whether another had registered a serial, and let it block serials another had yet to
 * register — there is no way to unregister a robot (security issue 16).
 */
const serials = uniqueClaim({
  table: 'robots_by_organization_serial',
  organizationColumn: 'organization_id',
  valueColumn: 'serial',
  ownerColumn: 'robot_id',
  takenMessage: (serial) => `The serial ${serial} is already registered in this organization`,
});

export const robotsRepository = {
  /**
   * Robots by id, one value/null/Error per key in key order: the robotById loader's batch,
   * as `IN` statements grouped by owning node (see Db.readIn for why).
   *
   * History: one statement per key (now only in bench/baselines/perKeyReads.ts, for
   * bench/loader-strategies.ts) was chosen first, on a single idle batch — 100 robots: 6.2–7.0
   * ms per batch vs 9.2–9.6 ms for one IN. Under load the per-statement cost dominates instead:
   * the dashboard (100 robots) issued 180 statements per request and Cassandra's CPU was the
   * bottleneck; with IN it is 6 (bench/results/results.md).
   */
  robotsById: (db: Db, ids: readonly string[]) =>
    db.readOneIn(SELECT_ROBOTS_IN, ids, (row) => String(row['robot_id']), toRobot),

  /** The ids of the robots each operator operates (one small partition each), in key order. */
  async robotIdsByOperator(db: Db, operatorIds: readonly string[]): Promise<(string[] | Error)[]> {
    const results = await db.readIn(
      SELECT_ROBOT_IDS_OF_OPERATORS,
      operatorIds,
      (row) => String(row['operator_id']),
      (row) => String(row['robot_id']),
    );
    return results;
  },

  /**
   * Registers a robot. The serial is claimed first (kit/cassandra/uniqueClaim.ts); the robot's
   * rows are then written in one logged batch, and if that fails the claim is released, so a
   * rejected mutation leaves nothing. A new robot is OFFLINE: nothing has been heard from it yet.
   */
  async registerRobot(
    db: Db,
    input: {
      organizationId: string;
      fleetId: string;
      serial: string;
      model: string;
      firmware: string | null;
      operatorId: string | null;
    },
  ): Promise<RobotModel> {
    const id = randomUUID();
    const robot: RobotModel = {
      id,
      organizationId: input.organizationId,
      fleetId: input.fleetId,
      serial: input.serial,
      model: input.model,
      status: 'OFFLINE',
      batteryPercent: null,
      firmware: input.firmware,
      lastHeartbeatAt: null,
      latitude: null,
      longitude: null,
      heading: null,
      operatorId: input.operatorId,
      currentMissionId: null,
      registeredAt: new Date(),
    };
    const bucket = bucketOf(id);
    const claim = { organizationId: input.organizationId, value: input.serial };
    await serials.claimFor(db, claim, id, () =>
      db.batch([
        {
          query:
            'INSERT INTO robots_by_id (robot_id, organization_id, fleet_id, serial, model, status, firmware, operator_id, registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          params: [
            id,
            input.organizationId,
            input.fleetId,
            input.serial,
            input.model,
            robot.status,
            orUnset(input.firmware),
            orUnset(input.operatorId),
            robot.registeredAt,
          ],
        },
        pages.insertRow(robot),
        // Still written (no longer read): a subgraph of the previous release lists from it
        // while a deploy rolls.
        {
          query: 'INSERT INTO robots_by_fleet (fleet_id, bucket, robot_id) VALUES (?, ?, ?)',
          params: [input.fleetId, bucket, id],
        },
        {
          query:
            'INSERT INTO robots_by_fleet_status (fleet_id, status, bucket, robot_id) VALUES (?, ?, ?, ?)',
          params: [input.fleetId, robot.status, bucket, id],
        },
        ...(input.operatorId
          ? [
              {
                query: 'INSERT INTO robots_by_operator (operator_id, robot_id) VALUES (?, ?)',
                params: [input.operatorId, id],
              },
            ]
          : []),
      ]),
    );
    return robot;
  },

  /**
   * Sets the status (and battery, when given) in one logged batch with the robot's
   * robots_by_fleet_page row and the move of its robots_by_fleet_status row, so the listings and
   * the robot never disagree for long (this batch existed already: the page row costs no extra
   * batch log).
   * An unchanged status does not move the row: a delete and an insert of the same row in one
   * batch share a timestamp, and then the delete wins.
   * Idempotent (plain upserts and a delete, one client-side timestamp for every attempt): the
   * driver may send it again when its coordinator dies mid-request.
   */
  async updateStatus(
    db: Db,
    current: RobotModel,
    status: RobotStatus,
    batteryPercent: number | null,
  ): Promise<RobotModel> {
    const bucket = bucketOf(current.id);
    await db.batch(
      [
        {
          // An unset battery leaves the column as it is (rather than rewriting what we read).
          query: 'UPDATE robots_by_id SET status = ?, battery_percent = ? WHERE robot_id = ?',
          params: [status, orUnset(batteryPercent), current.id],
        },
        pages.updateStatus(current, status, batteryPercent),
        ...(status === current.status
          ? []
          : [
              {
                query:
                  'DELETE FROM robots_by_fleet_status WHERE fleet_id = ? AND status = ? AND bucket = ? AND robot_id = ?',
                params: [current.fleetId, current.status, bucket, current.id],
              },
              {
                query:
                  'INSERT INTO robots_by_fleet_status (fleet_id, status, bucket, robot_id) VALUES (?, ?, ?, ?)',
                params: [current.fleetId, status, bucket, current.id],
              },
            ]),
      ],
      { idempotent: true },
    );
    return { ...current, status, batteryPercent: batteryPercent ?? current.batteryPercent };
  },

  /**
   * Records the newest telemetry sample as the robot's heartbeat. Values the sample does not
   * carry are left unset, so the columns keep what they hold; a new position drops the old
   * heading, which described the old one (samples carry no heading).
   *
   * robots_by_id and robots_by_fleet_page are two idempotent upserts in one unlogged batch, not
   * a logged batch: heartbeats are the most frequent write, a logged batch would add a batch
   * log on two other replicas to each and, while a dead node is not yet convicted, cannot
   * succeed at all (docs/cassandra-cluster.md: ~20 s of BATCH_LOG timeouts); and a page row
   * left behind by a failed half is overwritten by the robot's next heartbeat (the mutation
   * fails, so the router purges everything: subgraphClient's unknown outcome).
   */
  async recordHeartbeat(
    db: Db,
    current: RobotModel,
    sample: {
      recordedAt: Date;
      batteryPercent: number | null;
      latitude: number | null;
      longitude: number | null;
    },
  ): Promise<RobotModel> {
    const moved = sample.latitude !== null && sample.longitude !== null;
    const values = [
      sample.recordedAt,
      orUnset(sample.batteryPercent),
      moved ? sample.latitude : cassandra.types.unset,
      moved ? sample.longitude : cassandra.types.unset,
      moved ? null : cassandra.types.unset,
    ];
    // One request for both rows: an unlogged batch is no more atomic than two statements (no
    // batch log; either mutation may land alone, as above), but it is one round trip and one
    // request for Cassandra to schedule instead of two — on the node, each request costs its
    // threads' wake-ups more than its rows (docs/subscriptions.md, "Capacity"), and this is the
    // most frequent write. On a cluster the coordinator forwards the second row to its
    // replicas, the hop the driver's token-aware routing saved: one small row.
    await db.batch(
      [
        {
          query:
            'UPDATE robots_by_id SET last_heartbeat_at = ?, battery_percent = ?, latitude = ?, longitude = ?, heading = ? WHERE robot_id = ?',
          params: [...values, current.id],
        },
        pages.updateHeartbeat(current, values),
      ],
      { logged: false, idempotent: true },
    );
    return {
      ...current,
      lastHeartbeatAt: sample.recordedAt,
      batteryPercent: sample.batteryPercent ?? current.batteryPercent,
      ...(moved ? { latitude: sample.latitude, longitude: sample.longitude, heading: null } : {}),
    };
  },

  /**
   * Points the robot at a new current mission, only if its current mission is still `expected`
   * (null: none). A lightweight transaction, because two concurrent assignMission calls must not
   * both succeed. Returns whether the robot was claimed.
   *
   * The page row follows as a separate write once the claim is applied: a conditional update
   * cannot share a batch with another partition, and a lightweight transaction on the fleet's
   * page partition would contend with every other robot of the fleet (Paxos is per partition).
   */
  async claimForMission(
    db: Db,
    robot: Pick<RobotModel, 'id' | 'fleetId'>,
    missionId: string,
    expected: string | null,
  ): Promise<boolean> {
    const result = await db.execute(
      'UPDATE robots_by_id SET current_mission_id = ? WHERE robot_id = ? IF current_mission_id = ?',
      [missionId, robot.id, expected],
      { write: true },
    );
    if (!result.wasApplied()) return false;
    await pages.setMission(db, robot, missionId, 'IN_PROGRESS');
    return true;
  },

  /**
   * Frees the robot if `missionId` is still its current mission (a lightweight transaction),
   * then clears the page row's mission (as for {@link claimForMission}). Returns whether it was
   * freed.
   */
  async releaseFromMission(
    db: Db,
    robot: Pick<RobotModel, 'id' | 'fleetId'>,
    missionId: string,
  ): Promise<boolean> {
    const result = await db.execute(
      'UPDATE robots_by_id SET current_mission_id = null WHERE robot_id = ? IF current_mission_id = ?',
      [robot.id, missionId],
      { write: true },
    );
    if (!result.wasApplied()) return false;
    await pages.setMission(db, robot, null, null);
    return true;
  },
};
