# One image for the Flotilla worker and API (docker-compose.yml picks the command).

# The dashboard (web/), built with the dev dependencies (Vite, React) to static files.
FROM node:20-slim AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./web
RUN npx vite build --config web/vite.config.ts

FROM node:20-slim
# pg_dump / pg_restore for the data copies of clones (activities/data-copy.ts; FLOTILLA_PG_BIN).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
ENV FLOTILLA_PG_BIN=/usr/bin
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The API serves it at / (api/app.ts: web/dist).
COPY --from=web /app/web/dist ./web/dist
USER node
CMD ["npx", "tsx", "worker/main.ts"]
