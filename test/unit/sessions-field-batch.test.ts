/**
 * router/auth/sessionsFieldBatch.ts against a stand-in sessions subgraph (a node:http server
 * answering the aliased query from its variables): that batching never gives one key another's
 * answer, that an alias with an error is no answer even when its value is null, and how requests
 * are split. The real subgraph and the router's use of it: test/security/session-revocation.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  MAX_KEYS_PER_REQUEST,
  SessionsFieldBatch,
  type SessionsQuestion,
} from '../../router/auth/sessionsFieldBatch.js';

type Key = { userId: string; organizationId: string };
const QUESTION: SessionsQuestion<Key> = {
  operationName: 'TokensRevokedBefore',
  field: 'tokensRevokedBefore',
  argumentNames: ['userId', 'organizationId'],
  selection: '',
};

describe('SessionsFieldBatch', () => {
  let server: Server;
  let url = '';
  /** The keys of each request received, as `userId/organizationId`. */
  const requests: string[][] = [];
  /** Users whose field answers null with an error (a failed read in the resolver). */
  const failingUsers = new Set<string>();
  /** Answer every request with `data: null` and an error while set. */
  let failingWhole = false;
  /** Hold every answer this long (ms). */
  let delayMs = 0;

  // A user signed out everywhere iff the last hex digit of the id is even; null (never) otherwise.
  const markOf = (userId: string, organizationId: string) =>
    parseInt(userId.at(-1)!, 16) % 2 === 0 ? `2026-01-01T00:00:00.000Z|${organizationId}` : null;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { query, variables } = JSON.parse(body) as {
          query: string;
          variables: Record<string, string>;
        };
        const data: Record<string, unknown> = {};
        const errors: unknown[] = [];
        const keys: string[] = [];
        for (let i = 0; variables[`q${i}_userId`] !== undefined; i++) {
          const userId = variables[`q${i}_userId`]!;
          const organizationId = variables[`q${i}_organizationId`]!;
          assert.ok(
            query.includes(
              `q${i}: tokensRevokedBefore(userId: $q${i}_userId, organizationId: $q${i}_organizationId)`,
            ),
            query,
          );
          keys.push(`${userId}/${organizationId}`);
          data[`q${i}`] = failingUsers.has(userId) ? null : markOf(userId, organizationId);
          if (failingUsers.has(userId)) errors.push({ message: 'read failed', path: [`q${i}`] });
        }
        requests.push(keys);
        setTimeout(() => {
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify(
              failingWhole
                ? { data: null, errors: [{ message: 'down' }] }
                : { data, ...(errors.length ? { errors } : {}) },
            ),
          );
        }, delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const batchOf = () =>
    new SessionsFieldBatch<Key, string>(
      { url: () => url, signingSecret: 'x'.repeat(32), timeoutMs: 2000 },
      QUESTION,
    );
  const keyOf = (): Key => ({ userId: randomUUID(), organizationId: randomUUID() });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('when 100 keys are asked about at once, each gets its own answer, once, in requests of at most 32', async () => {
    requests.length = 0;
    delayMs = 5;
    const batch = batchOf();
    const keys = Array.from({ length: 100 }, keyOf);
    // Each key asked twice: one entry in a request, both callers answered.
    const asked = [...keys, ...keys];
    const answers = await Promise.all(asked.map((key) => batch.ask(key)));
    answers.forEach((answer, i) => {
      const { userId, organizationId } = asked[i]!;
      assert.deepEqual(answer, { value: markOf(userId, organizationId) }, userId);
    });
    const sent = requests.flat();
    assert.equal(sent.length, 100, 'every key asked about once');
    assert.equal(new Set(sent).size, 100);
    assert.ok(requests.every((r) => r.length <= MAX_KEYS_PER_REQUEST));
  });

  it('when keys arrive while two requests are out, they wait and go together in the next', async () => {
    requests.length = 0;
    delayMs = 30;
    const batch = batchOf();
    const first = batch.ask(keyOf());
    await sleep(3);
    const second = batch.ask(keyOf()); // a second request: one was out
    await sleep(3);
    const later = Array.from({ length: 10 }, () => batch.ask(keyOf()));
    await Promise.all([first, second, ...later]);
    assert.deepEqual(
      requests.map((r) => r.length),
      [1, 1, 10],
    );
  });

  it('when one alias has an error and a null value, that key has no answer (not "never") and the others theirs', async () => {
    requests.length = 0;
    delayMs = 0;
    const batch = batchOf();
    const keys = Array.from({ length: 6 }, keyOf);
    failingUsers.add(keys[2]!.userId);
    const answers = await Promise.all(keys.map((key) => batch.ask(key)));
    failingUsers.clear();
    answers.forEach((answer, i) => {
      const { userId, organizationId } = keys[i]!;
      if (i === 2) assert.equal(answer, undefined);
      else assert.deepEqual(answer, { value: markOf(userId, organizationId) });
    });
  });

  it('when the subgraph answers with an error and no data, every key of that request has no answer, and the next request works', async () => {
    requests.length = 0;
    delayMs = 0;
    const batch = batchOf();
    failingWhole = true;
    const failed = await Promise.all([batch.ask(keyOf()), batch.ask(keyOf())]);
    failingWhole = false;
    assert.deepEqual(failed, [undefined, undefined]);
    const key = keyOf();
    assert.deepEqual(await batch.ask(key), { value: markOf(key.userId, key.organizationId) });
  });

  it('when a key is not made of UUIDs, it is asked about alone, never with others', async () => {
    requests.length = 0;
    delayMs = 0;
    const batch = batchOf();
    const odd = { userId: 'not-a-uuid', organizationId: randomUUID() };
    await Promise.all([batch.ask(keyOf()), batch.ask(odd), batch.ask(keyOf())]);
    const withOdd = requests.filter((r) => r.some((key) => key.startsWith('not-a-uuid/')));
    assert.deepEqual(
      withOdd.map((r) => r.length),
      [1],
    );
  });
});
