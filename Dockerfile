FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# /app belongs to root and the gateway runs as `node`: what it writes (the development encryption
# key when SESSION_ENCRYPTION_KEY is unset, the embedded PostgreSQL when DATABASE_URL is unset)
# goes to /data, owned by `node`. A volume mounted there starts with this ownership.
RUN mkdir /data && chown node:node /data
ENV DATA_DIR=/data
VOLUME /data
USER node
EXPOSE 3000
CMD ["node", "dist/main.js"]
