/** fleet subgraph: the per-request context — identity plus a fresh set of DataLoaders. */
import type DataLoader from 'dataloader';
import { createLoader } from '../shared/loaders.js';
import type { BaseContext } from '../shared/server.js';
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
  const { db, metrics } = base;
  return {
    ...base,
    loaders: {
      fleetById: createLoader('fleetById', metrics, (ids) => fleetsRepository.fleetsById(db, ids)),
      robotById: createLoader('robotById', metrics, (ids) => robotsRepository.robotsById(db, ids)),
      missionById: createLoader('missionById', metrics, (ids) =>
        missionsRepository.missionsById(db, ids),
      ),
      robotsByOperator: createLoader('robotsByOperator', metrics, (ids) =>
        robotsRepository.robotIdsByOperator(db, ids),
      ),
      fleetsByOrganization: createLoader('fleetsByOrganization', metrics, (ids) =>
        fleetsRepository.fleetIdsByOrganization(db, ids),
      ),
    },
  };
}
