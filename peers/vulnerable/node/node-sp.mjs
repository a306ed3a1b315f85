// A minimal SAML service provider built on one pinned npm SAML library, used as a harness
// target (targets/node-saml-*.yaml, samlify-*.yaml, xml-crypto-*.yaml). It does what an
// integrator following the library's README does: SP-initiated login, an ACS that hands the
// POSTed SAMLResponse to the library's documented validation call, and a cookie session for
// whatever identity the library returns. It adds no SAML checks of its own: the point is to
// measure the library.
//
//   node node-sp.mjs --lib node-saml|samlify --install DIR --port P --dir SPDIR
//                    --sp-base-url URL --idp-sso-url URL
//
// --install names a directory beside this file holding one pinned install (node_modules),
// --dir the trial's private directory (idp-cert.pem, idp-metadata.xml, logs/ are there).
// Binds to 127.0.0.1 only.

import { createServer } from "node:http";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

function args(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (!key.startsWith("--") || value === undefined) {
      throw new Error(`bad argument ${key}: expected --name value pairs`);
    }
    out[key.slice(2)] = value;
  }
  for (const need of ["lib", "install", "port", "dir", "sp-base-url", "idp-sso-url"]) {
    if (!out[need]) throw new Error(`missing --${need}`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(out.install)) throw new Error("--install must be a plain directory name");
  return out;
}

const opt = args(process.argv.slice(2));
const installDir = join(here, opt.install);
// The library is loaded from the pinned install only, never from anywhere else on the machine.
const requireLib = createRequire(join(installDir, "package.json"));
const logFile = join(opt.dir, "logs", "sp.log");
const base = opt["sp-base-url"].endsWith("/") ? opt["sp-base-url"] : `${opt["sp-base-url"]}/`;
const acsUrl = `${base}acs`;
const entityId = `${base}metadata`;

function log(line) {
  const text = `${new Date().toISOString()} ${line}\n`;
  try {
    appendFileSync(logFile, text);
  } catch {
    // The log directory is the harness's; stdout (process.log) still has the line.
  }
  process.stdout.write(text);
}

function versionOf(pkg) {
  try {
    return requireLib(`${pkg}/package.json`).version;
  } catch {
    return "absent";
  }
}

/// The given name among the attributes, whatever the IdP profile calls it.
function givenName(attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (/given|first/i.test(name)) {
      const v = Array.isArray(value) ? value[0] : value;
      if (typeof v === "string") return v;
    }
  }
  return "";
}

// One adapter per library: login URL, response validation, metadata.
function nodeSamlAdapter() {
  const { SAML } = requireLib("@node-saml/node-saml");
  const saml = new SAML({
    callbackUrl: acsUrl,
    entryPoint: opt["idp-sso-url"],
    issuer: entityId,
    idpCert: readFileSync(join(opt.dir, "idp-cert.pem"), "utf8"),
    // The mock IdP (like Okta's default) signs the assertion, not the Response; the README
    // says either must be signed even with this off.
    wantAuthnResponseSigned: false,
    wantAssertionsSigned: true,
    // The README's way to tie a response to the request this SP sent.
    validateInResponseTo: "ifPresent",
    acceptedClockSkewMs: 5000,
  });
  return {
    async loginUrl() {
      return saml.getAuthorizeUrlAsync("", undefined, {});
    },
    async validate(body) {
      const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: body.SAMLResponse });
      if (!profile) throw new Error("node-saml returned no profile");
      return { nameId: profile.nameID, givenName: givenName(profile.attributes || profile) };
    },
    metadata() {
      return saml.generateServiceProviderMetadata(null, null);
    },
  };
}

function samlifyAdapter() {
  const samlify = requireLib("samlify");
  // The README: a schema validator must be set before anything else; this is its pure-node one.
  samlify.setSchemaValidator(requireLib("@authenio/samlify-node-xmllint"));
  const { Constants } = samlify;
  const idp = samlify.IdentityProvider({
    metadata: readFileSync(join(opt.dir, "idp-metadata.xml"), "utf8"),
    wantAuthnRequestsSigned: false,
  });
  const sp = samlify.ServiceProvider({
    entityID: entityId,
    authnRequestsSigned: false,
    wantAssertionsSigned: true,
    assertionConsumerService: [{ Binding: Constants.namespace.binding.post, Location: acsUrl }],
  });
  return {
    async loginUrl() {
      return sp.createLoginRequest(idp, "redirect").context;
    },
    async validate(body) {
      const { extract } = await sp.parseLoginResponse(idp, "post", { body });
      return { nameId: extract.nameID, givenName: givenName(extract.attributes) };
    },
    metadata() {
      return sp.getMetadata();
    },
  };
}

const adapters = { "node-saml": nodeSamlAdapter, samlify: samlifyAdapter };
if (!adapters[opt.lib]) throw new Error(`--lib must be one of ${Object.keys(adapters).join(", ")}`);
// The IdP files appear only once SSO is configured; until then the SP answers 503 on SAML
// routes (the harness starts it after rendering, so this is only for hand runs).
let adapter;
function lib() {
  if (!adapter) adapter = adapters[opt.lib]();
  return adapter;
}

const sessions = new Map();

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(res, status, title, body, headers = {}) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...headers });
  res.end(`<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body></html>\n`);
}

function session(req) {
  const m = /(?:^|;\s*)sid=([0-9a-f]{32})/.exec(req.headers.cookie || "");
  return m ? sessions.get(m[1]) : undefined;
}

function signedInPage(res, who) {
  page(
    res,
    200,
    "Signed in",
    `<h1>Protected page</h1>\n<p>Signed in as <span id="signed-in-as">${escapeHtml(who.nameId)}</span></p>\n<p>Display name: <span id="display-name">${escapeHtml(who.givenName)}</span></p>`,
  );
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 2 * 1024 * 1024) throw new Error("request body over 2 MiB");
    chunks.push(chunk);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
}

async function handle(req, res) {
  const url = new URL(req.url, base);
  if (req.method === "GET" && url.pathname === "/health") {
    return page(res, 200, "ok", "<p>ok</p>");
  }
  if (req.method === "GET" && url.pathname === "/metadata") {
    res.writeHead(200, { "content-type": "application/samlmetadata+xml" });
    return res.end(lib().metadata());
  }
  if (req.method === "GET" && url.pathname === "/login") {
    const location = await lib().loginUrl();
    res.writeHead(302, { location });
    return res.end();
  }
  if (req.method === "POST" && url.pathname === "/acs") {
    const body = await readForm(req);
    let who;
    try {
      who = await lib().validate(body);
    } catch (e) {
      const why = e && e.message ? e.message : String(e);
      log(`ACS refused (${opt.lib}): ${why}`);
      return page(res, 403, "Sign-in refused", `<h1>Sign-in refused</h1>\n<p id="error">${escapeHtml(why)}</p>`);
    }
    if (!who.nameId) {
      log(`ACS refused (${opt.lib}): the library returned no NameID`);
      return page(res, 403, "Sign-in refused", `<h1>Sign-in refused</h1>\n<p id="error">no NameID</p>`);
    }
    const sid = randomBytes(16).toString("hex");
    sessions.set(sid, who);
    log(`ACS accepted (${opt.lib}): signed in as ${JSON.stringify(who.nameId)}`);
    res.writeHead(302, { location: `${base}secure`, "set-cookie": `sid=${sid}; Path=/; HttpOnly; SameSite=Lax` });
    return res.end();
  }
  if (req.method === "GET" && (url.pathname === "/secure" || url.pathname === "/probe")) {
    const who = session(req);
    if (who) return signedInPage(res, who);
    if (url.pathname === "/probe") return page(res, 401, "Not signed in", "<p>not signed in</p>");
    res.writeHead(302, { location: `${base}login` });
    return res.end();
  }
  if (url.pathname === "/logout") {
    // Local sign-out: the session ends here; the IdP's own session is left alone (no SLO).
    const m = /(?:^|;\s*)sid=([0-9a-f]{32})/.exec(req.headers.cookie || "");
    if (m) sessions.delete(m[1]);
    log("signed out");
    res.writeHead(302, { location: base, "set-cookie": "sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" });
    return res.end();
  }
  return page(res, 404, "Not found", "<p>not found</p>");
}

const server = createServer((req, res) => {
  handle(req, res).catch((e) => {
    // Something the library threw outside validation: log the stack, answer 500.
    log(`unexpected error: ${e && e.stack ? e.stack : e}`);
    if (!res.headersSent) page(res, 500, "Error", `<p id="error">${escapeHtml(e && e.message ? e.message : e)}</p>`);
    else res.end();
  });
});

server.listen(Number(opt.port), "127.0.0.1", () => {
  const versions = ["@node-saml/node-saml", "samlify", "xml-crypto"]
    .map((p) => `${p}@${versionOf(p)}`)
    .join(" ");
  log(`node-sp listening on 127.0.0.1:${opt.port}: --lib ${opt.lib} --install ${opt.install} (${versions})`);
});
