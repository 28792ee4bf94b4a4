/**
 * The router's revocation questions to the sessions subgraph (`sessionValidity` for a token's
 * session, `tokensRevokedBefore` for a token without one), batched: at most
 * {@link MAX_REQUESTS_IN_FLIGHT} requests at a time per question, and the keys asked about while
 * they are out go together in the next one, one aliased field per key
 * (`q0: sessionValidity(id: $q0_id) …`), which the subgraph answers with one batched Cassandra read
 * per field kind (its DataLoaders). When nothing is in flight a question goes at the end of the
 * event loop's turn, so an idle router adds no wait; a busy one batches what arrives during a
 * round trip. Batching by turn alone caught nothing: concurrent requests reach this point a few
 * turns apart (15 requests for 16 sessions in test/security/session-revocation.test.ts).
 *
 * @remarks
 * Why: a caller is asked about the first time this router sees it (then the answer is cached,
 * sessionRevocation.ts, tokenCutoffs.ts), so the cost falls on new callers — a sign-in wave,
 * many partner keys, or the benchmarks, where every request is a new caller and one request per
 * caller to the sessions subgraph cost it about a millisecond of CPU per dashboard read.
 *
 * Aliases, not list fields: no schema change, and each key's answer stays its own. A field whose
 * alias has an error is **no answer** for that key (undefined: the caller fails closed or uses
 * what it last knew), even when its value is null — a null `tokensRevokedBefore` means "never
 * signed out everywhere", and reading an error's null that way would let a revoked token through
 * (it did, before: sessionsQuery.ts returned `data` without looking at `errors`). A non-null
 * field's error nulls the whole `data`, so every key of that request has no answer; a key that
 * the subgraph would refuse as input (not a UUID) is therefore never batched but asked about
 * alone, so that one caller's malformed key cannot become other callers' refusal. (A JWT's `sid`
 * and `sub` are already refused unless they are UUIDs, router/auth/jwt.ts; this keeps the batch
 * safe for any caller.)
 */
import { isUuid } from '../../platform/contract/ids.js';
import { askSessions, type SessionsSubgraph } from './sessionsQuery.js';

/** Most keys one request asks about; more go in further requests. */
export const MAX_KEYS_PER_REQUEST = 32;
/** Requests out at once per question; keys asked about meanwhile wait for one to come back. */
export const MAX_REQUESTS_IN_FLIGHT = 2;

/** One question the router asks, as a field of the sessions subgraph's Query. */
export interface SessionsQuestion<TKey extends Readonly<Record<string, string>>> {
  /** The operation name, whatever the batch size: one series in the subgraph's counter. */
  readonly operationName: string;
  /** The field, e.g. `sessionValidity`. */
  readonly field: string;
  /** Its arguments, each an `ID!`, in the order of {@link TKey}'s properties. */
  readonly argumentNames: readonly (keyof TKey & string)[];
  /** The selection set after the field, e.g. `{ active reason }`; '' for a scalar. */
  readonly selection: string;
}

/** A key's answer: the field's value (null included), or undefined when there is none. */
export type Answer<TValue> = { readonly value: TValue | null } | undefined;

type Waiter<TValue> = (answer: Answer<TValue>) => void;

export class SessionsFieldBatch<TKey extends Readonly<Record<string, string>>, TValue> {
  private readonly waiting = new Map<string, { key: TKey; waiters: Waiter<TValue>[] }>();
  private readonly queries = new Map<number, string>();
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly subgraph: SessionsSubgraph,
    private readonly question: SessionsQuestion<TKey>,
  ) {}

  ask(key: TKey): Promise<Answer<TValue>> {
    const args = this.question.argumentNames.map((name) => key[name]!);
    if (!args.every(isUuid)) return this.send([key]).then((answers) => answers[0]);
    const id = args.join('/').toLowerCase();
    return new Promise((resolve) => {
      const entry = this.waiting.get(id);
      if (entry) entry.waiters.push(resolve);
      else this.waiting.set(id, { key, waiters: [resolve] });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_REQUESTS_IN_FLIGHT || this.waiting.size === 0)
      return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  /** Sends up to {@link MAX_KEYS_PER_REQUEST} of the waiting keys in one request. */
  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.inFlight >= MAX_REQUESTS_IN_FLIGHT) return;
    const part: { key: TKey; waiters: Waiter<TValue>[] }[] = [];
    for (const [id, entry] of this.waiting) {
      part.push(entry);
      this.waiting.delete(id);
      if (part.length === MAX_KEYS_PER_REQUEST) break;
    }
    if (part.length === 0) return;
    this.inFlight++;
    void this.send(part.map((entry) => entry.key)).then((answers) => {
      this.inFlight--;
      part.forEach((entry, i) => {
        for (const resolve of entry.waiters) resolve(answers[i]);
      });
      this.schedule();
    });
    this.schedule();
  };

  /** One request for `keys`; answers in the same order. Never rejects. */
  private async send(keys: readonly TKey[]): Promise<Answer<TValue>[]> {
    const variables: Record<string, string> = {};
    keys.forEach((key, i) => {
      for (const name of this.question.argumentNames) variables[`q${i}_${name}`] = key[name]!;
    });
    const answer = await askSessions<Record<string, TValue | null | undefined>>(
      this.subgraph,
      this.queryFor(keys.length),
      variables,
    ).catch(() => undefined);
    return keys.map((_, i) => {
      const alias = `q${i}`;
      if (!answer || answer.failedWhole || answer.failedFields.has(alias)) return undefined;
      const value = answer.data[alias];
      return value === undefined ? undefined : { value };
    });
  }

  /** The query for `count` keys, built once per count. */
  private queryFor(count: number): string {
    let query = this.queries.get(count);
    if (query === undefined) {
      const { operationName, field, argumentNames, selection } = this.question;
      const definitions: string[] = [];
      const fields: string[] = [];
      for (let i = 0; i < count; i++) {
        definitions.push(...argumentNames.map((name) => `$q${i}_${name}: ID!`));
        const args = argumentNames.map((name) => `${name}: $q${i}_${name}`).join(', ');
        fields.push(`q${i}: ${field}(${args}) ${selection}`.trimEnd());
      }
      query = `query ${operationName}(${definitions.join(', ')}) { ${fields.join(' ')} }`;
      this.queries.set(count, query);
    }
    return query;
  }
}
