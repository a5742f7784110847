# syntax=docker/dockerfile:1
#
# One multi-stage build for every Node service of ibstack; each service is a target of its own
# (`docker build --target ingestor .`; docker-compose.yml builds them all). Production runs compiled
# JavaScript, not tsx: faster start and less memory, measured by `npm run bench -- images` (README, Images).
#
# Adding a service: a `FROM runtime AS <name>` target at the end with its `CMD` (exec form, so SIGTERM
# reaches node directly) and its HTTP_PORT; the compose check test proves the CMD's file exists.

# Pinned: the Node version the tests run on. Bump together with .ci and package.json engines.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
# A compiler for argon2 (dashboard-api's password hashes) on a host where its prebuilt binary does not load
# (it segfaults on some; `npm rebuild argon2` below tests it and compiles only then). Build stage only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp builds against the image's own Node headers instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY . .
# Dev dependencies exist only here: the compiler and tsx for the layout script.
# dashboard-api's page is bundled here (esbuild from the lockfile), so the image serves it without building.
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && npx tsc -p tsconfig.build.json \
 && npm run build -w @ibstack/dashboard-api \
 && node --import tsx docker/runtime-tree.ts /src /src/dist /runtime
WORKDIR /runtime
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm rebuild argon2 \
 && node -e "require('argon2')" \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service user: a compromised process cannot rewrite its own code.
COPY --from=build /runtime /app
# The unprivileged user of the Node image (uid 1000); secrets/ files must be readable by it (make secrets).
USER node
# Liveness only (the process answers /healthz on HTTP_PORT); readiness is /readyz, for alerts.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "packages/observability/src/cli/healthz.js"]

FROM runtime AS gateway-sim
ENV HTTP_PORT=9400 GATEWAY_SIM_HOST=0.0.0.0
EXPOSE 4002 9400
CMD ["node", "services/gateway-sim/src/main.js"]

FROM runtime AS migrate
# A one-shot: it exits when the schema is up to date, so there is nothing to health-check.
HEALTHCHECK NONE
CMD ["node", "packages/db/src/cli/migrate.js"]

FROM runtime AS ingestor
ENV HTTP_PORT=9401
EXPOSE 9401
CMD ["node", "services/ingestor/src/main.js"]

FROM runtime AS strategy
ENV HTTP_PORT=9402
EXPOSE 9402
CMD ["node", "services/strategy/src/main.js"]

FROM runtime AS execution
ENV HTTP_PORT=9403
EXPOSE 9403
CMD ["node", "services/execution/src/main.js"]

FROM runtime AS gateway-supervisor
ENV HTTP_PORT=9406
EXPOSE 9406
CMD ["node", "services/gateway-supervisor/src/main.js"]

# Runs on each host of a failover pair (infra/failover; compose profile `standby`).
FROM runtime AS failover-agent
ENV HTTP_PORT=9407
EXPOSE 9407
CMD ["node", "services/failover-agent/src/main.js"]

FROM runtime AS backup
USER root
# pg_dump and pg_restore of the database server's major version (postgres:15 in docker-compose.yml; the
# compose test keeps the two in step), and rsync over ssh for the copy to the standby.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 rsync openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/ibstack/backups \
 && chown node:node /var/lib/ibstack/backups
USER node
ENV HTTP_PORT=9404
EXPOSE 9404
CMD ["node", "services/backup/src/main.js"]

FROM runtime AS notifier
ENV HTTP_PORT=9405
EXPOSE 9405
CMD ["node", "services/notifier/src/main.js"]

FROM runtime AS dashboard-api
# The page bundled in the build stage; naming it keeps the service from rebuilding it (the root is read-only).
ENV HTTP_PORT=8080 WEB_ROOT=/app/services/dashboard-api/public
EXPOSE 8080
CMD ["node", "services/dashboard-api/src/main.js"]
