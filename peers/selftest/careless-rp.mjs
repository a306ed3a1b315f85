// careless-rp: an OpenID Connect relying party written here to prove that the oidc-rp pack
// can catch an RP (a scenario is proven by a target it catches and a target it clears).
// By default it does every check an RP should (authorization code flow with state, nonce and
// PKCE, client_secret_basic, ID token verified against the OP's JWKS, UserInfo bound to the
// ID token, back-channel logout per OpenID Connect Back-Channel Logout 1.0). The environment
// variable CARELESS (a comma list of switch names, see SWITCHES) turns named checks off; each
// switch models a mistake real relying parties and JOSE libraries have made.
//
// Node 20, node's own modules only. Configured by the environment:
//   PORT, OIDC_DISCOVERY_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI,
//   OIDC_POST_LOGOUT_REDIRECT_URI (optional), CARELESS (optional).
//   OIDC_RESPONSE_TYPE (optional: code, or the hybrid code id_token / code id_token token),
//   OIDC_RESPONSE_MODE (optional: query, fragment, form_post; or query.jwt for JARM, code
//   flow only; a JARM mode in the file `response-mode` of the working directory, which the
//   harness writes, wins), OIDC_REQUIRE_S_HASH (true: the front ID token is a detached
//   signature, FAPI 1 Advanced).
//   A second OP beside the first (the same redirect URI): OIDC_SECOND_DISCOVERY_URL,
//   OIDC_SECOND_CLIENT_ID, OIDC_SECOND_CLIENT_SECRET (optional; /secure?op=attacker signs in
//   there).
// Pages: /secure (the signed-in email in #user-email; starts a sign-in when there is no
// session), /me (who is signed in, never starts a sign-in), /auth/callback, /logout,
// /signed-out (where the OP sends the browser back after logout),
// /backchannel-logout (POST logout_token), /initiate-login (third-party-initiated login: iss,
// login_hint, target_link_uri), /health. A refusal answers 403 with the reason in
// #error and logs `refused: <check>: <reason>` on stderr.
import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolveClaimSources } from './claim-sources.mjs';

// Every switch and the mistake it models. One check function per switch (below).
const SWITCHES = {
  verify: 'decodes the ID token without verifying its signature (the token came straight from the token endpoint over TLS, so why check)',
  alg: 'accepts any algorithm the key type allows, its name compared case-insensitively, instead of only the registered one',
  signature: 'lets the header decide how to verify: alg none (any case) or an empty signature means nothing to check, HS* is an HMAC keyed with the OP\'s public key as the key store holds it',
  keys: 'takes the key the token points at: an embedded jwk or x5c, a jku/x5u URL, a kid that is a URL or a key file path',
  crit: 'ignores the crit header instead of refusing extensions it does not implement',
  jwks_cache: 'fetches the JWKS once and keeps it forever: never refetches for an unknown kid, and trusts a key the OP has removed',
  duplicates: 'parses the ID token payload with JSON.parse, which keeps the last of duplicate members',
  header_claims: 'reads identity claims from the header merged over the payload',
  iss: 'never compares iss with the issuer',
  aud: 'never checks aud',
  azp: 'never checks azp',
  exp: 'never checks exp',
  iat: 'never checks iat',
  nbf: 'never checks nbf',
  sub: 'does not require sub to be a non-empty string',
  at_hash: 'never checks at_hash against the access token',
  c_hash: 'never checks c_hash against the code',
  email_verified: 'shows and trusts the email whatever email_verified says',
  nonce: 'sends one fixed nonce and never compares it',
  state: 'sends one fixed state, not bound to the browser, and never compares it',
  pkce: 'sends no PKCE code challenge',
  iss_param: 'ignores the RFC 9207 iss parameter of the authorization response',
  token_type: 'uses the access token whatever token_type says',
  id_token: 'signs in from UserInfo when the token response has no ID token (OAuth as login)',
  bearer_query: 'sends the access token to UserInfo in the query string instead of the Authorization header',
  userinfo_sub: 'takes UserInfo claims without comparing their sub with the ID token\'s',
  userinfo_signature: 'decodes a signed UserInfo answer without verifying it',
  logout_token: 'ends sessions for any logout token it can decode, without verifying it',
  jarm_verify: 'decodes the JARM response JWT without verifying its signature (it came through the browser from the OP, so why check)',
  jarm_claims: 'never checks iss, aud or exp of the JARM response JWT',
  post_logout_state: 'carries the page to go back to after logout in the state itself, and follows whatever state the post-logout redirect brings',
  frontchannel: 'ends the browser\'s session on any request to its front-channel logout URL, without checking iss and sid',
  // Hybrid flow (OIDC_RESPONSE_TYPE code id_token...): the front-channel ID token.
  front_id_token: 'hybrid flow: asks for code id_token, then takes the code and ignores the ID token that came with it',
  c_hash_optional: 'hybrid flow: checks c_hash only when present, the code flow\'s rule, so a front ID token without it binds no code',
  at_hash_front: 'hybrid flow: checks the front ID token\'s at_hash only when present, although an access token came with it',
  s_hash: 'hybrid flow, detached signature: never checks s_hash against the state',
  error_page: 'shows the OP\'s error_description on its error page as HTML, unescaped (reflected markup, CWE-79)',
  // multiop section (discovery, several OPs)
  discovery_issuer: 'takes a discovery document whatever issuer it names, and checks iss against the issuer its discovery URL implies instead',
  discovery_endpoints: 'sends the code, its client secret and the access token wherever discovery says, even to another host than the issuer',
  account_email: 'finds the account by the email claim alone, whichever OP vouched for it, instead of by (iss, sub)',
  account_sub: 'finds the account by sub alone, whichever OP issued it, instead of by (iss, sub)',
  aud_any_op: 'accepts an ID token whose aud is the client_id this RP has at any of its OPs',
  op_session: 'keeps the OP of a sign-in in the browser session (one cookie, the last sign-in started wins) instead of with its state',
  // tokens section (refresh, symmetric header keys)
  refresh_identity: 'takes a refreshed ID token after checking only its signature: its iss and sub are neither validated nor compared with the original ID token\'s',
  oct_jwk: 'verifies an HS* token with the symmetric key (oct jwk) its own header carries',
  // initiate section (third-party-initiated login, /initiate-login)
  initiate_any_iss: 'third-party login: fetches the discovery document of whatever iss the initiate_login_uri request names, then looks for the OP it describes',
  // jwe section (encrypted ID tokens, /jwks)
  jwe_rsa1_5: 'encrypted ID token: unwraps an RSA1_5 (PKCS #1 v1.5) content key as readily as RSA-OAEP, a padding oracle FAPI forbids',
  jwe_tag: 'encrypted ID token: decrypts without checking the authentication tag',
  jwe_trust: 'encrypted ID token: skips the inner signature check ("only the OP has our public key"; anyone does)',
  // claim-sources section (aggregated and distributed claims, claim-sources.mjs)
  claims_signature: 'adopts aggregated and distributed claims from their JWT without verifying its signature (it came inside the OP\'s own answer)',
  claims_endpoint: 'fetches distributed claims from whatever endpoint the UserInfo answer names, handing that host the access token',
};

const env = process.env;
const careless = new Set(
  (env.CARELESS || '').split(',').map((s) => s.trim()).filter(Boolean),
);
for (const name of careless) {
  if (!(name in SWITCHES)) {
    console.error(`CARELESS: unknown switch '${name}'; known: ${Object.keys(SWITCHES).join(', ')}`);
    process.exit(2);
  }
}
for (const key of ['PORT', 'OIDC_DISCOVERY_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URI']) {
  if (!env[key]) {
    console.error(`${key} is not set`);
    process.exit(2);
  }
}
const careful = (name) => !careless.has(name);
// The algorithm registered for this client's ID tokens.
const REGISTERED_ALG = 'RS256';
const SKEW_S = 60;
const MAX_AGE_S = 600;
const FETCH_MS = 5000;

/// A refusal: which check said no, and why.
class Refusal extends Error {
  constructor(check, message) {
    super(message);
    this.check = check;
  }
}
const refuse = (check, message) => {
  throw new Refusal(check, message);
};

const b64u = (s) => Buffer.from(s, 'base64url');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const now = () => Math.floor(Date.now() / 1000);
const random = () => crypto.randomBytes(24).toString('base64url');

async function getJson(url, init = {}) {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(FETCH_MS) });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') || '', text };
}

// --- discovery and keys ---------------------------------------------------------------

// The OP of the request being handled (see the multiop section): its discovery document and
// JWKS are cached per OP.
async function op() {
  const o = cur();
  if (!o.discovery) {
    const r = await getJson(o.discoveryUrl);
    if (r.status !== 200) refuse('discovery', `discovery answered ${r.status}`);
    const doc = JSON.parse(r.text);
    checkDiscoveryIssuer(doc);
    checkDiscoveryEndpoints(doc);
    o.discovery = doc;
  }
  return o.discovery;
}

async function loadJwks() {
  const jwks = cur().jwks;
  const r = await getJson((await op()).jwks_uri);
  if (r.status !== 200) refuse('keys', `jwks_uri answered ${r.status}`);
  const doc = JSON.parse(r.text);
  jwks.keys = Array.isArray(doc.keys) ? doc.keys : [];
  jwks.loaded = true;
}

// jwks_cache: an unknown kid may mean the OP rotated its key, so the careful RP refetches
// (at most one refetch every 5 s, so a flood of bogus kids cannot make it hammer the OP; the
// first load does not count, or a rotation right after a sign-in would be refused); the
// careless one keeps the first JWKS it saw for good.
async function jwksFor(kid) {
  const jwks = cur().jwks;
  if (!jwks.loaded) await loadJwks();
  const known = () => kid === undefined || jwks.keys.some((k) => k.kid === kid);
  if (!known() && careful('jwks_cache') && Date.now() - jwks.refetchedAt > 5000) {
    jwks.refetchedAt = Date.now();
    await loadJwks();
  }
  return jwks.keys;
}

// --- multiop: discovery and several OPs ----------------------------------------------------

const WELL_KNOWN = '/.well-known/openid-configuration';
/// The issuer the configured discovery URL belongs to (OpenID Connect Discovery 4: the URL is
/// the issuer with the well-known path appended).
const configuredIssuer = () => cur().discoveryUrl.replace(/\/\.well-known\/openid-configuration$/, '');

// discovery_issuer: the careful RP refuses a discovery document whose issuer is not the one
// its URL belongs to (Discovery 4.3); the careless one takes it, and then checks tokens
// against the issuer it derives from the discovery URL itself, so a document that lies
// about its issuer changes nothing it notices.
function checkDiscoveryIssuer(doc) {
  if (!careful('discovery_issuer')) return;
  const issuer = typeof doc.issuer === 'string' ? doc.issuer : '';
  if (`${issuer.replace(/\/$/, '')}${WELL_KNOWN}` !== cur().discoveryUrl) {
    refuse('discovery_issuer', `the discovery document names the issuer ${JSON.stringify(doc.issuer)}, not the one ${cur().discoveryUrl} belongs to`);
  }
}

// discovery_endpoints: the token endpoint receives the code and the client secret, UserInfo
// the access token; the careful RP sends them only to the issuer's own origin.
function checkDiscoveryEndpoints(doc) {
  if (!careful('discovery_endpoints')) return;
  const origin = (u) => {
    try {
      return new URL(u).origin;
    } catch {
      return undefined;
    }
  };
  const own = origin(doc.issuer);
  for (const member of ['token_endpoint', 'userinfo_endpoint']) {
    if (doc[member] !== undefined && origin(doc[member]) !== own) {
      refuse('discovery_endpoints', `${member} ${doc[member]} is not on the issuer's origin ${own}`);
    }
  }
}

// The OPs this RP trusts: the first (OIDC_*) and an optional second one (OIDC_SECOND_*),
// sharing one redirect URI. The OP of each request is held in async-local storage, so the
// code above reads "the current OP" without passing it along.
const OPS = { main: { name: 'main', discoveryUrl: env.OIDC_DISCOVERY_URL, clientId: env.OIDC_CLIENT_ID, clientSecret: env.OIDC_CLIENT_SECRET } };
if (env.OIDC_SECOND_DISCOVERY_URL) {
  OPS.attacker = { name: 'attacker', discoveryUrl: env.OIDC_SECOND_DISCOVERY_URL, clientId: env.OIDC_SECOND_CLIENT_ID, clientSecret: env.OIDC_SECOND_CLIENT_SECRET };
}
for (const o of Object.values(OPS)) o.jwks = { keys: [], refetchedAt: 0, loaded: false };
const opStore = new AsyncLocalStorage();
function cur() {
  return opStore.getStore() || OPS.main;
}
const clientId = () => cur().clientId;
const inOp = (o, fn) => opStore.run(o, fn);
function opNamed(name) {
  return OPS[name] || refuse('op', `no OP named ${JSON.stringify(name)} is configured`);
}

// The callback is answered by the OP its sign-in was started at: the careful RP keeps that
// OP with the state (the issuer in the session); one without state checks has only its last
// sign-in to go by.
// op_session: the careless RP keeps "the OP this browser is signing in at" in one cookie;
// a second sign-in started in the same browser (at the attacker's OP) overwrites it, and the
// first sign-in's code then goes to the attacker's token endpoint (session overwriting).
function opOfCallback(req, url) {
  if (!careful('op_session')) return OPS[cookie(req, 'rp_op')] || OPS.main;
  const login = careful('state') ? pending.get(url.searchParams.get('state') || '') : lastLogin;
  return OPS[login?.op] || OPS.main;
}

// aud_any_op: the careful RP accepts only the client_id it has at the OP that issued the
// token; the careless one any of its client_ids (a token one OP issued for the RP's client
// at another OP is then taken).
function audiences() {
  if (careful('aud_any_op')) return [clientId()];
  return Object.values(OPS).map((o) => o.clientId);
}

// Accounts are (iss, sub); the email is what the OP says now. account_email / account_sub:
// the careless RP finds an existing account by the email or the sub alone, so another OP's
// token with the victim's email (or sub) opens the victim's account. The careful one also
// refuses an email that an account of another issuer holds: an OP vouches for its own users,
// not for addresses it does not own.
const accounts = new Map(); // `${iss} ${sub}` -> { iss, sub, email }
function signInAccount(iss, sub, email) {
  const key = `${iss} ${sub}`;
  const all = [...accounts.values()];
  const sameEmail = all.find((a) => a.email.toLowerCase() === email.toLowerCase() && a.iss !== iss);
  const sameSub = all.find((a) => a.sub === sub && a.iss !== iss);
  if (!careful('account_email') && sameEmail) return sameEmail;
  if (!careful('account_sub') && sameSub) return sameSub;
  if (!accounts.has(key) && sameEmail) {
    refuse('account_email', `${email} belongs to an account of another OP`);
  }
  const account = accounts.get(key) || { iss, sub, email };
  account.email = email;
  accounts.set(key, account);
  return account;
}

function isIssuer(iss, d) {
  const lying = `${String(d.issuer).replace(/\/$/, '')}${WELL_KNOWN}` !== cur().discoveryUrl;
  if (careful('discovery_issuer') || !lying) return iss === d.issuer;
  return typeof iss === 'string' && iss.replace(/\/$/, '') === configuredIssuer();
}

// --- JSON with duplicate members ---------------------------------------------------------

/// The top-level member names that occur more than once in a JSON object's text. JSON.parse
/// silently keeps the last one; two parsers that disagree on which one is how a duplicate
/// member smuggles a second identity.
function duplicateMembers(text) {
  const dups = new Set();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const str = () => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (depth) => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const seen = new Set();
      i++;
      ws();
      while (i < text.length && text[i] !== (c === '{' ? '}' : ']')) {
        if (c === '{') {
          ws();
          const k = str();
          if (depth === 0 && seen.has(k)) dups.add(k);
          seen.add(k);
          ws();
          i++; // ':'
        }
        value(depth + 1);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',]} \t\r\n'.includes(text[i])) i++;
    }
  };
  value(0);
  return dups;
}

// --- JWS ------------------------------------------------------------------------------------

function parseJws(jwt) {
  if (typeof jwt !== 'string') refuse('signature', 'no token');
  const parts = jwt.split('.');
  if (parts.length !== 3 && parts.length !== 2) refuse('signature', `${parts.length} segments`);
  const [h, p, s = ''] = parts;
  let header;
  let payloadText;
  try {
    header = JSON.parse(b64u(h).toString('utf8'));
    payloadText = b64u(p).toString('utf8');
    JSON.parse(payloadText);
  } catch (e) {
    refuse('signature', `not a JWS: ${e.message}`);
  }
  if (typeof header !== 'object' || header === null) refuse('signature', 'header is not an object');
  return { header, payloadText, signingInput: Buffer.from(`${h}.${p}`), signature: b64u(s), segments: parts.length };
}

const FAMILIES = {
  RS: { kty: 'RSA', node: (bits) => ({ hash: `sha${bits}` }) },
  PS: { kty: 'RSA', node: (bits) => ({ hash: `sha${bits}`, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 }) },
  ES: { kty: 'EC', node: (bits) => ({ hash: `sha${bits}`, dsaEncoding: 'ieee-p1363' }) },
};

// alg: the careful RP accepts exactly the registered algorithm; the careless one any name it
// knows in any letter case (a verifier that lets the token pick among what the key allows,
// and normalises "rs256" to RS256).
function checkAlg(header) {
  const alg = header.alg;
  if (careful('alg')) {
    if (alg !== REGISTERED_ALG) refuse('alg', `alg ${JSON.stringify(alg)} is not the registered ${REGISTERED_ALG}`);
    return alg;
  }
  if (typeof alg !== 'string') refuse('alg', 'alg is not a string');
  const upper = alg.toUpperCase();
  if (upper === 'NONE') return 'none';
  if (upper === 'EDDSA') return 'EdDSA';
  if (/^(RS|PS|ES|HS)(256|384|512)$/.test(upper)) return upper;
  return refuse('alg', `unknown alg ${alg}`);
}

// crit: RFC 7515 4.1.11: a JWS whose crit names an extension the verifier does not
// implement MUST be refused; this RP implements none.
function checkCrit(header) {
  if (careful('crit') && header.crit !== undefined) {
    refuse('crit', `crit ${JSON.stringify(header.crit)} names extensions this RP does not implement`);
  }
}

/// Where a key named by the header would come from if the RP trusted the header.
const KEY_DIR = '/var/lib/careless-rp/keys';

// keys: the careful RP takes keys only from the OP's jwks_uri, by kid. The careless one
// follows the header (CVE-2018-0114 and its kin): an embedded jwk or x5c certificate, a
// jku/x5u URL, a kid that is a URL, or a kid that names a key file.
async function headerKeys(header) {
  if (careful('keys')) return [];
  const out = [];
  if (header.jwk && typeof header.jwk === 'object') out.push(crypto.createPublicKey({ key: header.jwk, format: 'jwk' }));
  if (Array.isArray(header.x5c) && header.x5c[0]) {
    out.push(new crypto.X509Certificate(Buffer.from(header.x5c[0], 'base64')).publicKey);
  }
  for (const url of [header.jku, header.x5u, header.kid]) {
    if (typeof url === 'string' && /^https?:\/\//.test(url)) {
      const r = await getJson(url);
      if (r.status !== 200) continue;
      if (r.text.includes('BEGIN')) out.push(crypto.createPublicKey(r.text));
      else for (const k of JSON.parse(r.text).keys || []) out.push(crypto.createPublicKey({ key: k, format: 'jwk' }));
    }
  }
  if (typeof header.kid === 'string' && header.kid.includes('/')) {
    // A key store of files named by kid: path.join lets ../ walk out of it.
    const file = path.join(KEY_DIR, header.kid);
    try {
      out.push({ secret: fs.readFileSync(file) });
    } catch (e) {
      console.error(`key file ${file}: ${e.message}`);
    }
  }
  return out;
}

/// The OP's keys that could verify this token: by kid, or every key when there is no kid.
async function opKeys(header) {
  const keys = await jwksFor(header.kid);
  const match = header.kid === undefined ? keys : keys.filter((k) => k.kid === header.kid);
  return match.map((k) => ({ jwk: k, key: crypto.createPublicKey({ key: k, format: 'jwk' }) }));
}

/// Every form a key store might hand an RSA public key out in: what HMAC-with-the-public-key
/// libraries were keyed with (PEM: CVE-2015-9235, PKCS#1: CVE-2017-11424, JWK text:
/// CVE-2022-29217).
function serialisations(k) {
  const out = [];
  if (k.key.asymmetricKeyType === 'rsa') {
    out.push(k.key.export({ type: 'spki', format: 'pem' }), k.key.export({ type: 'pkcs1', format: 'pem' }));
    out.push(k.key.export({ type: 'spki', format: 'der' }), k.key.export({ type: 'pkcs1', format: 'der' }));
  }
  if (k.jwk) {
    out.push(Buffer.from(JSON.stringify(k.jwk)));
    const sorted = Object.fromEntries(Object.entries(k.jwk).sort(([a], [b]) => (a < b ? -1 : 1)));
    out.push(Buffer.from(JSON.stringify(sorted)));
  }
  return out;
}

function hmacOk(alg, secret, jws) {
  const mac = crypto.createHmac(`sha${alg.slice(2)}`, secret).update(jws.signingInput).digest();
  return mac.length === jws.signature.length && crypto.timingSafeEqual(mac, jws.signature);
}

function asymmetricOk(alg, key, jws) {
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519' && crypto.verify(null, jws.signingInput, key, jws.signature);
  const family = FAMILIES[alg.slice(0, 2)];
  const type = { RSA: ['rsa', 'rsa-pss'], EC: ['ec'] }[family.kty];
  if (!type.includes(key.asymmetricKeyType)) return false;
  const opts = family.node(alg.slice(2));
  return crypto.verify(opts.hash, jws.signingInput, { key, ...opts }, jws.signature);
}

// signature: the careful RP verifies the signature bytes with the algorithm checkAlg let
// through and an asymmetric key. The careless one lets the header decide: alg none or an
// empty signature is "nothing to verify" (CVE-2015-2951, CVE-2020-28042), and HS* is an HMAC
// keyed with whatever key material it holds (algorithm confusion, CVE-2016-5431).
async function checkSignature(alg, jws) {
  if (!careful('signature')) {
    if (alg === 'none' || jws.signature.length === 0) return;
  }
  if (alg === 'none') refuse('signature', 'alg none: the token is not signed');
  if (jws.segments !== 3 || jws.signature.length === 0) refuse('signature', 'no signature');
  const candidates = [...(await headerKeys(jws.header)), ...(await opKeys(jws.header))];
  if (alg.startsWith('HS')) {
    if (careful('signature')) refuse('signature', `${alg} with the OP's public key: only ${REGISTERED_ALG} is registered`);
    const secrets = candidates.flatMap((c) => (c.secret !== undefined ? [c.secret] : serialisations(c.key ? c : { key: c })));
    if (secrets.some((s) => hmacOk(alg, s, jws))) return;
    refuse('signature', `${alg} signature does not verify`);
  }
  const keys = candidates.map((c) => c.key || c).filter((k) => k instanceof crypto.KeyObject);
  if (keys.length === 0) refuse('keys', `no key for kid ${JSON.stringify(jws.header.kid)} in the OP's JWKS`);
  if (!keys.some((k) => asymmetricOk(alg, k, jws))) refuse('signature', `${alg} signature does not verify`);
}

/// A JWT from the OP (ID token or signed UserInfo): header, signature, then its claims.
async function verifyJwt(jwt, switchName) {
  const jws = parseJws(jwt);
  // verify / userinfo_signature: decode only (the TLS-is-enough shortcut).
  if (careful(switchName)) {
    if (await trustsHeaderSecret(jws)) return jws;
    checkCrit(jws.header);
    await checkSignature(checkAlg(jws.header), jws);
  }
  return jws;
}

// --- ID token claims: one function per check ----------------------------------------------

function checkDuplicates(jws) {
  if (!careful('duplicates')) return;
  const dups = duplicateMembers(jws.payloadText);
  if (dups.size) refuse('duplicates', `duplicate members ${[...dups].join(', ')}`);
}

function readClaims(jws) {
  const payload = JSON.parse(jws.payloadText);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) refuse('claims', 'payload is not an object');
  return payload;
}

/// The JOSE header members that are not JOSE parameters (what header_claims reads as claims).
const JOSE_PARAMS = new Set(['alg', 'kid', 'typ', 'cty', 'crit', 'jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'b64']);

// header_claims: the profile the app shows is the verified ID token's claims, then UserInfo's
// (already bound to the same sub). The careless app spreads the token's header over it too,
// as code that merges "everything the token says" does: a header is not signed-over identity.
function profileOf(idClaims, info, header) {
  const profile = { ...idClaims, ...info };
  if (!careful('header_claims') && header) {
    for (const [k, v] of Object.entries(header)) if (!JOSE_PARAMS.has(k)) profile[k] = v;
  }
  return profile;
}

function checkIss(c, d) {
  if (careful('iss') && !isIssuer(c.iss, d)) refuse('iss', `iss ${JSON.stringify(c.iss)} is not the issuer ${d.issuer}`);
}

function checkAud(c) {
  if (!careful('aud')) return;
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (aud.length !== 1 || !audiences().includes(aud[0])) refuse('aud', `aud ${JSON.stringify(c.aud)} is not exactly this client`);
}

function checkAzp(c) {
  if (careful('azp') && c.azp !== undefined && c.azp !== clientId()) refuse('azp', `azp ${JSON.stringify(c.azp)} is not this client`);
}

function checkExp(c) {
  if (!careful('exp')) return;
  if (typeof c.exp !== 'number') refuse('exp', 'exp is not a number');
  if (c.exp + SKEW_S <= now()) refuse('exp', 'expired');
}

function checkIat(c) {
  if (!careful('iat')) return;
  if (typeof c.iat !== 'number') refuse('iat', 'iat is not a number');
  if (c.iat > now() + SKEW_S) refuse('iat', 'issued in the future');
  if (c.iat < now() - MAX_AGE_S) refuse('iat', `issued more than ${MAX_AGE_S} s ago`);
}

function checkNbf(c) {
  if (!careful('nbf') || c.nbf === undefined) return;
  if (typeof c.nbf !== 'number' || c.nbf > now() + SKEW_S) refuse('nbf', 'not valid yet');
}

function checkSub(c) {
  if (careful('sub') && (typeof c.sub !== 'string' || c.sub === '')) refuse('sub', 'sub is not a non-empty string');
}

function checkNonce(c, nonce) {
  if (careful('nonce') && c.nonce !== nonce) refuse('nonce', 'nonce does not match the one sent');
}

/// The left half of the SHA-256 of `value`, base64url (at_hash, c_hash for RS256).
const halfHash = (value) => crypto.createHash('sha256').update(value, 'ascii').digest().subarray(0, 16).toString('base64url');

function checkAtHash(c, accessToken) {
  if (careful('at_hash') && c.at_hash !== undefined && c.at_hash !== halfHash(accessToken || '')) {
    refuse('at_hash', 'at_hash does not match the access token');
  }
}

function checkCHash(c, code) {
  if (careful('c_hash') && c.c_hash !== undefined && c.c_hash !== halfHash(code || '')) {
    refuse('c_hash', 'c_hash does not match the code');
  }
}

function checkEmailVerified(source) {
  if (careful('email_verified') && source.email !== undefined && source.email_verified !== true) {
    refuse('email_verified', `email_verified is ${JSON.stringify(source.email_verified)}`);
  }
}

// The claims every ID token is checked for, wherever it comes from (token endpoint, the
// hybrid flow's authorization response, a refresh); each check keeps its own switch.
function checkIdentityClaims(c, d) {
  checkIss(c, d);
  checkAud(c);
  checkAzp(c);
  checkExp(c);
  checkIat(c);
  checkSub(c);
}

async function validateIdToken(token, login, tokens) {
  const d = await op();
  const { jwt, trusted } = openIdToken(token);
  const jws = trusted ? parseJws(jwt) : await verifyJwt(jwt, 'verify');
  checkDuplicates(jws);
  const c = readClaims(jws);
  checkIdentityClaims(c, d);
  checkNbf(c);
  checkNonce(c, login.nonce);
  checkAtHash(c, tokens.access_token);
  checkCHash(c, login.code);
  return { claims: c, header: jws.header, jwt };
}

// --- UserInfo -----------------------------------------------------------------------------

// userinfo_sub: OIDC Core 5.3.2: the UserInfo sub MUST be compared with the ID token's and
// the answer discarded on a mismatch; a sub that is missing, not a string or written twice is
// no match.
function checkUserinfoSub(text, claims, idSub) {
  if (!careful('userinfo_sub')) return;
  if (text !== undefined && duplicateMembers(text).has('sub')) refuse('userinfo_sub', 'UserInfo has sub twice');
  if (typeof claims.sub !== 'string' || claims.sub !== idSub) {
    refuse('userinfo_sub', `UserInfo sub ${JSON.stringify(claims.sub)} is not the ID token's`);
  }
}

async function userinfo(tokens, idSub) {
  const d = await op();
  if (!d.userinfo_endpoint) return {};
  let url = d.userinfo_endpoint;
  const headers = {};
  // bearer_query: the access token in the URL (RFC 6750 2.3, the method the RFC says not to
  // use), as clients copied from `?access_token=` API examples do: it ends up in access logs,
  // proxies and Referer headers (RFC 6750 5.3).
  if (careful('bearer_query')) headers.authorization = `Bearer ${tokens.access_token}`;
  else url = `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(tokens.access_token)}`;
  const r = await getJson(url, { headers });
  if (r.status !== 200) refuse('userinfo', `UserInfo answered ${r.status}`);
  let claims;
  let text;
  if (r.type.startsWith('application/jwt')) {
    const jws = await verifyJwt(r.text.trim(), 'userinfo_signature');
    claims = JSON.parse(jws.payloadText);
    // Signed UserInfo SHOULD carry iss and aud (OIDC Core 5.3.2): checked when present.
    if (careful('userinfo_signature')) {
      if (claims.iss !== undefined) checkIss(claims, d);
      if (claims.aud !== undefined) checkAud(claims);
    }
    text = jws.payloadText;
  } else {
    text = r.text;
    claims = JSON.parse(text);
  }
  if (typeof claims !== 'object' || claims === null) refuse('userinfo', 'UserInfo is not an object');
  if (idSub !== undefined) checkUserinfoSub(text, claims, idSub);
  return claims;
}

// Aggregated and distributed claims (claim-sources.mjs): UserInfo claims left to a source.
const claimSources = (info, d, sub) => resolveClaimSources(info, {
  careful, verifyJwt, getJson, issuer: d.issuer, sub, isRefusal: (e) => e instanceof Refusal,
});

// --- JARM (JWT Secured Authorization Response Mode) ------------------------------------
// With OIDC_RESPONSE_MODE query.jwt the RP asks for the authorization response as one signed
// JWT `response`: code and state are read from it only once it is verified (RS256 by the
// OP's key, by kid) and its iss, aud and exp are checked. A plain response is then refused
// (a downgrade), whatever the switches. These checks use none of the ID token switches, so
// the other careless-rp targets stay careful here.

// The plain mode comes from the environment; a JARM mode the harness wrote into the file
// `response-mode` (a scenario's `response_mode: query.jwt`) wins over it.
function responseModeSetting() {
  let file = '';
  try {
    file = fs.readFileSync('response-mode', 'utf8').trim();
  } catch {
    // no file: the environment, or the default
  }
  if (file && file !== 'query') return file;
  return (env.OIDC_RESPONSE_MODE || '').trim() || file;
}
const RESPONSE_TYPE = env.OIDC_RESPONSE_TYPE || 'code';
const HYBRID = RESPONSE_TYPE.split(' ').includes('id_token');
const RESPONSE_MODE = responseModeSetting() || (HYBRID ? 'fragment' : 'query');
const JARM = ['jwt', 'query.jwt'].includes(RESPONSE_MODE);
const REQUIRE_S_HASH = env.OIDC_REQUIRE_S_HASH === 'true';
if (!['code', 'code id_token', 'code id_token token'].includes(RESPONSE_TYPE)) {
  console.error(`OIDC_RESPONSE_TYPE '${RESPONSE_TYPE}': use code, code id_token or code id_token token`);
  process.exit(2);
}
if (JARM ? HYBRID : (!['query', 'fragment', 'form_post'].includes(RESPONSE_MODE) || (HYBRID && RESPONSE_MODE === 'query'))) {
  console.error(`OIDC_RESPONSE_MODE '${RESPONSE_MODE}' does not fit ${RESPONSE_TYPE}`);
  process.exit(2);
}

// jarm_verify: the careful RP verifies the JWT as the registered algorithm with the OP's key
// named by kid; the careless one only decodes it.
async function checkJarmSignature(jws) {
  if (!careful('jarm_verify')) return;
  if (jws.header.alg !== REGISTERED_ALG) refuse('jarm_verify', `alg ${JSON.stringify(jws.header.alg)} is not the registered ${REGISTERED_ALG}`);
  if (jws.header.crit !== undefined) refuse('jarm_verify', 'crit names extensions this RP does not implement');
  if (jws.segments !== 3 || jws.signature.length === 0) refuse('jarm_verify', 'no signature');
  const keys = await opKeys(jws.header);
  if (!keys.some((k) => asymmetricOk(REGISTERED_ALG, k.key, jws))) refuse('jarm_verify', 'the signature does not verify with the OP\'s key');
}

// jarm_claims: JARM 2.4: iss is the OP's issuer, aud names this client, exp is a number in
// the future; the careless RP takes the code from any JWT that decodes.
function checkJarmClaims(c, d) {
  if (!careful('jarm_claims')) return;
  if (c.iss !== d.issuer) refuse('jarm_claims', `iss ${JSON.stringify(c.iss)} is not ${d.issuer}`);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!aud.includes(clientId())) refuse('jarm_claims', 'aud does not name this client');
  if (typeof c.exp !== 'number') refuse('jarm_claims', 'no exp');
  if (c.exp + SKEW_S <= now()) refuse('jarm_claims', `expired at ${c.exp}`);
}

/// The authorization response's parameters: the query itself, or those of the verified JWT.
async function authorizationResponse(url, d) {
  if (!JARM) return url.searchParams;
  const jwt = url.searchParams.get('response');
  if (!jwt) refuse('jarm', `asked for ${RESPONSE_MODE} and the response has no JWT`);
  const jws = parseJws(jwt);
  await checkJarmSignature(jws);
  const c = JSON.parse(jws.payloadText);
  if (typeof c !== 'object' || c === null) refuse('jarm', 'the JWT payload is not an object');
  checkJarmClaims(c, d);
  const out = new URLSearchParams();
  for (const k of ['code', 'state', 'error', 'error_description']) if (typeof c[k] === 'string') out.set(k, c[k]);
  return out;
}

// --- the flow ---------------------------------------------------------------------------

const pending = new Map(); // state -> { nonce, verifier, browser }
let lastLogin; // what the careless state handling falls back to
const sessions = new Map(); // session id -> { email, sub, sid, iss, opIss, op, idToken, refreshToken, contact }

function cookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function page(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(`<!doctype html><html><head><title>careless-rp</title></head><body>${body}</body></html>`);
}

async function startLogin(req, res) {
  const d = await op();
  const browser = cookie(req, 'rp_browser') || random();
  // state / nonce: fixed values are what a careless RP sends when it treats them as formalities.
  const state = careful('state') ? random() : 'state';
  const nonce = careful('nonce') ? random() : 'nonce';
  const verifier = random() + random();
  const login = { nonce, verifier, browser, at: Date.now(), op: cur().name };
  pending.set(state, login);
  lastLogin = login;
  const to = new URL(d.authorization_endpoint);
  const params = {
    response_type: RESPONSE_TYPE, client_id: clientId(), redirect_uri: env.OIDC_REDIRECT_URI,
    scope: ['openid email profile', ...contactScopes(d)].join(' '), state, nonce,
  };
  if (RESPONSE_MODE !== 'query') params.response_mode = RESPONSE_MODE;
  if (careful('pkce')) {
    params.code_challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    params.code_challenge_method = 'S256';
  }
  for (const [k, v] of Object.entries(params)) to.searchParams.set(k, v);
  res.writeHead(302, {
    location: to.href,
    'set-cookie': [`rp_browser=${browser}; Path=/; HttpOnly; SameSite=Lax`, `rp_op=${cur().name}; Path=/; HttpOnly; SameSite=Lax`],
  });
  res.end();
}

// state: the response's state must be one this RP issued, to this browser, and is used once.
function checkState(req, response) {
  const state = response.get('state');
  if (!careful('state')) return lastLogin || refuse('state', 'no sign-in was started');
  const login = state ? pending.get(state) : undefined;
  if (!login || login.browser !== cookie(req, 'rp_browser')) refuse('state', 'state was not issued to this browser');
  pending.delete(state);
  return login;
}

// iss_param: RFC 9207: an iss parameter must name the issuer the request went to, and must
// be there when the OP says it sends one.
function checkIssParam(response, d) {
  // A JARM response names its issuer inside the verified JWT (checkJarmClaims).
  if (!careful('iss_param') || JARM) return;
  const iss = response.get('iss');
  if (iss !== null && iss !== d.issuer) refuse('iss_param', `iss parameter ${iss} is not ${d.issuer}`);
  if (iss === null && d.authorization_response_iss_parameter_supported === true) {
    refuse('iss_param', 'the OP sends iss, and this response has none');
  }
}

// token_type: RFC 6749 5.1 / 7.1: the client must understand the token type (Bearer, any case).
function checkTokenType(tokens) {
  if (careful('token_type') && (typeof tokens.token_type !== 'string' || tokens.token_type.toLowerCase() !== 'bearer')) {
    refuse('token_type', `token_type ${JSON.stringify(tokens.token_type)} is not Bearer`);
  }
}

// id_token: an OpenID Connect sign-in needs an ID token; an access token identifies no one.
function checkIdTokenPresent(tokens) {
  if (careful('id_token') && typeof tokens.id_token !== 'string') refuse('id_token', 'the token response has no id_token');
}

async function redeem(code, login) {
  const d = await op();
  const basic = Buffer.from(`${encodeURIComponent(clientId())}:${encodeURIComponent(cur().clientSecret)}`).toString('base64');
  const form = { grant_type: 'authorization_code', code, redirect_uri: env.OIDC_REDIRECT_URI };
  if (careful('pkce')) form.code_verifier = login.verifier;
  const r = await getJson(d.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  if (r.status !== 200) refuse('token', `token endpoint answered ${r.status}: ${r.text.slice(0, 200)}`);
  const tokens = JSON.parse(r.text);
  if (typeof tokens !== 'object' || tokens === null) refuse('token', 'token response is not an object');
  return tokens;
}

async function callback(req, res, url) {
  const d = await op();
  const response = await authorizationResponse(url, d);
  if (response.get('error')) return authorizationError(res, response);
  const login = checkState(req, response);
  checkIssParam(response, d);
  const code = response.get('code') || refuse('authorization', 'no code');
  login.code = code;
  if (HYBRID) await checkFront(url, login, code);
  const tokens = await redeem(code, login);
  checkTokenType(tokens);
  checkIdTokenPresent(tokens);
  const id = typeof tokens.id_token === 'string' ? await validateIdToken(tokens.id_token, login, tokens) : { claims: {} };
  const idClaims = id.claims;
  const info = await claimSources(await userinfo(tokens, typeof tokens.id_token === 'string' ? idClaims.sub : undefined), d, idClaims.sub);
  // Every source that names an email must say it is verified.
  checkEmailVerified(idClaims);
  checkEmailVerified(info);
  const profile = profileOf(idClaims, info, id.header);
  const email = profile.email ?? profile.sub;
  if (email === undefined || email === '') refuse('claims', 'no email and no sub to sign in');
  const account = signInAccount(d.issuer, idClaims.sub ?? info.sub, String(email));
  const sid = random();
  // iss: the ID token's (a refresh must keep it); opIss: the OP's (front-channel logout
  // names it); op: which of this RP's OPs signed the session in.
  sessions.set(sid, {
    email: account.email, sub: idClaims.sub ?? info.sub, sid: idClaims.sid, idToken: id.jwt ?? tokens.id_token,
    iss: idClaims.iss, opIss: d.issuer, op: cur().name, refreshToken: tokens.refresh_token, contact: contactOf(profile),
  });
  console.error(`signed in: ${email}${careless.size ? ` (careless: ${[...careless].join(',')})` : ''}`);
  res.writeHead(302, { location: '/secure', 'set-cookie': `rp_session=${sid}; Path=/; HttpOnly; SameSite=Lax` });
  res.end();
}

// --- hybrid flow (OIDC Core 3.3): the ID token of the authorization response -------------


/// The fragment never reaches a server: this page posts it back to the callback.
function fragmentPage(res) {
  page(res, 200, '<form method="post" action="/auth/callback"></form><script>'
    + 'const f=document.forms[0];for(const[k,v]of new URLSearchParams(location.hash.slice(1))){'
    + 'const i=document.createElement("input");i.type="hidden";i.name=k;i.value=v;f.appendChild(i);}f.submit();</script>');
}

// c_hash_optional: OIDC Core 3.3.2.11 makes c_hash REQUIRED in the front ID token of
// code id_token; the careless RP keeps the code flow's "check it when present", and a token
// without it binds no code. c_hash (the older switch) skips the comparison altogether.
function checkFrontCHash(c, code) {
  if (c.c_hash === undefined) {
    if (careful('c_hash_optional') && careful('c_hash')) refuse('c_hash', 'the front ID token has no c_hash');
    return;
  }
  checkCHash(c, code);
}

// at_hash_front: with code id_token token the front ID token must carry at_hash (3.3.2.11);
// the careless RP checks it only when present. at_hash (the older switch) never compares it.
function checkFrontAtHash(c, accessToken) {
  if (accessToken === null) return;
  if (c.at_hash === undefined) {
    if (careful('at_hash_front') && careful('at_hash')) refuse('at_hash', 'the front ID token has no at_hash although an access token came with it');
    return;
  }
  checkAtHash(c, accessToken);
}

// s_hash: FAPI 1 Advanced 5.2.2.1: the front ID token is a detached signature over the state
// too; an RP configured for it requires s_hash and compares it. The careless one never looks.
function checkSHash(c, state) {
  if (!careful('s_hash')) return;
  if (c.s_hash === undefined) {
    if (REQUIRE_S_HASH) refuse('s_hash', 'the front ID token has no s_hash (detached signature)');
    return;
  }
  if (c.s_hash !== halfHash(state || '')) refuse('s_hash', 's_hash does not match the state');
}

// front_id_token: the careful RP verifies the ID token of the authorization response like
// the token endpoint's (signature, claims, nonce) and checks its hashes before the code is
// redeemed; the careless one asked for it and then ignores it.
async function checkFront(url, login, code) {
  if (!careful('front_id_token')) return;
  const d = await op();
  const idToken = url.searchParams.get('id_token') || refuse('front_id_token', 'the authorization response has no id_token');
  const jws = await verifyJwt(idToken, 'verify');
  checkDuplicates(jws);
  const c = readClaims(jws);
  checkIdentityClaims(c, d);
  checkNonce(c, login.nonce);
  checkFrontCHash(c, code);
  checkFrontAtHash(c, url.searchParams.get('access_token'));
  checkSHash(c, url.searchParams.get('state'));
}

// --- authorization error responses (RFC 6749 4.1.2.1) ----------------------------------

// error_page: an error response is a failed sign-in: no token request, no session. The
// careful RP shows only which check refused (the description is the OP's text, and an
// attacker can craft an error redirect to this callback); the careless one echoes
// error_description into its page as HTML, as error pages that "show what the provider said"
// do, so a link to /auth/callback?error=x&error_description=<markup> injects markup.
function authorizationError(res, params) {
  const error = params.get('error');
  if (careful('error_page')) refuse('authorization', `the OP answered ${error}`);
  console.error(`refused: authorization: the OP answered ${error}`);
  return page(res, 403, `<p id="error">Sign-in refused by the provider: ${esc(error)}: ${params.get('error_description') || ''}</p>`);
}

// --- back-channel logout (OpenID Connect Back-Channel Logout 1.0, 2.6) --------------------

const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const seenJti = new Map();

async function validateLogoutToken(token) {
  const d = await op();
  // logout_token: the careless RP believes any logout token it can decode.
  if (!careful('logout_token')) return JSON.parse(parseJws(token).payloadText);
  const jws = parseJws(token);
  if (jws.header.alg !== REGISTERED_ALG) refuse('logout_token', `alg ${JSON.stringify(jws.header.alg)}`);
  if (jws.segments !== 3 || jws.signature.length === 0) refuse('logout_token', 'no signature');
  const keys = await opKeys(jws.header);
  if (!keys.some((k) => asymmetricOk(REGISTERED_ALG, k.key, jws))) refuse('logout_token', 'signature does not verify');
  if (duplicateMembers(jws.payloadText).size) refuse('logout_token', 'duplicate members');
  const c = JSON.parse(jws.payloadText);
  if (c.iss !== d.issuer) refuse('logout_token', `iss ${JSON.stringify(c.iss)}`);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!aud.includes(clientId())) refuse('logout_token', `aud ${JSON.stringify(c.aud)}`);
  if (typeof c.iat !== 'number' || c.iat > now() + SKEW_S || c.iat < now() - MAX_AGE_S) refuse('logout_token', 'iat');
  if (c.exp !== undefined && (typeof c.exp !== 'number' || c.exp + SKEW_S <= now())) refuse('logout_token', 'exp');
  if (typeof c.jti !== 'string' || !c.jti) refuse('logout_token', 'no jti');
  if (seenJti.has(c.jti)) refuse('logout_token', 'jti replayed');
  const events = c.events;
  if (typeof events !== 'object' || events === null || typeof events[LOGOUT_EVENT] !== 'object' || events[LOGOUT_EVENT] === null) {
    refuse('logout_token', 'events has no back-channel logout event');
  }
  if (c.nonce !== undefined) refuse('logout_token', 'a logout token must not contain a nonce');
  if (typeof c.sub !== 'string' && typeof c.sid !== 'string') refuse('logout_token', 'neither sub nor sid');
  seenJti.set(c.jti, Date.now());
  return c;
}

async function backchannelLogout(req, res) {
  const body = await readBody(req);
  const token = new URLSearchParams(body).get('logout_token');
  const answer = (status, obj) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(obj));
  };
  try {
    if (!token) refuse('logout_token', 'no logout_token');
    const c = await validateLogoutToken(token);
    let ended = 0;
    for (const [id, s] of sessions) {
      if ((c.sid !== undefined && s.sid === c.sid) || (c.sub !== undefined && s.sub === c.sub)) {
        sessions.delete(id);
        ended++;
      }
    }
    console.error(`back-channel logout: ended ${ended} session(s) for sub ${c.sub} sid ${c.sid}`);
    return answer(200, { ended });
  } catch (e) {
    if (!(e instanceof Refusal) && !(e instanceof SyntaxError)) throw e;
    console.error(`refused: logout_token: ${e.message}`);
    return answer(400, { error: 'invalid_request', error_description: e.message });
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > 65536) reject(new Refusal('request', 'body over 64 KiB'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// --- contact claims through scope values (OpenID Connect Core 1.0, 5.4) -------------------

const CONTACT_SCOPES = ['phone', 'address'];

/// The contact scopes the OP lists in scopes_supported: asked for, so the page can show them.
function contactScopes(d) {
  const supported = Array.isArray(d.scopes_supported) ? d.scopes_supported : [];
  return CONTACT_SCOPES.filter((s) => supported.includes(s));
}

/// Phone number and postal address from the merged ID token and UserInfo claims.
function contactOf(profile) {
  const out = {};
  if (typeof profile.phone_number === 'string') out.phone = profile.phone_number;
  const a = profile.address;
  if (a && typeof a === 'object') {
    out.address = typeof a.formatted === 'string'
      ? a.formatted
      : ['street_address', 'locality', 'region', 'postal_code', 'country'].map((k) => a[k]).filter((v) => typeof v === 'string').join(', ');
  }
  return out;
}

function contactHtml(s) {
  const c = s.contact || {};
  return (c.phone ? `<p>Phone: <span id="phone">${esc(c.phone)}</span></p>` : '')
    + (c.address ? `<p>Address: <span id="address">${esc(c.address)}</span></p>` : '');
}

// --- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ------------------------

const AFTER_LOGOUT = '/me';
// Where the OP sends the browser back after logout: this RP's /signed-out unless configured.
const POST_LOGOUT_URI = env.OIDC_POST_LOGOUT_REDIRECT_URI || new URL('/signed-out', env.OIDC_REDIRECT_URI).href;
const logoutStates = new Map(); // state -> { browser, returnTo, at }

// The state of a logout request. The careful RP sends a random value bound to this browser
// and keeps where to go next on its side; post_logout_state: the careless one puts the page
// to go back to in the state itself (a common way to "keep" a return URL without storage).
function logoutState(req) {
  const returnTo = new URL(AFTER_LOGOUT, POST_LOGOUT_URI).href;
  if (!careful('post_logout_state')) return returnTo;
  const state = random();
  logoutStates.set(state, { browser: cookie(req, 'rp_browser'), returnTo, at: Date.now() });
  return state;
}

// The OP sent the browser back after logout. Only a state this RP sent this browser (once,
// within 10 minutes) says where to go; any other visit (another state, none) changes nothing:
// anyone can link a browser here.
function signedOut(req, res, url) {
  const state = url.searchParams.get('state');
  if (!careful('post_logout_state')) {
    // Follows the state it expects to hold its own return URL, whoever wrote it.
    if (state && /^https?:\/\//.test(state)) {
      res.writeHead(302, { location: state });
      return res.end();
    }
    return page(res, 200, '<p id="signed-out">Signed out</p>');
  }
  const sent = state ? logoutStates.get(state) : undefined;
  if (state) logoutStates.delete(state);
  if (!sent || sent.browser !== cookie(req, 'rp_browser') || Date.now() - sent.at > 600000) {
    refuse('post_logout_state', 'the post-logout redirect carries no state this RP sent this browser');
  }
  res.writeHead(302, { location: sent.returnTo });
  return res.end();
}

// --- front-channel logout (OpenID Connect Front-Channel Logout 1.0) -----------------------

// The OP loads this URL in an iframe with iss and sid when the user's session there ends.
// frontchannel: the careful RP ends the sessions whose sid the OP names, and only when iss is
// its OP (anyone can make a browser load this URL); the careless one ends the session of the
// browser that asked, whatever iss and sid say (any page can then sign its visitors out).
function frontchannelLogout(req, res, url) {
  const headers = { 'cache-control': 'no-cache, no-store' };
  if (!careful('frontchannel')) {
    sessions.delete(cookie(req, 'rp_session'));
    return page(res, 200, '<p id="signed-out">Signed out</p>', headers);
  }
  const iss = url.searchParams.get('iss');
  const sid = url.searchParams.get('sid');
  // Any of its OPs may send it (each names its own issuer); a sid counts only under the
  // issuer of the sign-in that got it.
  if (!Object.values(OPS).some((o) => o.discovery && iss === o.discovery.issuer)) refuse('frontchannel', `iss ${JSON.stringify(iss)} is not the issuer of an OP of this RP`);
  if (!sid) refuse('frontchannel', 'no sid');
  let ended = 0;
  for (const [id, s] of sessions) {
    if (s.sid === sid && s.opIss === iss) {
      sessions.delete(id);
      ended++;
    }
  }
  console.error(`front-channel logout: ended ${ended} session(s) for sid ${sid}`);
  return page(res, 200, '<p id="signed-out">Signed out</p>', headers);
}

// --- pages --------------------------------------------------------------------------------

function signedIn(req) {
  return sessions.get(cookie(req, 'rp_session'));
}

async function logout(req, res) {
  const s = signedIn(req);
  sessions.delete(cookie(req, 'rp_session'));
  // The sign-out goes to the OP the session was signed in at.
  const o = (s && OPS[s.op]) || OPS.main;
  const d = o.discovery;
  if (s && d && d.end_session_endpoint) {
    const to = new URL(d.end_session_endpoint);
    if (s.idToken) to.searchParams.set('id_token_hint', s.idToken);
    to.searchParams.set('client_id', o.clientId);
    to.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_URI);
    to.searchParams.set('state', logoutState(req));
    res.writeHead(302, { location: to.href, 'set-cookie': 'rp_session=; Path=/; Max-Age=0' });
    return res.end();
  }
  return page(res, 200, '<p id="signed-out">Signed out</p>', { 'set-cookie': 'rp_session=; Path=/; Max-Age=0' });
}

// --- tokens: refresh (OIDC Core 12) and symmetric header keys --------------------------------

// oct_jwk: a JOSE library that imports whatever key the header's jwk holds and verifies with
// the algorithm the header names lets the token bring its own HMAC secret (the symmetric twin
// of CVE-2018-0114): anybody can mint such a token. The careful RP never reads a key from the
// header (checkSignature), so this only runs with the switch off.
async function trustsHeaderSecret(jws) {
  if (careful('oct_jwk')) return false;
  const k = jws.header.jwk;
  const alg = jws.header.alg;
  if (!k || k.kty !== 'oct' || typeof k.k !== 'string' || !/^HS(256|384|512)$/.test(alg)) return false;
  if (!hmacOk(alg, b64u(k.k), jws)) refuse('signature', `${alg} signature does not verify with the header's key`);
  return true;
}

// refresh_identity: OIDC Core 12.2: a refreshed ID token is validated as at sign-in (no nonce)
// and its iss and sub MUST be the original's. The careless RP checks the signature and takes
// the claims, so an answer about another user (or from another issuer) becomes the session.
async function validateRefreshedIdToken(token, s, tokens) {
  const d = await op();
  const { jwt, trusted } = openIdToken(token);
  const jws = trusted ? parseJws(jwt) : await verifyJwt(jwt, 'verify');
  checkDuplicates(jws);
  const c = readClaims(jws);
  if (careful('refresh_identity')) {
    checkIdentityClaims(c, d);
    checkNbf(c);
    checkAtHash(c, tokens.access_token);
    if (c.iss !== s.iss) refuse('refresh_identity', 'the refreshed ID token\'s iss is not the original\'s');
    if (c.sub !== s.sub) refuse('refresh_identity', 'the refreshed ID token\'s sub is not the original\'s');
  }
  return c;
}

/// `/refresh`: redeems the session's refresh token now, checks the refreshed ID token, calls
/// UserInfo with the new access token (bound to the session's sub), then shows /secure.
async function refreshSession(req, res) {
  const s = signedIn(req);
  if (!s) refuse('refresh', 'no session to refresh');
  if (typeof s.refreshToken !== 'string') refuse('refresh', 'the OP gave this sign-in no refresh token');
  const d = await op();
  const basic = Buffer.from(`${encodeURIComponent(clientId())}:${encodeURIComponent(cur().clientSecret)}`).toString('base64');
  const r = await getJson(d.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.refreshToken }),
  });
  if (r.status !== 200) refuse('refresh', `token endpoint answered ${r.status}: ${r.text.slice(0, 200)}`);
  const tokens = JSON.parse(r.text);
  if (typeof tokens !== 'object' || tokens === null) refuse('refresh', 'token response is not an object');
  checkTokenType(tokens);
  const claims = typeof tokens.id_token === 'string' ? await validateRefreshedIdToken(tokens.id_token, s, tokens) : undefined;
  const info = await userinfo(tokens, s.sub);
  if (claims !== undefined) {
    checkEmailVerified(claims);
    // The refreshed ID token is the user's current profile, over UserInfo (an email may
    // change; the careful RP has made sure it is the same user).
    const profile = { ...info, ...claims };
    if (profile.email !== undefined) s.email = String(profile.email);
    s.iss = claims.iss;
    s.sub = claims.sub;
    s.idToken = tokens.id_token;
  }
  if (typeof tokens.refresh_token === 'string') s.refreshToken = tokens.refresh_token;
  console.error(`refreshed: ${s.email}`);
  res.writeHead(302, { location: '/secure' });
  res.end();
}

// --- initiate section: third-party-initiated login (OpenID Connect Core 4) ---
// Any page can send the browser to /initiate-login?iss=..; the careful RP starts a sign-in
// only when iss is the issuer of an OP it is configured for (read from the configured
// discovery URLs, never from iss), and follows target_link_uri only on its own origin.
// initiate_any_iss: the careless one fetches `${iss}/.well-known/openid-configuration` for
// any iss (a server-side request the attacker aims, CWE-918) and then looks for the OP.
async function opOfIssuer(iss) {
  if (!careful('initiate_any_iss')) {
    const r = await getJson(`${iss.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    let named;
    try {
      named = r.status === 200 ? JSON.parse(r.text).issuer : undefined;
    } catch {
      named = undefined;
    }
    if (named === undefined) refuse('initiate_any_iss', `${iss} has no discovery document`);
    iss = named;
  }
  for (const o of Object.values(OPS)) {
    const d = await inOp(o, () => op());
    if (d.issuer === iss) return o;
  }
  return refuse('initiate_any_iss', 'iss is not the issuer of a configured OP');
}

async function initiateLogin(req, res, url) {
  const iss = url.searchParams.get('iss');
  if (!iss) refuse('initiate_any_iss', 'the request has no iss');
  const target = url.searchParams.get('target_link_uri');
  if (target !== null) {
    let to;
    try {
      to = new URL(target, `http://${req.headers.host}`);
    } catch {
      to = undefined;
    }
    if (!to || to.host !== req.headers.host) refuse('initiate_any_iss', 'target_link_uri is not on this site');
  }
  const o = await opOfIssuer(iss);
  return inOp(o, () => startLogin(req, res));
}

// --- jwe section: encrypted ID tokens (OIDC Core 10.2, RFC 7516) --------------------------
// The RP's encryption key, made at start and published at /jwks (the target's
// sp.oidc_jwks_uri). The careful RP takes RSA-OAEP and RSA-OAEP-256 key transport only,
// checks the tag before it decrypts, and verifies the signed token inside like any other.
const ENC_KEY = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ENC_KID = 'careless-enc-1';
const encJwks = () => ({ keys: [{ ...ENC_KEY.publicKey.export({ format: 'jwk' }), use: 'enc', kid: ENC_KID }] });

// jwe_rsa1_5: PKCS #1 v1.5 decryption answers differently for good and bad padding (a
// Bleichenbacher oracle). Node refuses that padding for private decryption, so the careless
// RP strips it by hand, as code that "just needs it to work" does.
function unwrapCek(alg, wrapped) {
  if (alg === 'RSA-OAEP' || alg === 'RSA-OAEP-256') {
    return crypto.privateDecrypt({
      key: ENC_KEY.privateKey,
      padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: alg === 'RSA-OAEP' ? 'sha1' : 'sha256',
    }, wrapped);
  }
  if (alg === 'RSA1_5') {
    if (careful('jwe_rsa1_5')) refuse('jwe_rsa1_5', 'RSA1_5 key transport is refused');
    const em = crypto.privateDecrypt({ key: ENC_KEY.privateKey, padding: crypto.constants.RSA_NO_PADDING }, wrapped);
    const sep = em.indexOf(0, 2);
    if (em[0] !== 0 || em[1] !== 2 || sep < 10) refuse('jwe', 'bad PKCS #1 v1.5 padding');
    return em.subarray(sep + 1);
  }
  return refuse('jwe', `key transport ${JSON.stringify(alg)} is not supported`);
}

const CONTENT = {
  'A128CBC-HS256': { cipher: 'aes-128-cbc', hash: 'sha256', keyLen: 32 },
  'A256CBC-HS512': { cipher: 'aes-256-cbc', hash: 'sha512', keyLen: 64 },
  A128GCM: { cipher: 'aes-128-gcm', keyLen: 16 },
  A256GCM: { cipher: 'aes-256-gcm', keyLen: 32 },
};

// jwe_tag: the tag is what makes the ciphertext the OP's; without it anyone may alter it.
function openContent(enc, cek, iv, aad, ct, tag) {
  const c = CONTENT[enc] || refuse('jwe', `enc ${JSON.stringify(enc)} is not supported`);
  if (cek.length !== c.keyLen) refuse('jwe', 'the content key has the wrong length');
  const badTag = () => refuse('jwe_tag', 'the JWE authentication tag does not match');
  if (c.hash) {
    const half = cek.length / 2;
    const al = Buffer.alloc(8);
    al.writeBigUInt64BE(BigInt(aad.length * 8));
    const mac = crypto.createHmac(c.hash, cek.subarray(0, half)).update(Buffer.concat([aad, iv, ct, al])).digest().subarray(0, half);
    if (careful('jwe_tag') && (tag.length !== mac.length || !crypto.timingSafeEqual(tag, mac))) badTag();
    const d = crypto.createDecipheriv(c.cipher, cek.subarray(half), iv);
    try {
      return Buffer.concat([d.update(ct), d.final()]);
    } catch {
      return refuse('jwe', 'the ciphertext does not decrypt');
    }
  }
  const d = crypto.createDecipheriv(c.cipher, cek, iv);
  d.setAAD(aad);
  if (!careful('jwe_tag')) return d.update(ct);
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    return badTag();
  }
}

// The signed token inside an encrypted ID token (a plain one passes through), and whether
// the careless RP skips its signature (jwe_trust).
function openIdToken(token) {
  const parts = token.split('.');
  if (parts.length !== 5) return { jwt: token, trusted: false };
  const [h, k, iv, ct, tag] = parts;
  const b = (x) => Buffer.from(x, 'base64url');
  let header;
  try {
    header = JSON.parse(b(h).toString());
  } catch {
    refuse('jwe', 'the JWE header is not JSON');
  }
  if (typeof header !== 'object' || header === null) refuse('jwe', 'the JWE header is not an object');
  if (header.zip !== undefined) refuse('jwe', 'compressed JWE content is refused');
  let cek;
  try {
    cek = unwrapCek(header.alg, b(k));
  } catch (e) {
    if (e instanceof Refusal) throw e;
    refuse('jwe', 'the content key is not encrypted to this RP\'s key');
  }
  const jwt = openContent(header.enc, cek, b(iv), Buffer.from(h, 'ascii'), b(ct), b(tag)).toString();
  return { jwt, trusted: !careful('jwe_trust') };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    switch (url.pathname) {
      case '/health':
        return page(res, 200, 'ok');
      case '/jwks':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(encJwks()));
      case '/secure': {
        const s = signedIn(req);
        // ?op= chooses the OP (main by default); a signed-in browser is simply shown who it is.
        if (!s) return await inOp(opNamed(url.searchParams.get('op') || 'main'), () => startLogin(req, res));
        return page(res, 200, `<p>Signed in as <span id="user-email">${esc(s.email)}</span></p>${contactHtml(s)}<p><a href="/logout">Sign out</a></p>`);
      }
      case '/me': {
        const s = signedIn(req);
        return page(res, 200, s ? `<p>Signed in as <span id="user-email">${esc(s.email)}</span></p>` : '<p id="nobody">Not signed in</p>');
      }
      case '/auth/callback':
        // form_post: the same parameters in the body; fragment: a page posts them here.
        if (req.method !== 'POST' && HYBRID && url.search === '') return fragmentPage(res);
        {
          const cb = req.method === 'POST' ? new URL(`/auth/callback?${await readBody(req)}`, 'http://localhost') : url;
          return await inOp(opOfCallback(req, cb), () => callback(req, res, cb));
        }
      case '/logout':
        return await logout(req, res);
      case '/signed-out':
        return signedOut(req, res, url);
      case '/initiate-login':
        return await initiateLogin(req, res, url);
      case '/frontchannel-logout':
        return frontchannelLogout(req, res, url);
      case '/refresh': {
        // The refresh goes to the OP the session was signed in at.
        const s = signedIn(req);
        return await inOp((s && OPS[s.op]) || OPS.main, () => refreshSession(req, res));
      }
      case '/backchannel-logout':
        if (req.method !== 'POST') return page(res, 405, '<p id="error">POST a logout_token</p>');
        return await backchannelLogout(req, res);
      default:
        return page(res, 404, '<p id="error">not found</p>');
    }
  } catch (e) {
    const check = e instanceof Refusal ? e.check : 'error';
    console.error(`refused: ${check}: ${e.message}`);
    // The page names the check only: the reason can quote what a forged message carried
    // (another user's sub or email), and an error page must not show another identity.
    if (!res.headersSent) return page(res, 403, `<p id="error">Sign-in refused (${esc(check)})</p>`);
    return res.end();
  }
});
server.listen(Number(env.PORT), '127.0.0.1', () => {
  console.error(`careless-rp on port ${env.PORT}; checks off: ${careless.size ? [...careless].join(', ') : 'none'}`);
  for (const name of careless) console.error(`  ${name}: ${SWITCHES[name]}`);
});
