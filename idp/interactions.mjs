// The sign-in interaction, through oidc-provider's interaction API (interactionDetails,
// interactionResult): GET shows the form, POST .../login checks the password, POST .../abort
// cancels. The forms carry a token bound to the interaction (HMAC of its uid), on top of the
// SameSite=Lax interaction cookie, so no other site can submit them.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { errors } from 'oidc-provider';

import { errorPage, loginPage } from './login_page.mjs';
import { verifyPassword } from './passwords.mjs';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|abort))?$/;
const MAX_FORM_BYTES = 8 * 1024;
const MAX_FAILURES = 5;
const FRESH_REASONS = new Set(['login_prompt', 'max_age']);

class FormError extends Error {
  constructor(status) {
    super('unacceptable form');
    this.status = status;
  }
}

function secureHeaders(ctx) {
  ctx.set('cache-control', 'no-store');
  ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  ctx.set('x-frame-options', 'DENY');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('referrer-policy', 'no-referrer');
}

async function readForm(ctx) {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new FormError(415);
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new FormError(413);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sameToken(given, expected) {
  const a = Buffer.from(String(given ?? ''));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function html(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = body;
}

export function interactionRoutes(provider, { accounts, csrfKey, log }) {
  const failures = new Map();
  const csrfFor = (uid) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
  const someHash = accounts.byLogin.values().next().value?.passwordHash;
  const decoy = someHash && { ...someHash, salt: randomBytes(16), key: randomBytes(someHash.key.length) };

  async function details(ctx, uid) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== uid) throw new errors.SessionNotFound('interaction mismatch');
    return interaction;
  }

  async function finish(ctx, result) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function showForm(ctx, interaction, error) {
    const client = await provider.Client.find(interaction.params.client_id);
    const reasons = interaction.prompt.reasons ?? [];
    html(ctx, error ? 401 : 200, loginPage({
      uid: interaction.uid,
      csrf: csrfFor(interaction.uid),
      clientName: client?.clientName ?? interaction.params.client_id,
      fresh: reasons.some((r) => FRESH_REASONS.has(r)),
      error,
    }));
  }

  async function show(ctx, uid) {
    const interaction = await details(ctx, uid);
    if (interaction.prompt.name !== 'login') {
      log('interaction_refused', { uid, prompt: interaction.prompt.name });
      return finish(ctx, { error: 'access_denied', error_description: 'unsupported interaction' });
    }
    return showForm(ctx, interaction, false);
  }

  async function checkPassword(login, password) {
    const resident = accounts.byLogin.get(login);
    const ok = await verifyPassword(password, resident?.passwordHash ?? decoy);
    return ok && resident ? resident : undefined;
  }

  async function login(ctx, uid) {
    const form = await readForm(ctx);
    const interaction = await details(ctx, uid);
    if (!sameToken(form.get('csrf'), csrfFor(uid))) throw new FormError(403);
    if (interaction.prompt.name !== 'login') throw new FormError(409);
    const resident = await checkPassword(form.get('login') ?? '', form.get('password') ?? '');
    const client = interaction.params.client_id;
    if (resident) {
      failures.delete(uid);
      log('login', { uid, client, account: resident.accountId });
      return finish(ctx, { login: { accountId: resident.accountId, amr: ['pwd'], remember: false } });
    }
    const count = (failures.get(uid) ?? 0) + 1;
    log('login_failed', { uid, client, attempt: count });
    if (count < MAX_FAILURES) {
      if (failures.size >= 10_000) failures.clear(); // abandoned interactions: bound the memory
      failures.set(uid, count);
      return showForm(ctx, interaction, true);
    }
    failures.delete(uid);
    return finish(ctx, { error: 'access_denied', error_description: 'too many failed sign-in attempts' });
  }

  async function abort(ctx, uid) {
    const form = await readForm(ctx);
    await details(ctx, uid);
    if (!sameToken(form.get('csrf'), csrfFor(uid))) throw new FormError(403);
    failures.delete(uid);
    log('login_cancelled', { uid });
    return finish(ctx, { error: 'access_denied', error_description: 'End-User cancelled the sign-in' });
  }

  return async function interactions(ctx, next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match;
    secureHeaders(ctx);
    try {
      if (!action && ctx.method === 'GET') return await show(ctx, uid);
      if (action === 'login' && ctx.method === 'POST') return await login(ctx, uid);
      if (action === 'abort' && ctx.method === 'POST') return await abort(ctx, uid);
      return html(ctx, 405, errorPage('不支持的请求。', 'Method not allowed.'));
    } catch (err) {
      if (err instanceof errors.SessionNotFound) {
        return html(ctx, 400, errorPage('登录会话已失效，请返回重新开始。', 'The sign-in session has expired; please start again.'));
      }
      if (err instanceof FormError) {
        return html(ctx, err.status, errorPage('请求无效，请返回重新开始。', 'Invalid request; please start again.'));
      }
      throw err;
    }
  };
}
