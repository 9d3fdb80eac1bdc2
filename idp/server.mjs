// Dexin's local OpenID Connect provider (issue 14): a configured oidc-provider instance for the
// demo and the tests. Usage: node idp/server.mjs CONFIG.json
// Prints `ready <issuer>` on stdout once listening; exits cleanly on SIGTERM or SIGINT.
import { createServer } from 'node:http';

import { Provider } from 'oidc-provider';

import { loadConfig, providerConfiguration } from './config.mjs';
import { interactionRoutes } from './interactions.mjs';

// One JSON line per event; never a password, a login name or an ID number.
function log(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`);
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address()));
  });
}

function issuerFor(config, address) {
  if (config.issuer) return config.issuer;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function watchProvider(provider) {
  provider.on('server_error', (_ctx, err) => log('server_error', { error: err.name, message: err.message }));
  for (const name of ['authorization.error', 'grant.error', 'userinfo.error']) {
    provider.on(name, (_ctx, err) => log(name, { error: err.error ?? err.name, description: err.error_description }));
  }
  provider.on('grant.success', (ctx) => log('grant', { client: ctx.oidc.client?.clientId }));
}

function stopOn(server) {
  const stop = (signal) => {
    log('stopping', { signal });
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(configPath) {
  if (!configPath) throw new TypeError('usage: node idp/server.mjs CONFIG.json');
  const config = loadConfig(configPath);
  const server = createServer();
  const address = await listen(server, config.port, config.host);
  const issuer = issuerFor(config, address);
  const { accounts, configuration } = providerConfiguration(config);
  const provider = new Provider(issuer, configuration);
  provider.use(interactionRoutes(provider, { accounts, csrfKey: config.csrfKey, log }));
  watchProvider(provider);
  server.on('request', provider.callback());
  stopOn(server);
  process.stdout.write(`ready ${issuer}\n`);
}

main(process.argv[2]).catch((err) => {
  process.stderr.write(`idp: ${err.stack ?? err}\n`);
  process.exit(1);
});
