# syntax=docker/dockerfile:1
# Vigil: security detection and response service (HTTP API on :8018).
#   docker build -t vigil .
#   docker run --rm -p 8018:8018 vigil run --rules /app/rules
# docker-compose.yml runs it with NATS (JetStream), Redis, PostgreSQL and InfluxDB.

# ---- build: all dependencies, compile TypeScript to dist/ ---------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---- runtime: production dependencies and the compiled code only -------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY rules ./rules
COPY schema ./schema
# The code stays root-owned and read-only to the service; it runs as the image's
# unprivileged `node` user, which owns /app only so that the embedded mode can keep its
# local data folder there (mount a volume on /app/.vigil-data to keep it).
RUN mkdir -p /app/.vigil-data && chown node:node /app /app/.vigil-data
USER node
EXPOSE 8018
# The young generation bin/vigil.js asks for in its shebang (not read when node is named here).
ENTRYPOINT ["node", "--max-semi-space-size=64", "bin/vigil.js"]
CMD ["run"]
