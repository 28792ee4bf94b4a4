/**
 * Stage 3: the POST body, read whole but not parsed (the cache's hit path needs only its
 * bytes) → 413 when it exceeds MAX_BODY_BYTES.
 */
import { ErrorCode } from '../../platform/contract/errors.js';
import { MAX_BODY_BYTES, readBody as readRequestBody } from '../../platform/http.js';
import { sendErrors } from '../http/responses.js';
import { ANSWERED, NEXT, type RequestState, type StageOutcome } from './requestState.js';

export async function readBody(state: RequestState): Promise<StageOutcome> {
  if (state.method !== 'POST') return NEXT;
  const read = await readRequestBody(state.req);
  if (read === null) {
    // readBody stopped reading mid-body: the connection cannot carry another request, and
    // kept alive it would wedge the client's next request on it (found by
    // test/e2e/hostile-input.test.ts), so it is closed after this answer.
    state.res.setHeader('connection', 'close');
    sendErrors(
      state.res,
      413,
      `Request body exceeds ${MAX_BODY_BYTES} bytes`,
      ErrorCode.BAD_USER_INPUT,
    );
    return ANSWERED;
  }
  state.raw = read;
  return NEXT;
}
