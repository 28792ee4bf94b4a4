/**
 * What the services call an id: a UUID in its canonical text form, any case. The subgraphs refuse
 * anything else as BAD_USER_INPUT (subgraphs/kit/validate.ts) and the router batches only ids
 * they would accept (router/auth/sessionsFieldBatch.ts), so both read the rule from here.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
