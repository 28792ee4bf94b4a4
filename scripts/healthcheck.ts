/**
 * The container image's HEALTHCHECK (Dockerfile): asks the service this container runs for its
 * `/healthz` on the loopback interface and exits 0 when it answers 200, 1 otherwise.
 *
 * @remarks
 * One image runs every service (deploy/docker/entrypoint.sh), and a HEALTHCHECK cannot see the
 * argument it was started with: the service is read from PID 1's command line
 * (`dist/router/index.js`, `dist/subgraphs/<name>/index.js`), its port from the same variables
 * the service reads (defaults as in platform/config/variables.ts). A one-shot job (migrate,
 * seed) has no listener and counts as healthy while it runs. The image has no curl: node's
 * fetch it is.
 */
import { readFileSync } from 'node:fs';

const PORTS = {
  router: ['ROUTER_PORT', 4000],
  users: ['USERS_PORT', 4001],
  sessions: ['SESSIONS_PORT', 4002],
  fleet: ['FLEET_PORT', 4003],
} as const;

function serviceOf(commandLine: string): keyof typeof PORTS | undefined {
  if (commandLine.includes('dist/router/index.js')) return 'router';
  const subgraph = /dist\/subgraphs\/(users|sessions|fleet)\/index\.js/.exec(commandLine);
  return subgraph ? (subgraph[1] as keyof typeof PORTS) : undefined;
}

async function main(): Promise<number> {
  const commandLine = readFileSync('/proc/1/cmdline', 'utf8').replaceAll('\0', ' ');
  const service = serviceOf(commandLine);
  if (!service) return 0;
  const [variable, fallback] = PORTS[service];
  const port = process.env[variable] || String(fallback);
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, {
    signal: AbortSignal.timeout(2000),
  });
  return response.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`healthcheck: ${(error as Error).message}`);
    process.exit(1);
  },
);
