//! A new user with an SP nobody here wrote: writes a tiny SAML SP and a tiny OIDC relying
//! party configured only through environment variables, generates a target file for each
//! with `sso-harness new-target` flags (with its sign-out URL), lets it prove the target with
//! one sign-in, then runs the smoke pack with `sso-harness run` and reads a green report in
//! which sign-in, sign-out and the refusal really ran. A sign-out that leaves the session
//! alive must turn that report red.
//!
//! The SAML SP reuses the repo's python-sp (peers/vulnerable/python-sp) on the fixed pysaml2
//! 6.5.0 venv in a new way: a wrapper builds pysaml2's configuration from the environment.
//! The OIDC RP is a node script on node's own modules (http, crypto, fetch).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A tiny SAML SP: everything it knows comes from its environment.
const ENV_SAML_SP: &str = r#""""A SAML SP configured only through environment variables: the repo's pysaml2 SP
(peers/vulnerable/python-sp/pysaml2_sp.py) with a configuration built from them."""
import json
import os
import sys
import urllib.request

env = os.environ
sys.path.insert(0, env["PYTHON_SP_DIR"])
with urllib.request.urlopen(env["IDP_METADATA_URL"]) as r:
    metadata = r.read()
# The working directory is the trial's private directory.
with open("env-idp-metadata.xml", "wb") as f:
    f.write(metadata)
config = {
    "entityid": env["SP_ENTITY_ID"],
    "service": {"sp": {
        "endpoints": {"assertion_consumer_service": [
            [env["SP_ACS_URL"], "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"]]},
        "allow_unsolicited": False,
        "authn_requests_signed": False,
        "want_response_signed": False,
        "want_assertions_signed": False,
        "want_assertions_or_response_signed": True,
    }},
    "metadata": {"local": [os.path.abspath("env-idp-metadata.xml")]},
    "key_file": env["SP_KEY_FILE"],
    "cert_file": env["SP_CERT_FILE"],
    "allow_unknown_attributes": True,
}
with open("env-sp-config.json", "w", encoding="utf-8") as f:
    json.dump(config, f)
sys.argv = ["pysaml2_sp.py", os.path.abspath("env-sp-config.json"), env["PORT"], env["LOG_FILE"]]
import common  # noqa: E402
import pysaml2_sp  # noqa: E402

if env.get("LOGOUT_KEEPS_SESSION") == "1":
    # The broken sign-out the smoke pack must catch: /logout only sends the browser to the
    # start page (which shows nobody); the session and its cookie stay valid.
    other_pages = common.other_pages

    def sign_out_that_only_redirects(start_response, store, environ, path, title):
        if path == "/logout":
            return common.redirect(start_response, "/")
        return other_pages(start_response, store, environ, path, title)

    common.other_pages = sign_out_that_only_redirects

pysaml2_sp.main()
"#;

/// A tiny OpenID Connect relying party (authorization code flow, client_secret_basic, RS256
/// ID token checked against the provider's JWKS: signature, iss, aud, exp, nonce), configured
/// only through environment variables; `/api/me` answers who is signed in as JSON.
const ENV_OIDC_RP: &str = r#"import http from 'node:http';
import crypto from 'node:crypto';

const env = process.env;
const discovery = await (await fetch(env.OIDC_DISCOVERY_URL)).json();
const pending = new Map();
const sessions = new Map();
const b64u = (s) => Buffer.from(s, 'base64url');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cookie(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function page(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
}

async function verify(idToken, nonce) {
  const [h, p, s] = idToken.split('.');
  const header = JSON.parse(b64u(h));
  if (header.alg !== 'RS256') throw new Error(`alg ${header.alg} refused`);
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`unknown kid ${header.kid}`);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  if (!crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), key, b64u(s))) {
    throw new Error('bad signature');
  }
  const c = JSON.parse(b64u(p));
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (c.iss !== discovery.issuer) throw new Error(`issuer ${c.iss}`);
  if (aud.length !== 1 || aud[0] !== env.OIDC_CLIENT_ID) throw new Error(`audience ${aud}`);
  if (!(c.exp * 1000 > Date.now())) throw new Error('expired');
  if (c.nonce !== nonce) throw new Error('nonce mismatch');
  if (!c.sub) throw new Error('no sub');
  return c;
}

async function callback(req, res, url) {
  const state = url.searchParams.get('state');
  if (!state || state !== cookie(req, 'rp_state') || !pending.has(state)) {
    return page(res, 400, '<p id="error">state mismatch</p>');
  }
  const nonce = pending.get(state);
  pending.delete(state);
  const basic = Buffer.from(`${env.OIDC_CLIENT_ID}:${env.OIDC_CLIENT_SECRET}`).toString('base64');
  const t = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: url.searchParams.get('code') || '',
      redirect_uri: env.OIDC_REDIRECT_URI,
    }),
  });
  if (!t.ok) return page(res, 403, `<p id="error">token endpoint: ${t.status}</p>`);
  const claims = await verify((await t.json()).id_token, nonce);
  const sid = crypto.randomBytes(24).toString('base64url');
  sessions.set(sid, claims.email || claims.sub);
  res.writeHead(302, { location: '/secure', 'set-cookie': `rp_session=${sid}; Path=/; HttpOnly` });
  res.end();
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname === '/login') {
      const state = crypto.randomBytes(16).toString('base64url');
      const nonce = crypto.randomBytes(16).toString('base64url');
      pending.set(state, nonce);
      const to = new URL(discovery.authorization_endpoint);
      for (const [k, v] of Object.entries({
        response_type: 'code', client_id: env.OIDC_CLIENT_ID, redirect_uri: env.OIDC_REDIRECT_URI,
        scope: 'openid email profile', state, nonce,
      })) to.searchParams.set(k, v);
      res.writeHead(302, { location: to.href, 'set-cookie': `rp_state=${state}; Path=/; HttpOnly; SameSite=Lax` });
      return res.end();
    }
    if (url.pathname === '/auth/callback') return await callback(req, res, url);
    if (url.pathname === '/secure') {
      const who = sessions.get(cookie(req, 'rp_session'));
      if (!who) return page(res, 302, '', { location: '/login' });
      return page(res, 200, `<p>Signed in as <span id="user-email">${esc(who)}</span></p>`);
    }
    if (url.pathname === '/api/me') {
      const who = sessions.get(cookie(req, 'rp_session'));
      res.writeHead(who ? 200 : 401, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(who ? { user: { email: who } } : { error: 'not signed in' }));
    }
    if (url.pathname === '/logout') {
      sessions.delete(cookie(req, 'rp_session'));
      res.writeHead(302, { location: '/', 'set-cookie': 'rp_session=; Path=/; HttpOnly; Max-Age=0' });
      return res.end();
    }
    if (url.pathname === '/') return page(res, 200, '<p><a href="/login">Sign in</a></p>');
    if (url.pathname === '/health') return page(res, 200, 'ok');
    return page(res, 404, '<p id="error">not found</p>');
  } catch (e) {
    console.error(`refused: ${e.message}`);
    return page(res, 403, `<p id="error">${esc(e.message)}</p>`);
  }
}).listen(Number(env.PORT), '127.0.0.1');
"#;

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sso-harness"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The report directory a run printed (the line ending in index.html).
fn report_of(o: &Output) -> PathBuf {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .map(|l| l.trim_start_matches("report: "))
        .find(|l| l.ends_with("index.html"))
        .unwrap_or_else(|| panic!("no report path in:\n{}", text(o)));
    let p = Path::new(line);
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        repo().join(p)
    };
    p.parent().unwrap().to_path_buf()
}

/// Every trial of the report's results.json, as (name, verdict).
fn verdicts(report: &Path) -> Vec<(String, String)> {
    trials(report).into_iter().map(|(n, v, _)| (n, v)).collect()
}

/// Every trial of the report's results.json, as (name, verdict, message).
fn trials(report: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("results.json")).unwrap())
            .unwrap();
    v["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["verdict"].as_str().unwrap().to_string(),
                t["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// `sso-harness run` of the smoke pack on the target file `out` (trials matching `filter`).
fn run_smoke(out: &Path, reports: &Path, filter: Option<&str>) -> Output {
    let mut args = vec![
        "run",
        "--target",
        out.to_str().unwrap(),
        "--scenarios",
        "scenarios/smoke",
        "--report",
        reports.to_str().unwrap(),
        "--jobs",
        "1",
    ];
    if let Some(f) = filter {
        args.extend_from_slice(&["--filter", f]);
    }
    harness(&args)
}

/// new-target with `flags` (proved by the smoke sign-in `login`), then the whole smoke pack
/// on the file: green, and each of `must_pass` (sign-in, sign-out, the refusal) really ran
/// and passed; every other trial passed or was skipped with a reason.
fn new_user_flow(flags: &[&str], out: &Path, reports: &Path, login: &str, must_pass: &[&str]) {
    let mut args = vec!["new-target"];
    args.extend_from_slice(flags);
    let out_s = out.to_str().unwrap();
    let reports_s = reports.to_str().unwrap();
    args.extend_from_slice(&["--out", out_s, "--report", reports_s]);
    let made = harness(&args);
    let shown = text(&made);
    assert_eq!(made.status.code(), Some(0), "new-target:\n{shown}");
    assert!(shown.contains("proved: the target signs in"), "{shown}");
    let proof = verdicts(&report_of(&made));
    assert_eq!(proof.len(), 1, "{proof:?}");
    assert!(proof[0].0.ends_with(login), "{proof:?}");
    assert_eq!(proof[0].1, "pass", "{proof:?}\n{shown}");

    let checked = harness(&["check", out_s]);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked));

    let ran = run_smoke(out, reports, None);
    let shown = text(&ran);
    assert_eq!(ran.status.code(), Some(0), "run:\n{shown}");
    let trials = trials(&report_of(&ran));
    assert_eq!(trials.len(), 7, "the whole smoke pack: {trials:?}");
    for want in must_pass {
        assert!(
            trials
                .iter()
                .any(|(n, v, _)| n.ends_with(&format!("::smoke/{want}")) && v == "pass"),
            "smoke/{want} did not pass: {trials:?}"
        );
    }
    for (name, verdict, message) in &trials {
        match verdict.as_str() {
            "pass" => {}
            // The other protocol's trials, and IdP-initiated sign-in the file does not claim.
            "skipped" => assert!(
                message.contains("lacks capability"),
                "{name}: skipped without a reason: {message:?}"
            ),
            _ => panic!("{name}: {verdict}: {message}\n{shown}"),
        }
    }
}

#[test]
fn a_new_saml_sp_configured_by_env_gets_a_green_report() {
    let python = repo().join("peers/vulnerable/pysaml2-6.5.0/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup (it installs the pinned pysaml2 venv)",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let sp = dir.path().join("env_saml_sp.py");
    std::fs::write(&sp, ENV_SAML_SP).unwrap();
    let command = format!("{} {}", python.display(), sp.display());
    let python_sp = format!(
        "PYTHON_SP_DIR={}",
        repo().join("peers/vulnerable/python-sp").display()
    );
    // In a folder named targets: `sso-harness check` reads other YAML files as scenarios.
    let out = dir.path().join("targets/env-saml.yaml");
    new_user_flow(
        &[
            "--name",
            "env-pysaml2",
            "--protocol",
            "saml",
            "--command",
            &command,
            "--env",
            &python_sp,
            "--env",
            "PORT={sp.port}",
            "--env",
            "IDP_METADATA_URL={idp.metadata_url}",
            "--env",
            "SP_ENTITY_ID={sp.entity_id}",
            "--env",
            "SP_ACS_URL={sp.acs_url}",
            "--env",
            "SP_KEY_FILE={sp.dir}/sp-key.pem",
            "--env",
            "SP_CERT_FILE={sp.dir}/sp-cert.pem",
            "--env",
            "LOG_FILE={sp.dir}/sp.log",
            "--log",
            "{sp.dir}/sp.log",
            "--ready-url",
            "{sp.base_url}metadata",
            "--login-url",
            "{sp.base_url}login",
            "--acs-url",
            "{sp.base_url}acs",
            "--entity-id",
            "{sp.base_url}metadata",
            "--metadata-url",
            "{sp.base_url}metadata",
            "--signed-in",
            "#signed-in-as",
            "--sign-out-url",
            "{sp.base_url}logout",
        ],
        &out,
        &dir.path().join("reports"),
        "smoke/saml-sign-in",
        &["saml-sign-in", "saml-sign-out", "saml-unsigned-refused"],
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("IDP_METADATA_URL: \"{idp.metadata_url}\""),
        "{written}"
    );
    assert!(written.contains("# Target file written by `sso-harness new-target`"));
    assert!(
        written.contains("sign_out: [ { open: \"{sp.base_url}logout\" } ]"),
        "{written}"
    );
}

/// The smoke pack can fail: the same SAML SP whose /logout leaves the session alive (its
/// start page shows nobody, so only asking the page that showed the user finds it) makes
/// the sign-out trial a FINDING, and fails the run.
#[test]
fn a_sign_out_that_keeps_the_session_fails_the_smoke_pack() {
    let python = repo().join("peers/vulnerable/pysaml2-6.5.0/venv/bin/python");
    assert!(python.exists(), "{} is missing", python.display());
    let dir = tempfile::tempdir().unwrap();
    let sp = dir.path().join("env_saml_sp.py");
    std::fs::write(&sp, ENV_SAML_SP).unwrap();
    let command = format!("{} {}", python.display(), sp.display());
    let python_sp = format!(
        "PYTHON_SP_DIR={}",
        repo().join("peers/vulnerable/python-sp").display()
    );
    let out = dir.path().join("targets/sticky.yaml");
    let made = harness(&[
        "new-target",
        "--name",
        "sticky-session",
        "--protocol",
        "saml",
        "--command",
        &command,
        "--env",
        &python_sp,
        "--env",
        "LOGOUT_KEEPS_SESSION=1",
        "--env",
        "PORT={sp.port}",
        "--env",
        "IDP_METADATA_URL={idp.metadata_url}",
        "--env",
        "SP_ENTITY_ID={sp.entity_id}",
        "--env",
        "SP_ACS_URL={sp.acs_url}",
        "--env",
        "SP_KEY_FILE={sp.dir}/sp-key.pem",
        "--env",
        "SP_CERT_FILE={sp.dir}/sp-cert.pem",
        "--env",
        "LOG_FILE={sp.dir}/sp.log",
        "--ready-url",
        "{sp.base_url}metadata",
        "--acs-url",
        "{sp.base_url}acs",
        "--entity-id",
        "{sp.base_url}metadata",
        "--signed-in",
        "#signed-in-as",
        "--sign-out-url",
        "{sp.base_url}logout",
        "--no-prove",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    let ran = run_smoke(&out, &dir.path().join("reports"), Some("sign-out"));
    let shown = text(&ran);
    assert_eq!(ran.status.code(), Some(1), "the run must fail:\n{shown}");
    let trials = trials(&report_of(&ran));
    let (_, verdict, message) = trials
        .iter()
        .find(|(n, _, _)| n.ends_with("::smoke/saml-sign-out"))
        .unwrap_or_else(|| panic!("{trials:?}"));
    // The SP accepted what it must refuse (a session after the sign-out): a FINDING, which
    // fails the run.
    assert_eq!(verdict, "finding", "{message}");
    assert!(message.contains("outlived the sign-out"), "{message}");
    assert!(message.contains("/secure"), "{message}");
}

#[test]
fn a_new_oidc_rp_configured_by_env_gets_a_green_report() {
    let dir = tempfile::tempdir().unwrap();
    let rp = dir.path().join("env_oidc_rp.mjs");
    std::fs::write(&rp, ENV_OIDC_RP).unwrap();
    let command = format!("node {}", rp.display());
    let out = dir.path().join("targets/env-oidc.yaml");
    new_user_flow(
        &[
            "--name",
            "env-node-rp",
            "--protocol",
            "oidc",
            "--command",
            &command,
            "--env",
            "PORT={sp.port}",
            "--env",
            "OIDC_DISCOVERY_URL={idp.discovery_url}",
            "--env",
            "OIDC_CLIENT_ID={idp.client_id}",
            "--env",
            "OIDC_CLIENT_SECRET={idp.client_secret}",
            "--env",
            "OIDC_REDIRECT_URI={sp.oidc_redirect_uri}",
            "--ready-url",
            "{sp.base_url}health",
            "--login-url",
            "{sp.base_url}secure",
            "--redirect-uri",
            "{sp.base_url}auth/callback",
            // Its "who am I" JSON names the user (the page would do too: #user-email).
            "--whoami",
            "{sp.base_url}api/me",
            "--whoami-field",
            "user.email",
            "--sign-out-url",
            "{sp.base_url}logout",
        ],
        &out,
        &dir.path().join("reports"),
        "smoke/oidc-sign-in",
        &[
            "oidc-sign-in",
            "oidc-sign-out",
            "oidc-wrong-audience-refused",
        ],
    );
}

/// A wrong selector is the commonest first mistake: the proof fails, says which key to look
/// at, and the file stays for the fix.
#[test]
fn a_wrong_signed_in_selector_fails_the_proof_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let rp = dir.path().join("env_oidc_rp.mjs");
    std::fs::write(&rp, ENV_OIDC_RP).unwrap();
    let command = format!("node {}", rp.display());
    let out = dir.path().join("wrong.yaml");
    let reports = dir.path().join("reports");
    let o = harness(&[
        "new-target",
        "--name",
        "wrong-selector",
        "--protocol",
        "oidc",
        "--command",
        &command,
        "--env",
        "PORT={sp.port}",
        "--env",
        "OIDC_DISCOVERY_URL={idp.discovery_url}",
        "--env",
        "OIDC_CLIENT_ID={idp.client_id}",
        "--env",
        "OIDC_CLIENT_SECRET={idp.client_secret}",
        "--env",
        "OIDC_REDIRECT_URI={sp.oidc_redirect_uri}",
        "--ready-url",
        "{sp.base_url}health",
        "--login-url",
        "{sp.base_url}secure",
        "--redirect-uri",
        "{sp.base_url}auth/callback",
        "--signed-in",
        "#no-such-element",
        "--out",
        out.to_str().unwrap(),
        "--report",
        reports.to_str().unwrap(),
    ]);
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(1), "{shown}");
    assert!(shown.contains("signals.signed_in"), "{shown}");
    assert!(out.exists());
    let proof = verdicts(&report_of(&o));
    assert_eq!(proof[0].1, "fail", "{proof:?}");
}

/// Scripts get every missing value named by its flag, and nothing is written.
#[test]
fn a_script_missing_a_value_is_told_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.yaml");
    let o = Command::new(env!("CARGO_BIN_EXE_sso-harness"))
        .args([
            "new-target",
            "--name",
            "x",
            "--protocol",
            "saml",
            "--command",
            "true",
            "--signed-in",
            "#me",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(2), "{shown}");
    assert!(shown.contains("--acs-url is missing"), "{shown}");
    assert!(!out.exists());
}

/// The shipped examples are what the tutorial copies: they must stay valid.
#[test]
fn the_example_targets_are_accepted() {
    let o = harness(&["check", "targets/examples"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let names: Vec<String> = std::fs::read_dir(repo().join("targets/examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for want in ["env-saml-sp.yaml", "env-oidc-rp.yaml", "running-url.yaml"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
}
