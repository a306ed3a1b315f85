// A minimal OpenID Connect relying party (authorization code flow) that checks the ID token's
// signature with one pinned npm JOSE library, used as a harness target
// (targets/jsonwebtoken-*.yaml, node-jose-*.yaml). Everything but the signature check is this
// file's and the same for every library: state, nonce, PKCE S256, client_secret_basic, token
// and UserInfo endpoints on the issuer's origin, iss, aud/azp, exp/iat/nbf, at_hash,
// email_verified, UserInfo with a Bearer header and the ID token's sub, the phone and address
// scopes when the OP lists them; so that a pair of targets differs only in the library version.
//
// Configured through its environment (as targets/examples/env-oidc-rp.yaml):
//   PORT, OIDC_DISCOVERY_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI,
//   RP_LIB (jsonwebtoken | node-jose), RP_INSTALL (a pinned install beside this file), RP_LOG.
// Pages: /secure (starts the sign-in; #signed-in-as shows the email), /probe (401 without a
// session), /logout, /health, and the redirect URI's path. Binds to 127.0.0.1 only.

import { createServer } from "node:http";
import { createRequire } from "node:module";
import { createHash, createPublicKey, randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}
const cfg = {
  port: Number(env("PORT")), discovery: env("OIDC_DISCOVERY_URL"), clientId: env("OIDC_CLIENT_ID"),
  clientSecret: env("OIDC_CLIENT_SECRET"), redirectUri: new URL(env("OIDC_REDIRECT_URI")),
  lib: env("RP_LIB"), install: env("RP_INSTALL"), logFile: process.env.RP_LOG,
};
if (!/^[A-Za-z0-9._-]+$/.test(cfg.install)) throw new Error("RP_INSTALL must be a plain directory name");
// The library is loaded from the pinned install only, never from anywhere else on the machine.
const requireLib = createRequire(join(dirname(fileURLToPath(import.meta.url)), cfg.install, "package.json"));
if (cfg.logFile) mkdirSync(dirname(cfg.logFile), { recursive: true });

function log(line) {
  const text = `${new Date().toISOString()} ${line}\n`;
  if (cfg.logFile) appendFileSync(cfg.logFile, text);
  process.stdout.write(text);
}

async function getJson(url, init) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10000) });
  const body = await res.text();
  let json;
  try { json = JSON.parse(body); } catch { throw new Error(`${url}: ${res.status}, not JSON`); }
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
  return json;
}

let provider; // the discovery document, fetched once
async function op() {
  if (!provider) {
    const doc = await getJson(cfg.discovery);
    // The code, the client secret and the access token go only to the issuer's own origin
    // (a discovery document naming another host would hand them to it).
    const own = new URL(doc.issuer).origin;
    for (const member of ["token_endpoint", "userinfo_endpoint"]) {
      if (doc[member] !== undefined && new URL(doc[member]).origin !== own) {
        throw new Error(`discovery names the ${member} on another origin than the issuer's`);
      }
    }
    provider = doc;
  }
  return provider;
}

// One adapter per library: the ID token's signature, checked with the OP's JWKS as the
// library's README shows; each returns the payload it verified.
const verifiers = {
  // jsonwebtoken's README: jwt.verify(token, getKey, options, callback), getKey looking the
  // header's kid up in the OP's keys. `algorithms` is optional in 8.x and integrators leave it
  // out; an absent or unknown kid gives `undefined`, which 8.x refuses for a signed token
  // ("secret or public key must be provided") but, for an unsigned one, turns into
  // algorithms ['none'] (CVE-2022-23540). 9.0.0 refuses it.
  jsonwebtoken: (idToken, jwks, expect) => {
    const jwt = requireLib("jsonwebtoken");
    const pemByKid = new Map();
    for (const k of jwks.keys || []) {
      try { pemByKid.set(k.kid, createPublicKey({ key: k, format: "jwk" }).export({ type: "spki", format: "pem" })); } catch { /* a key type Node cannot read */ }
    }
    // Without a kid, a JWKS of exactly one key names it (OIDC Core 10.1.1); otherwise no key.
    const only = pemByKid.size === 1 ? [...pemByKid.values()][0] : undefined;
    const getKey = (header, cb) => cb(null, header.kid === undefined ? only : pemByKid.get(header.kid));
    // A signed UserInfo answer (no `expect`) is checked for its signature only; its sub is
    // bound to the ID token's by the caller.
    const options = expect ? { issuer: expect.issuer, audience: cfg.clientId, nonce: expect.nonce } : {};
    return new Promise((resolve, reject) =>
      jwt.verify(idToken, getKey, options, (err, claims) => (err ? reject(err) : resolve(claims))));
  },
  // node-jose's README: a key store from the JWKS, then JWS.createVerify(keystore).verify().
  // Before 0.11.0 verify() prefers a key embedded in the header (jwk, x5c) to the store's
  // (CVE-2018-0114); 0.11.0 uses it only with allowEmbeddedKey.
  "node-jose": async (idToken, jwks) => {
    const jose = requireLib("node-jose");
    const keystore = jose.JWK.createKeyStore();
    for (const k of jwks.keys || []) await keystore.add(k).catch(() => {}); // skip kty it lacks
    const { payload } = await jose.JWS.createVerify(keystore).verify(idToken);
    return JSON.parse(payload.toString("utf8"));
  },
};
if (!verifiers[cfg.lib]) throw new Error(`RP_LIB must be one of ${Object.keys(verifiers).join(", ")}`);

// What OIDC Core 3.1.3.7 asks of every ID token, whatever checked its signature.
function checkClaims(c, expect, accessToken) {
  const now = Date.now() / 1000;
  const skew = 60;
  const fail = (why) => { throw new Error(`ID token refused: ${why}`); };
  if (typeof c !== "object" || c === null) fail("payload is not a JSON object");
  if (c.iss !== expect.issuer) fail(`iss ${JSON.stringify(c.iss)} is not the issuer`);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!aud.includes(cfg.clientId)) fail("aud does not name this client");
  if (aud.some((a) => a !== cfg.clientId)) fail("aud names another party");
  if (c.azp !== undefined && c.azp !== cfg.clientId) fail("azp is another party");
  if (typeof c.sub !== "string" || !c.sub) fail("sub is not a non-empty string");
  if (typeof c.exp !== "number" || c.exp < now - skew) fail("exp is missing or past");
  if (typeof c.iat !== "number" || c.iat > now + skew) fail("iat is missing or in the future");
  if (c.iat < now - 600) fail("iat is more than ten minutes old"); // step 10: a fresh token only
  if (c.nbf !== undefined && (typeof c.nbf !== "number" || c.nbf > now + skew)) fail("nbf is in the future");
  if (c.nonce !== expect.nonce) fail("nonce is not the one this browser was sent with");
  if (c.at_hash !== undefined) {
    const half = createHash("sha256").update(accessToken || "").digest().subarray(0, 16);
    if (c.at_hash !== half.toString("base64url")) fail("at_hash does not match the access token");
  }
  if (typeof c.email !== "string" || !c.email) fail("no email");
  if (c.email_verified !== true) fail("email_verified is not true");
}

const sessions = new Map(); // sid -> { email, name }
const pending = new Map(); // pre-login cookie -> { state, nonce }

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
function page(res, status, title, body, headers = {}) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...headers });
  res.end(`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body>\n${body}\n</body></html>\n`);
}
function cookie(req, name) {
  const m = new RegExp(`(?:^|;\\s*)${name}=([0-9a-f]{32})`).exec(req.headers.cookie || "");
  return m ? m[1] : undefined;
}
const token = () => randomBytes(16).toString("hex");
const refuse = (res, why) => {
  log(`sign-in refused (${cfg.lib}): ${why}`);
  return page(res, 403, "Sign-in refused", `<h1>Sign-in refused</h1>\n<p id="error">${esc(why)}</p>`);
};

async function startLogin(res) {
  const meta = await op();
  const pre = token();
  const flow = { state: token(), nonce: token(), verifier: randomBytes(32).toString("base64url") };
  pending.set(pre, flow);
  const url = new URL(meta.authorization_endpoint);
  const offered = Array.isArray(meta.scopes_supported) ? meta.scopes_supported : [];
  const scope = ["openid", "email", "profile", ...["phone", "address"].filter((s) => offered.includes(s))].join(" ");
  const challenge = createHash("sha256").update(flow.verifier).digest("base64url");
  for (const [k, v] of Object.entries({ response_type: "code", scope, client_id: cfg.clientId,
    redirect_uri: cfg.redirectUri.href, state: flow.state, nonce: flow.nonce,
    code_challenge: challenge, code_challenge_method: "S256" })) url.searchParams.set(k, v);
  res.writeHead(302, { location: url.href, "set-cookie": `rp_pre=${pre}; Path=/; HttpOnly; SameSite=Lax` });
  res.end();
}

async function callback(req, res, q) {
  const pre = cookie(req, "rp_pre");
  const flow = pre && pending.get(pre);
  if (!flow || q.get("state") !== flow.state) return refuse(res, "state does not match this browser's sign-in");
  pending.delete(pre); // one answer per sign-in
  const meta = await op();
  if (q.has("iss") ? q.get("iss") !== meta.issuer : meta.authorization_response_iss_parameter_supported === true) {
    return refuse(res, "authorization response iss is not the issuer (RFC 9207)");
  }
  if (q.has("error") || !q.get("code")) return refuse(res, `authorization error: ${q.get("error") || "no code"}`);
  let tokens;
  try {
    // client_secret_basic, the method the client is registered with (RFC 6749 2.3.1).
    const basic = Buffer.from(`${encodeURIComponent(cfg.clientId)}:${encodeURIComponent(cfg.clientSecret)}`).toString("base64");
    tokens = await getJson(meta.token_endpoint, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: "authorization_code", code: q.get("code"), redirect_uri: cfg.redirectUri.href,
        code_verifier: flow.verifier }),
    });
  } catch (e) { return refuse(res, `token request failed: ${e.message}`); }
  if (typeof tokens.id_token !== "string") return refuse(res, "the token response has no id_token");
  if (String(tokens.token_type).toLowerCase() !== "bearer") return refuse(res, "token_type is not Bearer");
  let claims;
  try {
    const expect = { issuer: meta.issuer, nonce: flow.nonce };
    claims = await verifiers[cfg.lib](tokens.id_token, await getJson(meta.jwks_uri), expect);
    checkClaims(claims, expect, tokens.access_token);
  } catch (e) { return refuse(res, e && e.message ? e.message : String(e)); }
  // UserInfo, with the access token in the Authorization header, about the same subject
  // (OIDC Core 5.3.2); only contact details are taken from it.
  let info = {};
  if (meta.userinfo_endpoint) {
    try {
      const r = await fetch(meta.userinfo_endpoint, {
        headers: { authorization: `Bearer ${tokens.access_token}` }, signal: AbortSignal.timeout(10000),
      });
      const body = await r.text();
      if (!r.ok) throw new Error(`${r.status} ${body.slice(0, 200)}`);
      // A signed answer (application/jwt) is verified with the same library and the OP's keys.
      info = (r.headers.get("content-type") || "").startsWith("application/jwt")
        ? await verifiers[cfg.lib](body.trim(), await getJson(meta.jwks_uri))
        : JSON.parse(body);
      if (typeof info !== "object" || info === null) throw new Error("not a JSON object");
    } catch (e) { return refuse(res, `UserInfo failed: ${e && e.message ? e.message : e}`); }
    if (info.sub !== claims.sub) return refuse(res, "UserInfo is about another subject than the ID token");
  }
  const pick = (name) => claims[name] ?? info[name];
  const address = pick("address");
  const sid = token();
  sessions.set(sid, {
    email: claims.email, name: typeof claims.given_name === "string" ? claims.given_name : "",
    phone: typeof pick("phone_number") === "string" ? pick("phone_number") : "",
    address: address && typeof address.formatted === "string" ? address.formatted : "",
  });
  log(`sign-in accepted (${cfg.lib}): ${JSON.stringify(claims.email)}, header ${tokens.id_token.split(".")[0]}`);
  res.writeHead(302, { location: "/secure", "set-cookie": `rp_sid=${sid}; Path=/; HttpOnly; SameSite=Lax` });
  return res.end();
}

async function handle(req, res) {
  const url = new URL(req.url, "http://127.0.0.1/");
  const who = sessions.get(cookie(req, "rp_sid"));
  if (url.pathname === "/health") return page(res, 200, "ok", "<p>ok</p>");
  if (url.pathname === cfg.redirectUri.pathname) return callback(req, res, url.searchParams);
  if (url.pathname === "/secure" || url.pathname === "/probe") {
    if (who) {
      return page(res, 200, "Signed in", `<h1>Protected page</h1>\n<p>Signed in as <span id="signed-in-as">${esc(who.email)}</span></p>\n<p>Display name: <span id="display-name">${esc(who.name)}</span></p>\n${who.phone ? `<p>Phone: <span id="phone">${esc(who.phone)}</span></p>\n` : ""}${who.address ? `<p>Address: <span id="address">${esc(who.address)}</span></p>\n` : ""}<p><a href="/logout">Sign out</a></p>`);
    }
    return url.pathname === "/probe" ? page(res, 401, "Not signed in", "<p>not signed in</p>") : startLogin(res);
  }
  if (url.pathname === "/logout") {
    sessions.delete(cookie(req, "rp_sid"));
    return page(res, 200, "Signed out", "<p id=\"signed-out\">signed out</p>", { "set-cookie": "rp_sid=; Path=/; Max-Age=0" });
  }
  return page(res, 404, "Not found", "<p>not found</p>");
}

createServer((req, res) => {
  handle(req, res).catch((e) => {
    log(`unexpected error: ${e && e.stack ? e.stack : e}`);
    if (!res.headersSent) page(res, 500, "Error", `<p id="error">${esc(e && e.message ? e.message : e)}</p>`);
    else res.end();
  });
}).listen(cfg.port, "127.0.0.1", () => {
  const pkg = cfg.lib === "node-jose" ? "node-jose" : "jsonwebtoken";
  log(`node-rp listening on 127.0.0.1:${cfg.port}: ${pkg}@${requireLib(`${pkg}/package.json`).version} from ${cfg.install}`);
});
