/**
 * `npm run api-keys -- <command>`: partner API keys (stored hashed in Cassandra).
 *   create --org <uuid> --name <text> --scopes fleet:read,telemetry:read [--class partner-standard]
 *          [--expires-days 90] [--trusted-documents-only]
 *   rotate <keyId>     new key, same organization/scopes/class; the old one is revoked
 *   revoke <keyId>
 *   list --org <uuid>
 * The key (fgk_…) is printed once and never stored.
 */
import { ApiKeyStore } from '../router/auth/apiKeys.js';
import { connectCassandra } from '../platform/cassandra/client.js';
import { loadRouterConfig } from '../platform/config/load.js';
import { runMain, StartupError } from '../platform/startup.js';
import { isUuid } from '../subgraphs/kit/validate.js';

export const KNOWN_SCOPES = [
  'fleet:read',
  'fleet:write',
  'telemetry:read',
  'telemetry:write',
  'users:read',
];

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

runMain(async () => {
  // The router's configuration: a key's --class must be one of the router's RATE_LIMITS.
  const config = loadRouterConfig();
  const command = process.argv[2];
  const cassandra = await connectCassandra(config);
  const store = new ApiKeyStore(cassandra);
  try {
    if (command === 'create') {
      const org = option('org');
      if (!org || !isUuid(org)) throw new StartupError('--org must be an organization uuid');
      const scopes = (option('scopes') ?? 'fleet:read').split(',').map((s) => s.trim());
      const unknown = scopes.filter((s) => !KNOWN_SCOPES.includes(s));
      if (unknown.length)
        throw new StartupError(
          `unknown scopes ${unknown.join(', ')}; known: ${KNOWN_SCOPES.join(', ')}`,
        );
      const rateClass = option('class') ?? 'partner-standard';
      if (!(rateClass in config.rateLimits))
        throw new StartupError(
          `--class must be one of ${Object.keys(config.rateLimits).join(', ')} (RATE_LIMITS)`,
        );
      const days = Number(option('expires-days') ?? 90);
      const created = await store.create({
        organizationId: org,
        name: option('name') ?? 'partner key',
        scopes,
        rateClass,
        expiresAt: days > 0 ? new Date(Date.now() + days * 86_400_000) : null,
        requireTrustedDocuments: process.argv.includes('--trusted-documents-only'),
      });
      console.log(`key id: ${created.keyId}\napi key (shown once): ${created.token}`);
    } else if (command === 'rotate' || command === 'revoke') {
      const keyId = process.argv[3];
      if (!keyId) throw new StartupError(`${command} needs a key id`);
      if (command === 'revoke') {
        if (!(await store.revoke(keyId))) throw new StartupError(`no key ${keyId}`);
        console.log(`revoked ${keyId}`);
      } else {
        const rotated = await store.rotate(keyId);
        if (!rotated) throw new StartupError(`no active key ${keyId}`);
        console.log(
          `old key ${keyId} revoked\nkey id: ${rotated.keyId}\napi key (shown once): ${rotated.token}`,
        );
      }
    } else if (command === 'list') {
      const org = option('org');
      if (!org || !isUuid(org)) throw new StartupError('--org must be an organization uuid');
      for (const key of await store.listForOrganization(org))
        console.log(`${key.keyId}\t${key.name}`);
    } else {
      throw new StartupError('usage: api-keys create|rotate|revoke|list (see scripts/api-keys.ts)');
    }
  } finally {
    await cassandra.shutdown();
  }
});
