/**
 * `npm run token:mint -- [admin|operator|viewer|other-org-admin] [--expires 8h]`: prints an
 * HS256 development JWT for one of the seeded users (with one of their seeded sessions), for
 * the IDE's Authorization header or curl. Refuses in production.
 *
 * It signs with the router's JWT key only (JWT_SECRET, or its development value when unset) —
 * never with the identity or cursor secret — and a production router refuses what it mints:
 * production verifies JWTs through a JWKS alone (test/security/production-secrets.test.ts).
 */
import { loadRouterConfig, loadToolConfig } from '../platform/config/load.js';
import { runMain, StartupError } from '../platform/startup.js';
import { mintDevelopmentToken } from '../router/auth/jwt.js';
import { DEMO_USERS, seedIds } from './seed-ids.js';

const PERSONAS = {
  admin: { ...DEMO_USERS.admin, roles: ['admin', 'operator', 'viewer'] },
  operator: { ...DEMO_USERS.operator, roles: ['operator', 'viewer'] },
  viewer: { ...DEMO_USERS.viewer, roles: ['viewer'] },
  'other-org-admin': { ...DEMO_USERS.otherOrgAdmin, roles: ['admin', 'operator', 'viewer'] },
} as const;

runMain(async () => {
  // Before the router's configuration, whose production rules would be reported instead.
  if (loadToolConfig().isProduction)
    throw new StartupError('token:mint only mints development tokens (FLEETGRAPH_ENV=production)');
  // The router's configuration: the token must verify with the router's JWT settings (its
  // `hs256` mode exists outside production only).
  const config = loadRouterConfig();
  if (config.jwt.mode !== 'hs256')
    throw new StartupError(
      'token:mint mints HS256 tokens; JWT_JWKS_URL is set (JWT_SECRET is unused)',
    );
  const name = (process.argv[2] ?? 'admin') as keyof typeof PERSONAS;
  const persona = PERSONAS[name];
  if (!persona)
    throw new StartupError(
      `unknown persona "${name}"; one of: ${Object.keys(PERSONAS).join(', ')}`,
    );
  const expiresIndex = process.argv.indexOf('--expires');
  const token = await mintDevelopmentToken(
    config.jwt.secret,
    {
      userId: seedIds.user(persona.organization, persona.index),
      organizationId: seedIds.organization(persona.organization),
      roles: [...persona.roles],
      sessionId: seedIds.session(persona.organization, persona.index, 0),
    },
    expiresIndex >= 0 ? process.argv[expiresIndex + 1] : '8h',
  );
  process.stdout.write(`${token}\n`);
});
