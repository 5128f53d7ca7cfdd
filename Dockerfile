# One image for the Flotilla worker and API (docker-compose.yml picks the command).
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
USER node
CMD ["npx", "tsx", "worker/main.ts"]
