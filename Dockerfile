# syntax=docker/dockerfile:1
# The image of every app under apps/ (the three services and the flow console), cut per app by
# two build arguments (docker-compose.yml sets them). Build from the repository root:
#   docker build --build-arg SERVICE=order-service --build-arg PORT=3000 -t order-flow/order-service .
#
# prune:   turbo prune keeps only the app and the workspace packages it depends on, so
#          no list of package.json files is kept here and the install layer is rebuilt only
#          when one of those manifests or their part of the lockfile changes.
# build:   frozen install, turbo build, then pnpm deploy --prod: the app with production
#          dependencies only, workspace packages copied in. tooling/ is a devDependency at
#          most, so nothing of it reaches the image (tooling/deploy-check proves it). Then the
#          app's own files are gathered: dist, and its migrations or web pages if it has them.
# runtime: node, the deployed node_modules, those files, db-init.js and kafka-init.js.

# ---- prune: the app's slice of the workspace (out/json: manifests + lockfile, out/full: sources) ----
FROM node:20-bookworm-slim AS prune
ARG SERVICE
ARG PORT
RUN test -n "$SERVICE" && test -n "$PORT" \
 || { echo 'build with --build-arg SERVICE=<folder under apps/> --build-arg PORT=<its port>' >&2; exit 1; }
# The turbo the lockfile resolves (root devDependency); tooling/deploy-check fails if they drift.
RUN npm i -g turbo@2.11.11
ENV TURBO_TELEMETRY_DISABLED=1
WORKDIR /repo
COPY . .
RUN turbo prune @shop/${SERVICE} --docker

# ---- build: install the slice, build the app and its workspace dependencies, deploy it ----
FROM node:20-bookworm-slim AS build
ARG SERVICE
# corepack is unreliable here (registry signatures); install the pinned pnpm with npm.
RUN npm i -g pnpm@9.15.9
# prisma generate needs no schema engine, but Prisma's CLI (and @prisma/engines' postinstall)
# fetch one unless this points at an executable: pin it so the build never depends on Prisma's
# binary host. Build stage only; the runtime needs no engine (prisma-client + adapter-pg).
ENV CI=true \
    TURBO_TELEMETRY_DISABLED=1 \
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/true
WORKDIR /repo

# Manifests and lockfile first, so the dependency layer is cached until they change.
# turbo prune does not copy .pnpmfile.cjs, but the lockfile records its checksum:
# --frozen-lockfile fails without it.
COPY --from=prune /repo/out/json/ ./
COPY --from=prune /repo/out/pnpm-lock.yaml ./
COPY .pnpmfile.cjs ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir=/pnpm/store

COPY --from=prune /repo/out/full/ ./
RUN pnpm turbo run build --filter=@shop/${SERVICE}...

# Production dependencies only, workspace packages copied in rather than linked. pnpm 9's
# deploy resolves again against the workspace lockfile, so it may reach the registry. Without
# hoist-workspace-packages=false it also hoists a link back to /repo/apps/<app>, which
# would dangle in the image.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter=@shop/${SERVICE} deploy --prod --config.hoist-workspace-packages=false \
      --store-dir=/pnpm/store /out \
 && test -f apps/${SERVICE}/dist/main.js

# The app's own files, gathered here because COPY cannot skip a folder that an app lacks: dist
# always; prisma/migrations (a service applies them at start) and web (the flow console's
# pages) where the app has them. The paths stay as in apps/<app>, where dist looks for them.
RUN mkdir /app-files \
 && cd apps/${SERVICE} \
 && cp -a --parents dist /app-files/ \
 && if [ -d prisma/migrations ]; then cp -a --parents prisma/migrations /app-files/; fi \
 && if [ -d web ]; then cp -a --parents web /app-files/; fi

# ---- runtime: what the app runs, and nothing else ----
FROM node:20-bookworm-slim AS runtime
ARG SERVICE
ARG PORT
ENV NODE_ENV=production \
    PORT=${PORT}
WORKDIR /app
# Not all of /out, which also holds the app's src and tests: its manifest, its production
# dependencies and the files gathered above.
COPY --from=build --chown=node:node /out/package.json ./
COPY --from=build --chown=node:node /out/node_modules ./node_modules
COPY --from=build --chown=node:node /app-files/ ./
# docker-compose's one-shot db-init and kafka-init run these from the order-service image.
COPY --chown=node:node docker/db-init.js docker/kafka-init.js ./docker/
USER node
EXPOSE ${PORT}
# Slim images have no curl: Node's fetch checks the app's readiness endpoint.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The same start command as the local stack (package.json "start"): the app validates its
# config and serves HTTP (a service first applies its migrations and ensures its topics).
CMD ["node", "dist/main.js"]
