// Reads the JSON config written by dexin/identity_provider.py and turns it into
// oidc-provider's configuration (docs/identity.md describes every field).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { parseHash } from './passwords.mjs';

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

function need(value, what) {
  if (value === undefined || value === null || value === '') {
    throw new TypeError(`config: ${what} is required`);
  }
  return value;
}

export function loadConfig(path) {
  const raw = readJson(path);
  if (raw.version !== 1) throw new TypeError('config: version must be 1');
  const secrets = readJson(need(raw.secrets_file, 'secrets_file'));
  return {
    issuer: raw.issuer || undefined,
    host: raw.host || '127.0.0.1',
    port: Number(raw.port ?? 0),
    alg: need(raw.id_token_signing_alg, 'id_token_signing_alg'),
    idNumberClaim: need(raw.id_number_claim, 'id_number_claim'),
    residentScope: need(raw.resident_scope, 'resident_scope'),
    ttl: need(raw.ttl, 'ttl'),
    clients: need(raw.clients, 'clients'),
    residents: need(raw.residents, 'residents').map((r) => ({
      accountId: need(r.account_id, 'residents[].account_id'),
      login: need(r.login, 'residents[].login'),
      passwordHash: parseHash(need(r.password_hash, 'residents[].password_hash')),
      name: r.name,
      idNumber: need(r.id_number, 'residents[].id_number'),
    })),
    jwks: readJson(need(raw.signing_keys_file, 'signing_keys_file')),
    pairwiseSalt: Buffer.from(need(secrets.pairwise_salt, 'pairwise_salt'), 'base64url'),
    cookieKeys: need(secrets.cookie_keys, 'cookie_keys'),
    csrfKey: Buffer.from(need(secrets.csrf_key, 'csrf_key'), 'base64url'),
  };
}

function accountStore(config) {
  const byId = new Map(config.residents.map((r) => [r.accountId, r]));
  const findAccount = async (_ctx, id) => {
    const resident = byId.get(id);
    if (!resident) return undefined;
    return {
      accountId: id,
      // oidc-provider masks claims by the granted scopes too; the ID number is also left out
      // here unless the resident scope was granted, so no code path can release it by mistake.
      async claims(_use, scope) {
        const granted = new Set(String(scope ?? '').split(' '));
        return {
          sub: id,
          ...(granted.has('profile') && resident.name ? { name: resident.name } : {}),
          ...(granted.has(config.residentScope) ? { [config.idNumberClaim]: resident.idNumber } : {}),
        };
      },
    };
  };
  return { byLogin: new Map(config.residents.map((r) => [r.login, r])), findAccount };
}

// OIDC Core 8.1: a pairwise `sub` is the same for one resident across the clients of one
// sector (the redirect_uris' host, or sector_identifier_uri) and unlinkable across sectors.
function pairwiseIdentifier(salt) {
  return async (_ctx, accountId, client) => createHmac('sha256', salt)
    .update(`${client.sectorIdentifier}\u0000${accountId}`)
    .digest('base64url');
}

// Every statically configured client is a first-party service of the data authority, so the
// scopes it is allowed (its `scope` metadata) are granted without a consent screen; a fresh
// grant per request carries exactly the scopes of that request and nothing from an earlier one.
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grant = new oidc.provider.Grant({
    accountId: oidc.session.accountId,
    clientId: oidc.client.clientId,
  });
  grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
  await grant.save();
  return grant;
}

function clientMetadata(client) {
  return {
    client_id: need(client.client_id, 'clients[].client_id'),
    client_secret: need(client.client_secret, 'clients[].client_secret'),
    client_name: client.client_name || client.client_id,
    redirect_uris: need(client.redirect_uris, 'clients[].redirect_uris'),
    token_endpoint_auth_method: client.token_endpoint_auth_method || 'client_secret_basic',
    scope: need(client.scope, 'clients[].scope'),
  };
}

export function providerConfiguration(config) {
  const accounts = accountStore(config);
  const scopes = ['openid', 'profile', config.residentScope];
  return {
    accounts,
    configuration: {
      clients: config.clients.map(clientMetadata),
      clientDefaults: {
        grant_types: ['authorization_code'],
        response_types: ['code'],
        id_token_signed_response_alg: config.alg,
        require_auth_time: true,
      },
      clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
      allowOmittingSingleRegisteredRedirectUri: false,
      responseTypes: ['code'],
      scopes,
      claims: {
        acr: null,
        auth_time: null,
        iss: null,
        sid: null,
        // amr under `openid`: every ID token says how the resident authenticated ("pwd").
        openid: ['sub', 'amr'],
        profile: ['name'],
        [config.residentScope]: [config.idNumberClaim],
      },
      // Scope-requested claims go into the ID token (the signed evidence the relying party
      // keeps), not only into the UserInfo response.
      conformIdTokenClaims: false,
      subjectTypes: ['pairwise'],
      pairwiseIdentifier: pairwiseIdentifier(config.pairwiseSalt),
      pkce: { required: () => true },
      findAccount: accounts.findAccount,
      loadExistingGrant,
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        userinfo: { enabled: true },
        revocation: { enabled: false },
        introspection: { enabled: false },
      },
      enabledJWA: { idTokenSigningAlgValues: [config.alg] },
      jwks: config.jwks,
      cookies: { keys: config.cookieKeys },
      ttl: {
        AuthorizationCode: config.ttl.authorization_code,
        AccessToken: config.ttl.access_token,
        IdToken: config.ttl.id_token,
        Interaction: config.ttl.interaction,
        Session: config.ttl.session,
        Grant: config.ttl.session,
      },
    },
  };
}
