# pacs-indexer: one image for the central receiver (default) and the centre agent (`indexer …`).
#   docker build -t pacs-indexer .
#   docker run -e RECEIVER_DATABASE_URL=mysql://… -e RECEIVER_HOST=0.0.0.0 -p 8080:8080 pacs-indexer
#   docker run --rm -e RECEIVER_DATABASE_URL=mysql://… pacs-indexer indexer-receiver migrate
#   docker run --rm -v /etc/pacs-indexer:/app/config pacs-indexer indexer sync

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
COPY scripts ./scripts
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    RECEIVER_HOST=0.0.0.0 \
    RECEIVER_PORT=8080
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY sql ./sql
# Examples only: real config.json / server.json are mounted at run time, never baked in.
COPY config ./config
COPY server.json.example ./
RUN chmod +x dist/src/receiver/main.js dist/src/agent/main.js \
 && ln -s /app/dist/src/receiver/main.js /usr/local/bin/indexer-receiver \
 && ln -s /app/dist/src/agent/main.js /usr/local/bin/indexer
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+(process.env.RECEIVER_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["indexer-receiver", "serve"]
