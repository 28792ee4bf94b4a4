/**
 * The purge: one Lua script over the versions hash (tagVersions.ts, docs/caching.md), so that
 * bumping the tags, advancing the sequence and publishing the message are one atomic step and
 * purges are totally ordered.
 */
import type { RedisClient } from '../../platform/redis/client.js';

/** The hash of versions; `{…}` is its Redis Cluster hash tag. */
export const VERSIONS_KEY = 'cache:{versions}';
export const EPOCH_FIELD = '~epoch';
export const SEQ_FIELD = '~seq';
/** Past this many fields the next purge starts a new epoch (a safe, cache-wide miss). */
export const MAX_FIELDS = 1_000_000;

/**
 * Bumps the versions of ARGV[6..] atomically and publishes the purge, in `~seq` order. ARGV:
 * channel, a new epoch (used if there is none), the field limit, and a condition: unless
 * ARGV[4] is '' the purge happens only if field ARGV[4] is not ARGV[5] (which it then becomes).
 * Returns { epoch, seq } (seq 0: the condition held, nothing was purged).
 */
const PURGE_SCRIPT = `
local key = KEYS[1]
if ARGV[4] ~= '' then
  if redis.call('HGET', key, ARGV[4]) == ARGV[5] then
    return { redis.call('HGET', key, '${EPOCH_FIELD}') or '', 0 }
  end
end
local epoch = redis.call('HGET', key, '${EPOCH_FIELD}')
if (not epoch) or redis.call('HLEN', key) > tonumber(ARGV[3]) then
  redis.call('DEL', key)
  epoch = ARGV[2]
  redis.call('HSET', key, '${EPOCH_FIELD}', epoch)
end
if ARGV[4] ~= '' then redis.call('HSET', key, ARGV[4], ARGV[5]) end
local seq = redis.call('HINCRBY', key, '${SEQ_FIELD}', 1)
local tags = {}
for i = 6, #ARGV do
  redis.call('HSET', key, ARGV[i], seq)
  tags[#tags + 1] = ARGV[i]
end
redis.call('PUBLISH', ARGV[1], cjson.encode({ e = epoch, s = seq, t = tags }))
return { epoch, seq }
`;

/**
 * Runs the script: resolves [epoch, seq] (seq 0: its condition held, nothing was purged), once
 * its message is in every subscriber's socket ({@link purgeDelivered}).
 */
export type PurgeCommand = (
  channel: string,
  newEpoch: string,
  unless: readonly [string, string],
  tags: readonly string[],
) => Promise<[string, number]>;

export function definePurgeCommand(redis: RedisClient): PurgeCommand {
  redis.defineCommand('fleetgraphPurgeTags', { numberOfKeys: 1, lua: PURGE_SCRIPT });
  const run = (
    redis as unknown as Record<string, (...args: (string | number)[]) => Promise<[string, number]>>
  )['fleetgraphPurgeTags']!.bind(redis);
  return async (channel, newEpoch, unless, tags) => {
    const result = await run(VERSIONS_KEY, channel, newEpoch, MAX_FIELDS, ...unless, ...tags);
    if (Number(result[1]) !== 0) await purgeDelivered(redis);
    return result;
  };
}

/**
 * Resolves once the last purge's message is in every subscriber's socket (docs/caching.md, "Why
 * it is never stale", step 4). Redis writes the script's reply before the messages it
 * published (the client queued last is written first), so the writer could answer — and a
 * reader be served another instance's old copy — in between. Any later command on that node
 * is answered only after those messages went out. On the Redis Cluster without it: 3 of 380
 * write-then-read rounds stale; with it 0 of 440 (test/e2e/cache-freshness.test.ts). A failure
 * leaves the purge confirmed: the message is then only late.
 */
async function purgeDelivered(redis: RedisClient): Promise<void> {
  await redis.hlen(VERSIONS_KEY).catch(() => undefined);
}
