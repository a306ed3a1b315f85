#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pinned tenants over HTTP: kept in the state directory across restarts (same certificate,
//! fingerprint, URLs, OIDC client secret and JWKS), private files, and trial overlays that one
//! trial at a time lays over the base and gives back.

mod saml_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_idp::saml::request::encode_redirect;
use mock_idp::server::{RunningIdp, ServeOptions, serve};
use reqwest::StatusCode;
use saml_support::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

const ACS: &str = "http://sp.test/acs?connection=staging";
const AUDIENCE: &str = "urn:sp:staging";
const CLIENT_SECRET: &str = "rp-secret-canary-7f3a";

async fn start(state_dir: Option<&Path>) -> (RunningIdp, String) {
    let idp = serve(ServeOptions {
        state_dir: state_dir.map(Path::to_path_buf),
        ..ServeOptions::default()
    })
    .await
    .unwrap();
    let base = idp.base_url().as_str().trim_end_matches('/').to_string();
    (idp, base)
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get_json(url: &str) -> Value {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

async fn get_text(url: &str) -> String {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn create(base: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{base}/_control/tenants"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The staging tenant a person configures an SP with once.
fn staging() -> Value {
    json!({
        "id": "staging", "profile": "okta", "pinned": true,
        "users": [{"email": "base@acme.test", "given_name": "Base", "family_name": "User", "password": "base-pw"}],
        "oidc_clients": [{"client_id": "rp", "client_secret": CLIENT_SECRET,
                          "redirect_uris": ["http://sp.test/oidc/callback"]}]
    })
}

fn tenant_dir(state: &Path) -> PathBuf {
    state.join("tenants").join("staging")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The kids the JWKS lists, in order.
async fn kids(info: &Value) -> Vec<String> {
    let jwks = get_json(info["oidc"]["jwks_uri"].as_str().unwrap()).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

/// A token request with a code that does not exist: a right client secret gets
/// `invalid_grant` (400), a wrong one `invalid_client` (401).
async fn token_status(info: &Value, secret: &str) -> (StatusCode, Value) {
    let r = client()
        .post(info["oidc"]["token_endpoint"].as_str().unwrap())
        .basic_auth("rp", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "no-such-code"),
            ("redirect_uri", "http://sp.test/oidc/callback"),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

fn authn_request(id: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>{AUDIENCE}</saml:Issuer></samlp:AuthnRequest>"#
    )
}

/// An SP-initiated sign-in in a fresh browser: the login page's status when the login is
/// refused, or the SAML Response XML the auto-submit form posts (and where it posts).
async fn sign_in(
    info: &Value,
    base: &str,
    email: &str,
    password: &str,
) -> Result<(String, String), StatusCode> {
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = browser
        .get(info["saml"]["sso_url"].as_str().unwrap())
        .query(&[("SAMLRequest", encode_redirect(&authn_request("_req-1")))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    let action = form_action(&page).unwrap();
    let mut fields = vec![
        ("username", email.to_string()),
        ("password", password.to_string()),
    ];
    if let Some(flow) = hidden_input(&page, "flow") {
        fields.push(("flow", flow));
    }
    let r = browser
        .post(format!("{base}{action}"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::OK {
        return Err(r.status());
    }
    let html = r.text().await.unwrap();
    let posted_to = form_action(&html).unwrap();
    let xml = String::from_utf8(
        B64.decode(hidden_input(&html, "SAMLResponse").unwrap())
            .unwrap(),
    )
    .unwrap();
    Ok((xml, posted_to))
}

/// The base64 body of a PEM key, one line of it: what would show if it leaked anywhere.
fn key_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 40)
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn a_pinned_tenant_comes_back_after_a_restart_with_the_same_key_and_clients() {
    let state = tempfile::tempdir().unwrap();
    let (idp, base) = start(Some(state.path())).await;
    let r = create(&base, staging()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["pinned"], true);
    assert_eq!(created["trial"], Value::Null);
    // The SP's values are learnt after the tenant exists, outside any trial: kept too.
    let r = client()
        .put(format!("{base}/_control/tenants/staging/sp"))
        .json(&json!({"entity_id": AUDIENCE, "acs_url": ACS}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let kids_before = kids(&created).await;
    assert_eq!(
        kids_before.len(),
        2,
        "current and next key: {kids_before:?}"
    );
    let (status, body) = token_status(&created, CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");

    // Private files, from creation on.
    let dir = tenant_dir(state.path());
    assert_eq!(mode(&state.path().join("tenants")), 0o700);
    assert_eq!(mode(&dir), 0o700);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "next-cert.pem",
            "next-key.pem",
            "signing-cert.pem",
            "signing-key.pem",
            "tenant.json"
        ]
    );
    for n in &names {
        assert_eq!(mode(&dir.join(n)), 0o600, "{n}");
    }
    let key_pem = std::fs::read_to_string(dir.join("signing-key.pem")).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
    let cert_file = std::fs::read_to_string(dir.join("signing-cert.pem")).unwrap();
    assert_eq!(
        cert_file,
        created["saml"]["certificate_pem"].as_str().unwrap()
    );
    let spec_file = std::fs::read_to_string(dir.join("tenant.json")).unwrap();
    assert!(
        spec_file.contains(CLIENT_SECRET),
        "the secret is kept: {spec_file}"
    );
    assert!(spec_file.contains(ACS), "{spec_file}");

    // The private keys are in no answer.
    let mut secrets = key_lines(&key_pem);
    secrets.extend(key_lines(
        &std::fs::read_to_string(dir.join("next-key.pem")).unwrap(),
    ));
    assert!(!secrets.is_empty());
    let answers = [
        created.to_string(),
        get_text(&format!("{base}/_control/tenants/staging")).await,
        get_text(created["saml"]["metadata_url"].as_str().unwrap()).await,
        get_text(created["oidc"]["jwks_uri"].as_str().unwrap()).await,
        get_text(created["oidc"]["discovery_url"].as_str().unwrap()).await,
        get_text(&format!("{base}/_control/tenants/staging/exchanges")).await,
    ];
    for a in &answers {
        for s in &secrets {
            assert!(!a.contains(s.as_str()), "a key line leaked: {a}");
        }
        assert!(!a.contains(CLIENT_SECRET), "{a}");
    }
    idp.shutdown().await;

    // Another process life, same directory.
    let (_idp, base2) = start(Some(state.path())).await;
    assert_ne!(base, base2, "a new port: the paths are what must match");
    let ids: Vec<String> = get_json(&format!("{base2}/_control/tenants"))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["staging"]);
    let again = get_json(&format!("{base2}/_control/tenants/staging")).await;
    assert_eq!(again["pinned"], true);
    for field in [
        "certificate_pem",
        "fingerprint_sha1",
        "fingerprint_sha256",
        "entity_id",
    ] {
        assert_eq!(again["saml"][field], created["saml"][field], "{field}");
    }
    let path = |v: &Value| {
        url::Url::parse(v.as_str().unwrap())
            .unwrap()
            .path()
            .to_string()
    };
    assert_eq!(
        path(&again["saml"]["sso_url"]),
        path(&created["saml"]["sso_url"])
    );
    assert_eq!(
        path(&again["oidc"]["jwks_uri"]),
        path(&created["oidc"]["jwks_uri"])
    );
    assert_eq!(kids(&again).await, kids_before);
    let (status, body) = token_status(&again, CLIENT_SECRET).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["error"], "invalid_grant",
        "the client and its secret are back"
    );
    let (status, _) = token_status(&again, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A sign-in after the restart goes to the SP's ACS, signed by the key the SP trusts.
    let (xml, posted_to) = sign_in(&again, &base2, "base@acme.test", "base-pw")
        .await
        .unwrap();
    assert_eq!(posted_to, ACS);
    assert!(xmlsec_verify(&xml, &cert_file), "{xml}");
    assert_eq!(first(&elements(&xml), "Audience").unwrap().text, AUDIENCE);
}

async fn put_trial(base: &str, body: Value) -> reqwest::Response {
    client()
        .put(format!("{base}/_control/tenants/staging/trial"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn delete_trial(base: &str, trial_id: &str) -> StatusCode {
    client()
        .delete(format!(
            "{base}/_control/tenants/staging/trial?trial_id={trial_id}"
        ))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_trial_overlay_is_applied_held_and_reset_to_the_base() {
    let state = tempfile::tempdir().unwrap();
    let (_idp, base) = start(Some(state.path())).await;
    let mut spec = staging();
    spec["sp"] = json!({"entity_id": AUDIENCE, "acs_url": ACS});
    let created: Value = create(&base, spec).await.json().await.unwrap();
    let spec_file = tenant_dir(state.path()).join("tenant.json");
    let persisted = std::fs::read_to_string(&spec_file).unwrap();
    let info_url = format!("{base}/_control/tenants/staging");
    let exchanges_url = format!("{base}/_control/tenants/staging/exchanges");
    // Something of the base's own to be cleared.
    sign_in(&created, &base, "base@acme.test", "base-pw")
        .await
        .unwrap();

    let r = put_trial(
        &base,
        json!({"trial_id": "abc123", "ttl_seconds": 600,
               "users": [{"email": "trial@acme.test", "password": "trial-pw"}],
               "faults": ["wrong_audience"], "clock_offset_seconds": 120,
               "saml": {"sign": "both"},
               "oidc": {"allowed_groups": ["admins"]}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["faults"], json!(["wrong_audience"]));
    assert_eq!(info["trial"]["trial_id"], "abc123");
    assert_eq!(info["trial"]["expired"], false);
    let (since, until) = (
        time::OffsetDateTime::parse(
            info["trial"]["since"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
        time::OffsetDateTime::parse(
            info["trial"]["until"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
    );
    assert_eq!((until - since).whole_seconds(), 600);
    assert_eq!(
        info["saml"]["certificate_pem"],
        created["saml"]["certificate_pem"]
    );
    let log: Vec<Value> = get_json(&exchanges_url).await.as_array().unwrap().clone();
    assert!(log.is_empty(), "the base's exchanges are gone: {log:?}");

    // The overlay's user signs in; the base's does not; the fault is in the response.
    let (xml, _) = sign_in(&info, &base, "trial@acme.test", "trial-pw")
        .await
        .unwrap();
    let els = elements(&xml);
    assert_eq!(first(&els, "NameID").unwrap().text, "trial@acme.test");
    assert_ne!(
        first(&els, "Audience").unwrap().text,
        AUDIENCE,
        "wrong_audience"
    );
    assert_eq!(
        sign_in(&info, &base, "base@acme.test", "base-pw")
            .await
            .unwrap_err(),
        StatusCode::UNAUTHORIZED
    );
    // During the trial, a control call changes the trial's tenant, not the file.
    let r = client()
        .put(format!("{base}/_control/tenants/staging/faults"))
        .json(&json!({"faults": ["unsigned", "wrong_audience"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get_json(&info_url).await["faults"],
        json!(["unsigned", "wrong_audience"])
    );
    assert_eq!(std::fs::read_to_string(&spec_file).unwrap(), persisted);

    // Another trial is refused while the lease holds, with who holds it and until when.
    let r = put_trial(&base, json!({"trial_id": "other"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let e: Value = r.json().await.unwrap();
    let text = e["error"].as_str().unwrap();
    assert!(
        text.starts_with("tenant staging is held by trial abc123 since "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            ", until {}",
            info["trial"]["until"].as_str().unwrap()
        )),
        "{text}"
    );
    assert_eq!(delete_trial(&base, "other").await, StatusCode::CONFLICT);

    // The same trial again re-applies: its own exchanges are cleared too.
    assert!(
        !get_json(&exchanges_url)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    let r = put_trial(
        &base,
        json!({"trial_id": "abc123", "users": [{"email": "trial@acme.test"}]}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["faults"], json!([]));
    assert!(
        get_json(&exchanges_url)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Given back: the base exactly.
    assert_eq!(delete_trial(&base, "abc123").await, StatusCode::NO_CONTENT);
    let info = get_json(&info_url).await;
    assert_eq!(info["trial"], Value::Null);
    assert_eq!(info["faults"], json!([]));
    assert!(
        get_json(&exchanges_url)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        sign_in(&info, &base, "trial@acme.test", "x")
            .await
            .unwrap_err(),
        StatusCode::UNAUTHORIZED,
        "the overlay's user is gone"
    );
    let (xml, posted_to) = sign_in(&info, &base, "base@acme.test", "base-pw")
        .await
        .unwrap();
    assert_eq!(posted_to, ACS);
    assert_eq!(first(&elements(&xml), "Audience").unwrap().text, AUDIENCE);
    assert_eq!(std::fs::read_to_string(&spec_file).unwrap(), persisted);
    // Nothing held: giving back again is fine.
    assert_eq!(delete_trial(&base, "abc123").await, StatusCode::NO_CONTENT);
    assert_eq!(delete_trial(&base, "nobody").await, StatusCode::NO_CONTENT);

    // A lease that ran out is taken over by the next trial.
    let r = put_trial(&base, json!({"trial_id": "short", "ttl_seconds": 1})).await;
    assert_eq!(r.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(get_json(&info_url).await["trial"]["expired"], true);
    let r = put_trial(&base, json!({"trial_id": "next-one"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["trial"]["trial_id"], "next-one");
    assert_eq!(info["trial"]["expired"], false);
    assert_eq!(
        delete_trial(&base, "next-one").await,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn pinning_needs_an_id_and_a_state_dir_and_overlays_a_pinned_tenant() {
    let (_plain, base) = start(None).await;
    let r = create(&base, staging()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["path"], "pinned");
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("mock-idp serve --state-dir DIR"),
        "{e}"
    );

    let state = tempfile::tempdir().unwrap();
    let (_idp, base) = start(Some(state.path())).await;
    let mut no_id = staging();
    no_id.as_object_mut().unwrap().remove("id");
    let r = create(&base, no_id).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["path"], "pinned");
    assert!(
        e["error"].as_str().unwrap().contains("explicit `id`"),
        "{e}"
    );
    assert!(
        std::fs::read_dir(state.path().join("tenants"))
            .unwrap()
            .next()
            .is_none()
    );

    // An unpinned tenant takes no overlay.
    let r = create(&base, json!({"id": "staging"})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = put_trial(&base, json!({"trial_id": "abc"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["path"], ".");
    assert!(
        e["error"].as_str().unwrap().contains("for pinned tenants"),
        "{e}"
    );
    assert!(!state.path().join("tenants/staging").exists());
    // A pinned tenant with the id of a live one: 409, and no directory.
    let r = create(&base, staging()).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(!state.path().join("tenants/staging").exists());
    let r = client()
        .delete(format!("{base}/_control/tenants/staging"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Bad overlays name their field; unknown fields are errors.
    assert_eq!(create(&base, staging()).await.status(), StatusCode::CREATED);
    for (body, path) in [
        (json!({"trial_id": "Bad Id"}), "trial_id"),
        (json!({"trial_id": "a", "ttl_seconds": 3601}), "ttl_seconds"),
        (
            json!({"trial_id": "a", "users": [{"email": "nope"}]}),
            "users[0].email",
        ),
        (
            json!({"trial_id": "a", "faults": ["unsinged"]}),
            "faults[0]",
        ),
        (
            json!({"trial_id": "a", "oidc": {"scope": ["openid"]}}),
            "oidc.scope",
        ),
    ] {
        let r = put_trial(&base, body.clone()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["path"], path, "{body}: {e}");
    }
    assert_eq!(
        get_json(&format!("{base}/_control/tenants/staging")).await["trial"],
        Value::Null
    );
    let r = client()
        .delete(format!("{base}/_control/tenants/staging/trial"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "trial_id is required");

    // Deleting a pinned tenant removes its directory.
    let dir = tenant_dir(state.path());
    assert!(dir.join("tenant.json").exists());
    let r = client()
        .delete(format!("{base}/_control/tenants/staging"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!dir.exists());
}

#[tokio::test]
async fn a_corrupt_tenant_json_stops_the_server_naming_the_file() {
    let state = tempfile::tempdir().unwrap();
    let (idp, base) = start(Some(state.path())).await;
    assert_eq!(create(&base, staging()).await.status(), StatusCode::CREATED);
    idp.shutdown().await;
    let file = tenant_dir(state.path()).join("tenant.json");

    // Cut short, as a crash without the rename would have left it.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let e = start_error(state.path()).await;
    assert!(e.contains(&format!("{}:", file.display())), "{e}");
    assert!(e.contains("EOF"), "{e}");

    // A field the contract does not know: its line and JSON path.
    std::fs::write(&file, "{\n  \"id\": \"staging\",\n  \"users\": [\n    {\"email\": \"a@x.test\", \"emial\": 1}\n  ]\n}\n").unwrap();
    let e = start_error(state.path()).await;
    assert!(e.starts_with(&format!("{}:4:", file.display())), "{e}");
    assert!(e.contains("users[0]") && e.contains("emial"), "{e}");

    // A value the checks refuse: the file and the field.
    std::fs::write(
        &file,
        r#"{"id": "staging", "users": [{"email": "not-an-email"}]}"#,
    )
    .unwrap();
    let e = start_error(state.path()).await;
    assert!(
        e.contains(&file.display().to_string()) && e.contains("users[0].email"),
        "{e}"
    );

    // A certificate that is not the key's.
    std::fs::write(&file, r#"{"id": "staging"}"#).unwrap();
    let dir = tenant_dir(state.path());
    std::fs::copy(dir.join("next-cert.pem"), dir.join("signing-cert.pem")).unwrap();
    let e = start_error(state.path()).await;
    assert!(
        e.contains("signing-cert.pem") && e.contains("not for the private key"),
        "{e}"
    );
}

async fn start_error(state: &Path) -> String {
    match serve(ServeOptions {
        state_dir: Some(state.to_path_buf()),
        ..ServeOptions::default()
    })
    .await
    {
        Ok(_) => panic!("the server started with a bad state directory"),
        Err(e) => e.to_string(),
    }
}
