# Skylark gateway image: build with `docker build -t skylark .`, run with
#   docker run -p 8080:8080 -e SKYLARK_ADMIN_KEY=sk-… -v skylark-data:/data skylark
# Without --config it serves the built-in tiny model; mount a skylark.yaml for real engines
# (docs/deploy.md). Multi-stage: compilers and dev dependencies never reach the runtime image.

# ── build: every dependency, then tsc + vite ─────────────────────────────────────────────
FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 falls back to compiling when no prebuilt binary matches.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
COPY bench ./bench
COPY test ./test
RUN npm run build

# ── prod-deps: production dependencies only, built on the runtime's base ────────────────
FROM node:20-slim AS prod-deps
WORKDIR /app
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ── runtime: node, production node_modules, dist/src and dist/web; runs as `node` ───────
FROM node:20-slim
ENV NODE_ENV=production \
    SKYLARK_LOG_LEVEL=info
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
COPY package.json ./
COPY bin ./bin
# /data holds the generated tiny model, data/admin.key when no SKYLARK_ADMIN_KEY is given,
# and the SQLite store when no DATABASE_URL is given.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# 8080: the API, web app and console; 9464: GET /metrics without a key, for Prometheus.
EXPOSE 8080 9464
# /readyz answers 200 once every engine has loaded (503 while loading or after a failure).
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/skylark.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--metrics-port", "9464", "--data", "/data"]
