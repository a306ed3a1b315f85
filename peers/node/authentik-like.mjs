// An authentik-like OIDC provider for the harness's IdP application checks: node
// oidc-provider mounted at /application/o/<slug>/ (authentik's issuer layout), one
// confidential client, users with passwords and groups, and an application group whose
// non-members are refused with error=access_denied (authentik's binding).
//
// Usage: node authentik-like.mjs CONFIG.json
// CONFIG: { port, slug, client: { client_id, client_secret, redirect_uris,
//           id_token_signed_response_alg? }, app_group, omit_claims?: [..],
//           users: [{ username, password, email, given_name, family_name, groups }] }
// The first stdout line is "authentik-like listening on <issuer>" once it accepts requests.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const mount = `/application/o/${config.slug}`;
const issuer = `http://127.0.0.1:${config.port}${mount}/`;
const omit = new Set(config.omit_claims || []);
const users = new Map(config.users.map((u) => [u.username, u]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client.client_id,
    client_secret: config.client.client_secret,
    redirect_uris: config.client.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: config.client.id_token_signed_response_alg || 'RS256',
  }],
  jwks: { keys: [jwk] },
  // authentik puts the profile and email claims into the ID token itself.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  features: { devInteractions: { enabled: false } },
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] },
  interactions: { url: (ctx, interaction) => `${mount}/interaction/${interaction.uid}` },
  // authentik's default consent is implicit: every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const u = users.get(id);
    if (!u) return undefined;
    return {
      accountId: id,
      async claims() {
        const all = {
          sub: id,
          email: u.email,
          email_verified: true,
          name: `${u.given_name} ${u.family_name}`,
          given_name: u.given_name,
          family_name: u.family_name,
          preferred_username: u.username,
        };
        for (const k of omit) delete all[k];
        return all;
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Error</title><h1 id="idp-error">${escape(out.error)}</h1><p id="idp-error-description">${escape(out.error_description || '')}</p>`;
  },
});

const loginPage = (uid, message) => `<!doctype html><html><head><title>authentik</title></head><body>
<h1>Welcome to authentik!</h1>${message ? `<p id="login-error">${escape(message)}</p>` : ''}
<form method="post" action="${mount}/interaction/${escape(uid)}/login">
<input name="uidField" id="uid-field" autocomplete="username">
<input name="password" id="password" type="password" autocomplete="current-password">
<button type="submit" id="log-in">Log in</button></form></body></html>`;

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (c) => { body += c; if (body.length > 65536) reject(new Error('form too large')); });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res, path) {
  const m = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!m) return false;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== m[1]) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(details.uid));
    return true;
  }
  if (req.method === 'POST' && m[2]) {
    const form = await readForm(req);
    const u = users.get(form.get('uidField') || '');
    if (!u || u.password !== form.get('password')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(loginPage(details.uid, 'Invalid username or password'));
      return true;
    }
    if (config.app_group && !(u.groups || []).includes(config.app_group)) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: `${u.username} is not bound to this application (group ${config.app_group})`,
      }, { mergeWithLastSubmission: false });
      return true;
    }
    await provider.interactionFinished(req, res, { login: { accountId: u.username } },
      { mergeWithLastSubmission: false });
    return true;
  }
  return false;
}

const handler = provider.callback();
const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (!url.pathname.startsWith(`${mount}/`)) {
      res.writeHead(404).end('not found');
      return;
    }
    const path = url.pathname.slice(mount.length);
    if (await interaction(req, res, path)) return;
    // oidc-provider derives its mount path from originalUrl minus url.
    req.originalUrl = req.url;
    req.url = req.url.slice(mount.length);
    handler(req, res);
  } catch (e) {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`error: ${e.message}`);
  }
});
server.listen(config.port, '127.0.0.1', () => {
  console.log(`authentik-like listening on ${issuer}`);
});
