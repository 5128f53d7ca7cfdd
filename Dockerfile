# One image for the Flotilla worker, observer and API (docker-compose.yml picks the command): the
# compiled JavaScript (dist/) and the dashboard (web/dist), run with plain node. No TypeScript
# tool chain (tsc, tsx, Vite) in the final image.

# Compile (tsc -p tsconfig.build.json) and build the dashboard, with the dev dependencies.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json && npx vite build --config web/vite.config.ts

FROM node:20-slim
# pg_dump / pg_restore for the data copies of clones (activities/data-copy.ts; FLOTILLA_PG_BIN).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
ENV FLOTILLA_PG_BIN=/usr/bin
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The API serves it at / (api/app.ts: web/dist beside dist/).
COPY --from=build /app/web/dist ./web/dist
# The API's state folder (the first admin token's file): a volume mounted here starts owned by node.
RUN mkdir -p /var/lib/flotilla && chown node:node /var/lib/flotilla
USER node
CMD ["node", "dist/worker/main.js"]
