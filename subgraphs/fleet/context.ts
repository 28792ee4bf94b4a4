/**
 * fleet subgraph: the per-request context — identity plus a fresh set of DataLoaders. The
 * by-id loaders are tenant-scoped: a fleet, robot or mission of another organization loads as
 * null, exactly like an unknown id (permissions.ts), judged on the row the batch read anyway.
 */
import { loaderTable, withLoaders, type LoadersOf } from '../kit/loaderTable.js';
import type { BaseContext } from '../kit/server.js';
import { fleetCheck, missionCheck, robotCheck } from './permissions.js';
import { fleetsRepository } from './repository/fleets.js';
import { missionsRepository } from './repository/missions.js';
import { robotsRepository } from './repository/robots.js';

const fleetLoaders = loaderTable({
  fleetById: { check: fleetCheck, fetch: fleetsRepository.fleetsById },
  robotById: { check: robotCheck, fetch: robotsRepository.robotsById },
  missionById: { check: missionCheck, fetch: missionsRepository.missionsById },
  // Id lists: what they list is loaded through the tenant-scoped loaders above.
  /** Robot ids per operator (user id): User.operatedRobots for N users is one batch. */
  robotsByOperator: { fetch: robotsRepository.robotIdsByOperator },
  /** Fleet ids per organization: Query.fleets and Organization.fleets. */
  fleetsByOrganization: { fetch: fleetsRepository.fleetIdsByOrganization },
});

export interface FleetContext extends BaseContext {
  readonly loaders: LoadersOf<typeof fleetLoaders>;
}

export const createFleetContext: (base: BaseContext) => FleetContext = withLoaders(fleetLoaders);
