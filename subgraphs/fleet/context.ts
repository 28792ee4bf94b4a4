/**
 * fleet subgraph: the per-request context — identity plus a fresh set of DataLoaders. The
 * by-id loaders are tenant-scoped: a fleet, robot or mission of another organization loads as
 * null, exactly like an unknown id (permissions.ts), judged on the row the batch read anyway.
 */
import type DataLoader from 'dataloader';
import { tenantScoped } from '../kit/authz/objects.js';
import { createLoader } from '../kit/loaders.js';
import type { BaseContext } from '../kit/server.js';
import { fleetCheck, missionCheck, robotCheck } from './permissions.js';
import { fleetsRepository, type FleetModel } from './repository/fleets.js';
import { missionsRepository, type MissionModel } from './repository/missions.js';
import { robotsRepository, type RobotModel } from './repository/robots.js';

export interface FleetContext extends BaseContext {
  readonly loaders: {
    readonly fleetById: DataLoader<string, FleetModel | null>;
    readonly robotById: DataLoader<string, RobotModel | null>;
    readonly missionById: DataLoader<string, MissionModel | null>;
    /** Robot ids per operator (user id): User.operatedRobots for N users is one batch. */
    readonly robotsByOperator: DataLoader<string, string[] | null>;
    /** Fleet ids per organization: Query.fleets and Organization.fleets. */
    readonly fleetsByOrganization: DataLoader<string, string[] | null>;
  };
}

export function createFleetContext(base: BaseContext): FleetContext {
  const { db, metrics, identity } = base;
  return {
    ...base,
    loaders: {
      fleetById: createLoader(
        'fleetById',
        metrics,
        tenantScoped(identity, fleetCheck, (ids) => fleetsRepository.fleetsById(db, ids)),
      ),
      robotById: createLoader(
        'robotById',
        metrics,
        tenantScoped(identity, robotCheck, (ids) => robotsRepository.robotsById(db, ids)),
      ),
      missionById: createLoader(
        'missionById',
        metrics,
        tenantScoped(identity, missionCheck, (ids) => missionsRepository.missionsById(db, ids)),
      ),
      // Id lists: what they list is loaded through the tenant-scoped loaders above.
      robotsByOperator: createLoader('robotsByOperator', metrics, (ids) =>
        robotsRepository.robotIdsByOperator(db, ids),
      ),
      fleetsByOrganization: createLoader('fleetsByOrganization', metrics, (ids) =>
        fleetsRepository.fleetIdsByOrganization(db, ids),
      ),
    },
  };
}
