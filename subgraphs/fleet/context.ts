/**
 * fleet subgraph: the per-request context — identity, a fresh set of DataLoaders and the
 * server's change events (events.ts). The
 * by-id loaders are tenant-scoped: a fleet, robot or mission of another organization loads as
 * null, exactly like an unknown id (permissions.ts), judged on the row the batch read anyway.
 */
import { loaderTable, withLoaders, type LoadersOf } from '../kit/loaderTable.js';
import type { BaseContext } from '../kit/server.js';
import { fleetEventsOf, type FleetEvents } from './events.js';
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
  /** The change events: published after writes, read by the event fields (events.ts). */
  readonly events: FleetEvents;
}

const withFleetLoaders = withLoaders(fleetLoaders);

export function createFleetContext(base: BaseContext): FleetContext {
  return { ...withFleetLoaders(base), events: fleetEventsOf(base) };
}
