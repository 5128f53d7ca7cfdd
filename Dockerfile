# One image for the Flotilla worker and API (docker-compose.yml picks the command).
FROM node:20-slim
# pg_dump / pg_restore for the data copies of clones (activities/data-copy.ts; FLOTILLA_PG_BIN).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
ENV FLOTILLA_PG_BIN=/usr/bin
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
CMD ["npx", "tsx", "worker/main.ts"]
