/** The Robot model and its mapping from a robots_by_id (or robots_by_fleet_page) row. */
import type cassandra from 'cassandra-driver';
import { fromFloat, fromUuid, type RobotStatus } from './common.js';

export interface RobotModel {
  readonly id: string;
  readonly organizationId: string;
  readonly fleetId: string;
  readonly serial: string;
  readonly model: string;
  readonly status: RobotStatus;
  readonly batteryPercent: number | null;
  readonly firmware: string | null;
  readonly lastHeartbeatAt: Date | null;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly heading: number | null;
  readonly operatorId: string | null;
  readonly currentMissionId: string | null;
  readonly registeredAt: Date;
}

/** Every column of robots_by_id that {@link toRobot} maps. */
export const ROBOT_COLUMNS =
  'robot_id, organization_id, fleet_id, serial, model, status, battery_percent, firmware, last_heartbeat_at, latitude, longitude, heading, operator_id, current_mission_id, registered_at';

/** A robots_by_id row as the model resolvers see. */
export function toRobot(row: cassandra.types.Row): RobotModel {
  return {
    id: String(row['robot_id']),
    organizationId: String(row['organization_id']),
    fleetId: String(row['fleet_id']),
    serial: row['serial'],
    model: row['model'],
    status: row['status'],
    batteryPercent: fromFloat(row['battery_percent']),
    firmware: row['firmware'] ?? null,
    lastHeartbeatAt: row['last_heartbeat_at'] ?? null,
    latitude: row['latitude'] ?? null,
    longitude: row['longitude'] ?? null,
    heading: fromFloat(row['heading']),
    operatorId: fromUuid(row['operator_id']),
    currentMissionId: fromUuid(row['current_mission_id']),
    registeredAt: row['registered_at'],
  };
}
