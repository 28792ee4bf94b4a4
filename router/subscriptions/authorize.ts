/**
 * Whether a caller may subscribe (manager.ts step 1): a key restricted to trusted documents
 * sends only registered ones, and the caller can read the fleet or robot it subscribes to —
 * checked by running the query a client would run to read it, with the caller's identity, so
 * the answer is the subgraphs' own authorization and tenant checks, not a second copy of them.
 */
import { GraphQLError } from 'graphql';
import { ErrorCode, notFound } from '../../platform/contract/errors.js';
import { SUBSCRIPTIONS } from '../../platform/events/contract.js';
import type { Authenticated } from '../pipeline/requestState.js';
import type { TrustedDocuments } from '../trustedDocuments.js';
import type { Execute } from './execute.js';
import type { PreparedSubscription, SubscriptionRequest } from './operation.js';

const FLEET_QUERY = 'query SubscriptionFleet($id: ID!) { fleet(id: $id) { id } }';
const ROBOT_QUERY = 'query SubscriptionRobot($id: ID!) { robot(id: $id) { id fleet { id } } }';

/**
 * The request with a registered document's text filled in for a persisted-query hash; null
 * when a key restricted to trusted documents sent one that is not registered.
 */
export function substituteTrustedDocument(
  incoming: { readonly request: SubscriptionRequest; readonly auth: Authenticated },
  trustedDocuments: TrustedDocuments,
): SubscriptionRequest | null {
  const { request, auth } = incoming;
  const hash = (request.extensions?.['persistedQuery'] as { sha256Hash?: unknown } | undefined)
    ?.sha256Hash;
  let query = request.query;
  if (!query && typeof hash === 'string') query = trustedDocuments.textFor(hash) ?? '';
  if (auth.requireTrustedDocuments && !(query && trustedDocuments.isTrusted(query))) return null;
  return { ...request, query };
}

/**
 * Runs the read a client would make to see the subscribed fleet (`fleet(id:)`) or robot
 * (`robot(id:) { fleet { id } }`); resolves the fleet's id, whose stream the subscription
 * reads, or the refusal: the read's errors as they are (UNAUTHENTICATED, FORBIDDEN…), NOT_FOUND
 * when it answered null (unknown, or another organization's: the same answer for both).
 */
export async function authorize(
  execute: Execute,
  auth: Authenticated,
  prepared: PreparedSubscription,
): Promise<string | GraphQLError[]> {
  const robotScoped = SUBSCRIPTIONS[prepared.field].scope === 'robot';
  const result = (
    await execute(
      auth,
      robotScoped ? ROBOT_QUERY : FLEET_QUERY,
      { id: prepared.scopeId },
      undefined,
    )
  )?.result;
  if (!result) return [notFound(robotScoped ? 'Robot' : 'Fleet', prepared.scopeId)];
  if (result.errors?.length)
    return result.errors.map(
      (error) =>
        new GraphQLError(error.message, {
          extensions: { code: error.extensions?.['code'] ?? ErrorCode.INTERNAL_SERVER_ERROR },
        }),
    );
  const data = result.data as
    | { fleet?: { id: string } | null; robot?: { id: string; fleet: { id: string } } | null }
    | undefined;
  if (robotScoped) return data?.robot ? data.robot.fleet.id : [notFound('Robot', prepared.scopeId)];
  return data?.fleet ? data.fleet.id : [notFound('Fleet', prepared.scopeId)];
}
