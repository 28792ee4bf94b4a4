/**
 * Once admitted: the body is parsed (→ 400 on invalid JSON) and trusted documents are applied
 * (../trustedDocuments.ts) → 400 OPERATION_NOT_TRUSTED for a key restricted to registered
 * operations that sent another. Parsed only now, so that a queued request holds only its bytes.
 * Depth, alias, token and directive limits are checked next, inside Apollo Server (graphql-armor,
 * ../graphql/apolloServer.ts), and the cost with the variables coerced
 * (../graphql/operationCost.ts), before any subgraph is called.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import { safeJson, sendErrors } from '../http/responses.js';
import type { TrustedDocuments } from '../trustedDocuments.js';
import { ANSWERED, NEXT, type RequestState, type StageOutcome } from './requestState.js';

const NOT_TRUSTED =
  'This API key may only send registered operations (trusted documents); this operation is not registered';

export function vetOperationStage(deps: {
  readonly trustedDocuments: TrustedDocuments;
}): (state: RequestState) => StageOutcome {
  const { trustedDocuments } = deps;
  return function vetOperation(state) {
    try {
      state.body = state.raw?.length ? JSON.parse(state.raw) : undefined;
    } catch {
      sendErrors(state.res, 400, 'Request body is not valid JSON', ErrorCode.BAD_USER_INPUT);
      return ANSWERED;
    }
    const query = substituteTrustedDocument(state, trustedDocuments);
    if (!state.auth.requireTrustedDocuments) return NEXT;
    if (query && trustedDocuments.isTrusted(query)) return NEXT;
    sendErrors(state.res, 400, NOT_TRUSTED, ErrorCode.OPERATION_NOT_TRUSTED);
    return ANSWERED;
  };
}

/**
 * Persisted-operations mode: a body that names a registered document by hash and sends no
 * query gets the registered text. Returns the operation's text, if any.
 */
function substituteTrustedDocument(
  state: RequestState,
  trustedDocuments: TrustedDocuments,
): string | undefined {
  const { method } = state;
  const request = (
    method === 'POST' ? state.body : Object.fromEntries(new URLSearchParams(state.search))
  ) as Record<string, unknown> | undefined;
  const extensions =
    typeof request?.['extensions'] === 'string'
      ? safeJson(request['extensions'])
      : request?.['extensions'];
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)
    ?.persistedQuery?.sha256Hash;
  const query = typeof request?.['query'] === 'string' ? request['query'] : undefined;
  if (query || typeof hash !== 'string' || method !== 'POST' || !request) return query;
  const registered = trustedDocuments.textFor(hash);
  if (!registered) return undefined;
  request['query'] = registered;
  // Apollo's APQ would otherwise check the hash against the text it did not receive.
  delete (request['extensions'] as Record<string, unknown>)['persistedQuery'];
  return registered;
}
