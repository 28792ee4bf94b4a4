/**
 * `npm run api-keys -- <command>`: partner API keys (stored hashed in Cassandra). USAGE below is
 * what `npm run api-keys -- help` prints.
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

const USAGE = `npm run api-keys -- <command>: partner API keys (stored hashed in Cassandra)

  orgs                 the organizations (id and name): the --org of the commands below
  create --org <uuid> --name <text> --scopes fleet:read,telemetry:read
         [--class partner-standard] [--expires-days 90] [--trusted-documents-only]
                       prints the key once (fgk_…); it is never stored, only its hash
  rotate <keyId>       a new key with the same organization, scopes and class; the old one is revoked
  revoke <keyId>
  list --org <uuid>    the organization's keys (id and name)

Scopes: ${KNOWN_SCOPES.join(', ')}. Rate classes: the router's RATE_LIMITS.
Send a key as \`X-Api-Key: fgk_…\` or \`Authorization: ApiKey fgk_…\`, e.g.
  curl -s http://127.0.0.1:4000/graphql -H "x-api-key: $KEY" \\
    -H 'content-type: application/json' -d '{"query":"{ fleets { name } }"}'`;

/** At most this many organizations are listed by `orgs` (a development aid, not a report). */
const ORGANIZATIONS_LISTED = 200;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

runMain(async () => {
  const command = process.argv[2];
  if (!command || ['help', '--help', '-h'].includes(command)) {
    console.log(USAGE);
    return;
  }
  // The router's configuration: a key's --class must be one of the router's RATE_LIMITS.
  const config = loadRouterConfig();
  const cassandra = await connectCassandra(config);
  const store = new ApiKeyStore(cassandra);
  try {
    if (command === 'orgs') {
      const result = await cassandra.execute(
        `SELECT organization_id, name FROM organizations LIMIT ${ORGANIZATIONS_LISTED}`,
      );
      for (const row of result.rows)
        console.log(`${String(row['organization_id'])}\t${row['name']}`);
    } else if (command === 'create') {
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
      throw new StartupError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } finally {
    await cassandra.shutdown();
  }
});
