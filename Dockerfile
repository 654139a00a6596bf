# One image for every shopforce processor (and the CLI); scale with replicas.
FROM node:20.20-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false
COPY bin ./bin
COPY src ./src
COPY schemas ./schemas
COPY connectors ./connectors
COPY examples ./examples
COPY tsconfig.json ./
ENV NODE_ENV=production
# in a container /metrics, /healthz and /readyz listen on every interface (observability.metricsHost)
ENV SHOPFORCE_METRICS_HOST=0.0.0.0
ENTRYPOINT ["node", "bin/shopforce.js"]
CMD ["--help"]
