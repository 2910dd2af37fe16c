# syntax=docker/dockerfile:1
# ttpgraph's image: compiled in a build stage, run from a slim Node runtime as the unprivileged
# `node` user with production dependencies only. Neo4j is not inside: set NEO4J_URI (compose does).

ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY jobs ./jobs
COPY bench ./bench
COPY test/support/sync-sources.ts ./test/support/sync-sources.ts
COPY console ./console
COPY scripts/build-console.mjs ./scripts/build-console.mjs
RUN npm run -s build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8000 \
    TTPGRAPH_DATA_DIR=/var/lib/ttpgraph
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/jobs ./dist/jobs
COPY --from=build /app/dist/console ./dist/console
COPY package.json openapi.yaml ./
COPY cypher ./cypher
COPY auth ./auth
COPY enrichment ./enrichment
# The data directory keeps what is costly to rebuild (the enrichment model's weights).
RUN mkdir -p /var/lib/ttpgraph && chown node:node /var/lib/ttpgraph
VOLUME ["/var/lib/ttpgraph"]
USER node
EXPOSE 8000
# Ready means Neo4j answers and ATT&CK is loaded; the exec form has no shell, so Node asks.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli/main.js", "serve"]
