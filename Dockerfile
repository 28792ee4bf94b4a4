# syntax=docker/dockerfile:1
# One image for every Fleetgraph process: the router, the users, sessions and fleet subgraphs,
# and the migration/seed job, chosen by the first argument (deploy/docker/entrypoint.sh):
#
#   docker build -t fleetgraph .
#   docker run --rm fleetgraph router | users | sessions | fleet | migrate | seed | setup | script <name> [args]
#
# Pinned by exact version. For reproducible builds pin the digest as well, e.g.
# `docker buildx imagetools inspect node:20.20.2-bookworm-slim` and write
# `FROM node:20.20.2-bookworm-slim@sha256:<digest>` (Renovate/Dependabot keep both current).
# Node 20 as in package.json "engines" and CI; the same version the project is tested on.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: all dependencies, TypeScript → dist/ (scripts/build.ts), then production-only modules
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY package.json package-lock.json ./
# postinstall applies router/patches (our @apollo/gateway patch) with patch-package.
COPY router/patches router/patches
RUN npm ci
COPY . .
RUN npm run build \
  # The runtime's modules: `npm prune` removes the devDependencies without re-running install
  # scripts, so the patched @apollo/gateway stays patched (`npm ci --omit=dev` would run the
  # postinstall, whose patch-package is a devDependency). Nothing at run time needs tsx,
  # esbuild or another devDependency: the services run from dist/.
  && npm prune --omit=dev \
  && npm cache clean --force

# --- runtime: dist/, production node_modules and the schema files the processes read
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  # Listen on every interface of the container (the defaults are 127.0.0.1, for development
  # machines). The router's operations listener too: a NetworkPolicy (deploy/k8s) or compose's
  # private network keeps it from the public.
  HOST=0.0.0.0 \
  ROUTER_OPS_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules node_modules
# dist/: the platform layer, router, subgraphs (with their SDL in dist/schema/subgraphs) and
# scripts (migrate, seed, token and API-key CLIs, with the CQL migrations in dist/schema/cql).
# The benchmarks in dist/bench are left out.
COPY --from=build --chown=root:root /app/dist/platform dist/platform
COPY --from=build --chown=root:root /app/dist/router dist/router
COPY --from=build --chown=root:root /app/dist/subgraphs dist/subgraphs
COPY --from=build --chown=root:root /app/dist/scripts dist/scripts
COPY --from=build --chown=root:root /app/dist/schema dist/schema
# Read by the router from the working directory: SUPERGRAPH_PATH, TRUSTED_DOCUMENTS_DIR.
COPY --from=build --chown=root:root /app/schema/supergraph.graphql schema/supergraph.graphql
COPY --from=build --chown=root:root /app/schema/operations schema/operations
COPY --from=build --chown=root:root /app/router/v8-flags router/v8-flags
COPY --chown=root:root --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/fleetgraph
# The code is root's and read-only to the process, which runs as the image's unprivileged
# `node` user (uid 1000; Kubernetes: runAsNonRoot with this uid).
USER 1000:1000
EXPOSE 4000 4090 4001 4002 4003
# Asks the running service's own /healthz (scripts/healthcheck.ts: which service, from PID 1's
# command line; a job answers healthy).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js"]
ENTRYPOINT ["fleetgraph"]
CMD ["router"]
