# The residents' OpenID Connect provider (idp/server.mjs, oidc-provider from package-lock.json).
# Built from the repository root: docker compose build idp.
FROM node:22-bookworm-slim
WORKDIR /opt/idp
COPY package.json package-lock.json ./
# exactly the lock file; no install scripts (nothing is downloaded beyond the registry tarballs)
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY idp ./idp
USER node
CMD ["node", "idp/server.mjs", "/run/secrets/idp_config"]
