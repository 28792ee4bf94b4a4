/**
 * A GraphQL request's path through the router, one stage per module of this folder:
 *
 *   authenticate → rateLimit → readBody → cacheLookup (a hit is answered here, unparsed)
 *   → singleFlight → confirmNotRevoked → admission → vetOperation → execute → cacheSettle
 *   → response sent.
 *
 * A token's revocation check runs on behind rateLimit, readBody, cacheLookup and a wait in
 * singleFlight (authenticate.ts): confirmNotRevoked is passed before an answer from the cache or
 * from a shared execution is sent (cacheLookup.ts, answerCached) and before this request's own
 * execution is admitted.
 *
 * Each stage gets the request's {@link RequestState} and either answers (the path ends) or
 * passes it on; singleFlight and admission wrap the rest of the path, which they may run
 * later, once, or not at all.
 *
 * @remarks
 * Plain sequential awaits rather than a generic middleware runner: the cache-hit path is
 * benchmarked against the bare gateway, and a runner's per-request closures and arrays would
 * cost it (the state object is the only allocation this adds).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER } from '../../platform/contract/identity.js';
import { ANSWERED, RequestState, type StageOutcome } from './requestState.js';

type Stage = (state: RequestState) => Promise<StageOutcome>;
/** A stage that runs the rest of the path (`run`) itself, when and if it decides to. */
type AroundStage = (
  state: RequestState,
  run: (state: RequestState) => Promise<void>,
) => Promise<void>;

export interface GraphQLStages {
  readonly authenticate: Stage;
  readonly rateLimit: (state: RequestState) => StageOutcome;
  readonly readBody: Stage;
  readonly cacheLookup: Stage;
  readonly singleFlight: AroundStage;
  readonly confirmNotRevoked: Stage;
  readonly admission: AroundStage;
  readonly vetOperation: (state: RequestState) => StageOutcome;
  /** Resolves the complete response body, or undefined once a streamed response has ended. */
  readonly execute: (state: RequestState) => Promise<string | undefined>;
  readonly cacheSettle: (state: RequestState, body: string) => Promise<void>;
}

/** Handles a request for the GraphQL path; `search` is its query string ('' or '?…'). */
export type GraphQLHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  search: string,
) => Promise<void>;

export function graphqlHandler(stages: GraphQLStages): GraphQLHandler {
  const { authenticate, rateLimit, readBody, cacheLookup, singleFlight, admission } = stages;
  const { confirmNotRevoked, vetOperation, execute, cacheSettle } = stages;

  async function executeAdmitted(state: RequestState): Promise<void> {
    if (vetOperation(state) === ANSWERED) return;
    const body = await execute(state);
    if (body === undefined) return;
    await cacheSettle(state, body);
    state.res.end(body);
  }
  async function admitAndExecute(state: RequestState): Promise<void> {
    if ((await confirmNotRevoked(state)) === ANSWERED) return;
    return admission(state, executeAdmitted);
  }

  return async function handleGraphQL(req, res, search) {
    const state = new RequestState(req, res, search);
    res.setHeader(REQUEST_ID_HEADER, state.id);
    if ((await authenticate(state)) === ANSWERED) return;
    if (rateLimit(state) === ANSWERED) return;
    if ((await readBody(state)) === ANSWERED) return;
    if ((await cacheLookup(state)) === ANSWERED) return;
    await singleFlight(state, admitAndExecute);
  };
}
