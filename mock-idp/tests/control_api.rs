#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The control API over real HTTP, as the harness and reference SP use it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_idp::server::{ServeOptions, serve};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start() -> (mock_idp::server::RunningIdp, reqwest::Client, String) {
    let idp = serve(ServeOptions::default()).await.unwrap();
    let base = idp.base_url().as_str().trim_end_matches('/').to_string();
    (idp, reqwest::Client::new(), base)
}

#[tokio::test]
async fn tenant_lifecycle_and_info() {
    let (_idp, c, base) = start().await;
    let r = c
        .post(format!("{base}/_control/tenants"))
        .json(&json!({"id": "acme-1", "profile": "okta",
            "users": [{"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng", "password": "pw"}],
            "apps": [{"name": "Workspace", "url": "http://sp.test/tile", "mode": "idp_initiated"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["id"], "acme-1");
    assert_eq!(info["profile"], "okta");
    let saml = &info["saml"];
    assert_eq!(saml["sso_url"], format!("{base}/t/acme-1/saml/sso"));
    assert_eq!(
        saml["metadata_url"],
        format!("{base}/t/acme-1/saml/metadata")
    );
    assert_eq!(
        saml["tile_urls"]["Workspace"],
        format!("{base}/t/acme-1/apps/Workspace")
    );
    assert!(
        saml["entity_id"]
            .as_str()
            .unwrap()
            .starts_with("http://www.okta.com/")
    );
    assert!(
        saml["certificate_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(saml["fingerprint_sha1"].as_str().unwrap().len(), 59);
    assert_eq!(saml["fingerprint_sha256"].as_str().unwrap().len(), 95);
    // The password never comes back, nor is it in the tenant info.
    assert!(!info.to_string().contains("\"pw\""));

    let got: Value = c
        .get(format!("{base}/_control/tenants/acme-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["saml"]["certificate_pem"], saml["certificate_pem"]);

    // Same id twice is refused.
    let r = c
        .post(format!("{base}/_control/tenants"))
        .json(&json!({"id": "acme-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let r = c
        .delete(format!("{base}/_control/tenants/acme-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .get(format!("{base}/_control/tenants/acme-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_names_the_json_path() {
    let (_idp, c, base) = start().await;
    let cases = [
        (
            json!({"users": [{"email": "a@x.test"}, {"email": 5}]}),
            "users[1].email",
        ),
        (
            json!({"users": [{"email": "a@x.test", "emial": "x"}]}),
            "users[0].emial",
        ),
        (json!({"faults": ["unsigned", "unsinged"]}), "faults[1]"),
        (json!({"profile": "oktaa"}), "profile"),
        (json!({"sp": {"acs_url": "not a url"}}), "sp.acs_url"),
        (json!({"users": [{"email": "nope"}]}), "users[0].email"),
        (json!({"id": "UPPER"}), "id"),
        (json!({"saml": {"sign": "everything"}}), "saml.sign"),
    ];
    for (body, path) in cases {
        let r = c
            .post(format!("{base}/_control/tenants"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["path"], path, "{body} -> {e}");
        assert!(!e["error"].as_str().unwrap().is_empty());
    }
    let r = c
        .post(format!("{base}/_control/tenants"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_tenant_is_404_everywhere() {
    let (_idp, c, base) = start().await;
    let t = format!("{base}/_control/tenants/nope");
    let calls = [
        c.get(&t),
        c.put(format!("{t}/sp")).json(&json!({})),
        c.put(format!("{t}/faults")).json(&json!({"faults": []})),
        c.post(format!("{t}/faults/next"))
            .json(&json!({"faults": []})),
        c.put(format!("{t}/clock"))
            .json(&json!({"offset_seconds": 1})),
        c.post(format!("{t}/users"))
            .json(&json!({"email": "a@x.test"})),
        c.put(format!("{t}/apps")).json(&json!([])),
        c.get(format!("{t}/exchanges")),
        c.get(format!("{base}/t/nope/saml/metadata")),
    ];
    for call in calls {
        let r = call.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let e: Value = r.json().await.unwrap();
        assert!(e["error"].as_str().unwrap().contains("nope"), "{e}");
    }
}

#[tokio::test]
async fn shaping_calls_answer_as_documented() {
    let (idp, c, base) = start().await;
    let r = c
        .post(format!("{base}/_control/tenants"))
        .json(&json!({"id": "s"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let t = format!("{base}/_control/tenants/s");

    let r = c
        .put(format!("{t}/sp"))
        .json(&json!({"entity_id": "urn:sp", "acs_url": "http://sp.test/acs?connection=org-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .put(format!("{t}/faults"))
        .json(&json!({"faults": ["unsigned"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .post(format!("{t}/faults/next"))
        .json(&json!({"faults": ["wrong_audience"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .put(format!("{t}/clock"))
        .json(&json!({"offset_seconds": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .put(format!("{t}/clock"))
        .json(&json!({"offset_seconds": "soon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .post(format!("{t}/users"))
        .json(&json!({"email": "bob@acme.test", "groups": ["chatgpt"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c
        .post(format!("{t}/users"))
        .json(&json!({"email": "bob@acme.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .patch(format!("{t}/users/bob@acme.test"))
        .json(&json!({"email": "robert@acme.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .patch(format!("{t}/users/bob@acme.test"))
        .json(&json!({"given_name": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .put(format!("{t}/apps"))
        .json(&json!([{"name": "W", "url": "http://sp.test/w"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .put(format!("{t}/apps"))
        .json(&json!([{"name": "W", "url": "http://sp.test/w", "mode": "teleport"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["path"], "[0].mode");
    let r = c
        .post(format!("{t}/oidc/clients"))
        .json(&json!({"client_id": "c1", "client_secret": "s3cret-canary", "redirect_uris": ["http://sp.test/cb"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body = r.text().await.unwrap();
    assert!(!body.contains("s3cret-canary"), "{body}");
    assert!(body.contains("[redacted]"));

    // The state behind the calls.
    let shared = idp.state().tenants.get("s").unwrap();
    let t = shared.lock().unwrap();
    assert_eq!(t.sp.entity_id.as_deref(), Some("urn:sp"));
    assert_eq!(t.faults, vec![mock_idp::fault::Fault::Unsigned]);
    assert_eq!(t.next_faults, vec![mock_idp::fault::Fault::WrongAudience]);
    assert_eq!(t.clock.offset_seconds, 3600);
    assert!(t.user_by_email("robert@acme.test").is_some());
    assert_eq!(t.apps.len(), 1);
    assert_eq!(t.oidc_clients[0].client_secret.expose(), "s3cret-canary");
}

#[tokio::test]
async fn tenants_are_isolated() {
    let (idp, c, base) = start().await;
    for id in ["a", "b"] {
        let r = c
            .post(format!("{base}/_control/tenants"))
            .json(&json!({"id": id, "users": [{"email": "u@x.test"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    c.put(format!("{base}/_control/tenants/a/faults"))
        .json(&json!({"faults": ["unsigned"]}))
        .send()
        .await
        .unwrap();
    c.patch(format!("{base}/_control/tenants/a/users/u@x.test"))
        .json(&json!({"email": "v@x.test"}))
        .send()
        .await
        .unwrap();
    let a: Value = c
        .get(format!("{base}/_control/tenants/a"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b: Value = c
        .get(format!("{base}/_control/tenants/b"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(a["saml"]["certificate_pem"], b["saml"]["certificate_pem"]);
    let tb = idp.state().tenants.get("b").unwrap();
    let tb = tb.lock().unwrap();
    assert!(tb.faults.is_empty());
    assert!(tb.user_by_email("u@x.test").is_some());
}

#[tokio::test]
async fn faults_endpoint_lists_every_fault() {
    let (_idp, c, base) = start().await;
    let list: Vec<Value> = c
        .get(format!("{base}/_control/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), mock_idp::fault::Fault::ALL.len());
    assert!(
        list.iter()
            .any(|f| f["name"] == "unknown_key" && f["protocol"] == "saml")
    );
    assert!(
        list.iter()
            .any(|f| f["name"] == "id_token_alg_none" && f["protocol"] == "oidc")
    );
    assert!(
        list.iter()
            .all(|f| !f["description"].as_str().unwrap().is_empty())
    );
}

#[tokio::test]
async fn shutdown_stops_http_and_dns() {
    let (idp, c, base) = start().await;
    assert_eq!(
        c.get(format!("{base}/_control/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let http = idp.addr();
    let dns = idp.dns_addr();
    idp.shutdown().await;
    assert!(tokio::net::TcpStream::connect(http).await.is_err());
    assert!(tokio::net::TcpStream::connect(dns).await.is_err());

    // Dropping works the same way.
    let (idp, _c, _base) = start().await;
    let http = idp.addr();
    drop(idp);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(http).await.is_err());
}

#[tokio::test]
async fn every_truncation_of_a_body_is_a_400_never_a_crash() {
    let (_idp, c, base) = start().await;
    let body = json!({"id": "trunc", "profile": "entra",
        "users": [{"email": "a@x.test", "given_name": "Ä", "attributes": {"upn": ["a@corp.test"]}}],
        "sp": {"entity_id": "urn:sp", "acs_url": "http://sp.test/acs"},
        "faults": ["unsigned"], "apps": [{"name": "W", "url": "http://sp.test/w"}]})
    .to_string();
    let bytes = body.as_bytes();
    for cut in 0..bytes.len() {
        let r = c
            .post(format!("{base}/_control/tenants"))
            .header("content-type", "application/json")
            .body(bytes[..cut].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "cut at {cut}");
    }
    let r = c
        .post(format!("{base}/_control/tenants"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// A browser: keeps cookies, follows no redirect (the tests read them).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// One SAML sign-in (login, then IdP-initiated) and one OIDC sign-in (authorize, login,
/// token) at tenant `id`; returns the HTTP statuses of the two answers.
async fn sign_in_both_ways(base: &str, id: &str) -> (StatusCode, StatusCode) {
    let b = browser();
    let r = b
        .post(format!("{base}/t/{id}/login"))
        .form(&[("username", "alice@acme.test"), ("password", "pw")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let saml = b
        .get(format!("{base}/t/{id}/saml/idp-initiated"))
        .send()
        .await
        .unwrap();
    let saml_status = saml.status();
    if saml_status == StatusCode::OK {
        assert!(saml.text().await.unwrap().contains("SAMLResponse"));
    }

    let b = browser();
    let page = b
        .get(format!("{base}/t/{id}/authorize"))
        .query(&[
            ("client_id", "c1"),
            ("redirect_uri", "http://rp.test/cb"),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flow = page
        .split("name=\"flow\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let r = b
        .post(format!("{base}/t/{id}/oidc/login"))
        .form(&[
            ("flow", flow.as_str()),
            ("username", "alice@acme.test"),
            ("password", "pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let token = b
        .post(format!("{base}/t/{id}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://rp.test/cb"),
            ("client_id", "c1"),
            ("client_secret", "cs"),
        ])
        .send()
        .await
        .unwrap();
    (saml_status, token.status())
}

#[tokio::test]
async fn clock_offsets_are_bounded_and_no_offset_can_break_a_sign_in() {
    let (idp, c, base) = start().await;
    let max = proto::idp::MAX_CLOCK_OFFSET_SECONDS;
    let r = c
        .post(format!("{base}/_control/tenants"))
        .json(
            &json!({"id": "clk", "users": [{"email": "alice@acme.test", "password": "pw"}],
            "sp": {"entity_id": "urn:sp", "acs_url": "http://sp.test/acs"},
            "oidc_clients": [{"client_id": "c1", "client_secret": "cs",
                "redirect_uris": ["http://rp.test/cb"]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let t = format!("{base}/_control/tenants/clk");

    // Near the integer limit (the probe's values) and just past the bound: 400 naming the
    // field, and the clock is left as it was.
    for offset in [i64::MAX, i64::MIN, i64::MAX - 1, max + 1, -max - 1] {
        let r = c
            .put(format!("{t}/clock"))
            .json(&json!({ "offset_seconds": offset }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{offset}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["path"], "offset_seconds", "{e}");
        assert!(e["error"].as_str().unwrap().contains("100 years"), "{e}");
    }
    let r = c
        .post(format!("{base}/_control/tenants"))
        .json(&json!({"id": "clk2", "clock_offset_seconds": i64::MAX}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["path"],
        "clock_offset_seconds"
    );
    assert_eq!(
        idp.state()
            .tenants
            .get("clk")
            .unwrap()
            .lock()
            .unwrap()
            .clock
            .offset_seconds,
        0
    );

    // The bound itself is accepted, and sign-ins work at either end of it.
    for offset in [max, -max] {
        let r = c
            .put(format!("{t}/clock"))
            .json(&json!({ "offset_seconds": offset }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            sign_in_both_ways(&base, "clk").await,
            (StatusCode::OK, StatusCode::OK),
            "{offset}"
        );
    }
    // Whatever offset reaches a tenant (here set in-process, past the control API), every
    // date is computed without a panic: the server still answers both protocols.
    for offset in [i64::MAX, i64::MIN] {
        idp.state()
            .tenants
            .get("clk")
            .unwrap()
            .lock()
            .unwrap()
            .clock
            .offset_seconds = offset;
        let (saml, oidc) = sign_in_both_ways(&base, "clk").await;
        assert_eq!(saml, StatusCode::OK, "{offset}");
        // The code outlives nothing at the edge of time, but the answer is an answer.
        assert!(
            oidc == StatusCode::OK || oidc == StatusCode::BAD_REQUEST,
            "{offset}: {oidc}"
        );
    }
}

#[tokio::test]
async fn bodies_that_are_not_the_expected_json_shape_are_400_naming_it() {
    let (idp, c, base) = start().await;
    for body in [
        json!([]),
        json!(["acme"]),
        json!("acme"),
        json!(5),
        json!(null),
    ] {
        let r = c
            .post(format!("{base}/_control/tenants"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains("expected an object (TenantSpec)"),
            "{body} -> {e}"
        );
    }
    // Nested objects too: an SP, a user, an app given as arrays.
    for (body, path, what) in [
        (json!({"sp": []}), "sp", "SpSpec"),
        (json!({"users": [["a@x.test"]]}), "users[0]", "User"),
        (json!({"apps": [["W", "http://sp.test"]]}), "apps[0]", "App"),
    ] {
        let r = c
            .post(format!("{base}/_control/tenants"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["path"], path, "{body} -> {e}");
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .contains(&format!("an object ({what})")),
            "{e}"
        );
    }
    assert!(idp.state().tenants.ids().is_empty(), "nothing was created");
    // Other calls: faults as a bare list, apps as an object.
    c.post(format!("{base}/_control/tenants"))
        .json(&json!({"id": "shape"}))
        .send()
        .await
        .unwrap();
    let t = format!("{base}/_control/tenants/shape");
    let r = c
        .put(format!("{t}/faults"))
        .json(&json!(["unsigned"]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("FaultsBody"), "{e}");
    let r = c
        .put(format!("{t}/apps"))
        .json(&json!({"name": "W", "url": "http://sp.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("sequence"), "{e}");
}

#[tokio::test]
async fn txt_values_the_dns_server_could_never_serve_are_refused() {
    let (_idp, c, base) = start().await;
    let txt = format!("{base}/_control/dns/txt");
    // Longer than one 255-byte character-string: served split, as before.
    let r = c
        .post(&txt)
        .json(&json!({"name": "long.acme.test", "value": "k".repeat(300)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Larger than any DNS message can carry.
    let r = c
        .post(&txt)
        .json(&json!({"name": "big.acme.test", "value": "x".repeat(70_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["path"], "value");
    assert!(e["error"].as_str().unwrap().contains("65535"), "{e}");
    // Each fits, the record set would not.
    let value = |i: usize| format!("{i}-{}", "y".repeat(20_000));
    for i in 0..3 {
        let r = c
            .post(&txt)
            .json(&json!({"name": "many.acme.test", "value": value(i)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{i}");
    }
    let r = c
        .post(&txt)
        .json(&json!({"name": "many.acme.test", "value": value(3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["path"], "value");
    // Names are checked as before.
    let r = c
        .post(&txt)
        .json(&json!({"name": "not a name", "value": "v"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["path"], "name");
}

#[tokio::test]
async fn oversized_bodies_are_413_with_the_limit() {
    let (_idp, c, base) = start().await;
    let limit = proto::idp::MAX_BODY_BYTES;
    let big = format!(
        "{{\"id\": \"big\", \"users\": [{{\"email\": \"a@x.test\", \"given_name\": \"{}\"}}]}}",
        "a".repeat(limit)
    );
    for url in [
        format!("{base}/_control/tenants"),
        format!("{base}/_control/dns/txt"),
    ] {
        let r = c
            .post(&url)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{url}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e["error"].as_str().unwrap().contains(&limit.to_string()),
            "{e}"
        );
    }
    // Just under the limit is read (and judged on its content).
    let r = c
        .post(format!("{base}/_control/tenants"))
        .header("content-type", "application/json")
        .body(format!("{{\"id\": \"{}\"}}", "a".repeat(limit - 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["path"], "id");
}

#[tokio::test]
async fn saml_request_errors_name_what_is_wrong() {
    use mock_idp::saml::request::encode_redirect;
    let (_idp, c, base) = start().await;
    c.post(format!("{base}/_control/tenants"))
        .json(&json!({"id": "req"}))
        .send()
        .await
        .unwrap();
    let sso = format!("{base}/t/req/saml/sso");
    let page = |r: reqwest::Response| async move {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        r.text().await.unwrap()
    };
    // Text that is not XML, by either binding: "not XML" and where, never "empty".
    let text = page(
        c.get(&sso)
            .query(&[("SAMLRequest", encode_redirect("hello, IdP"))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.contains("SAMLRequest is not XML"), "{text}");
    assert!(text.contains("at byte 0"), "{text}");
    assert!(!text.contains("empty"), "{text}");
    let text = page(
        c.post(&sso)
            .form(&[("SAMLRequest", B64.encode("hello, IdP"))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.contains("SAMLRequest is not XML"), "{text}");
    // Another root element, and a request that is really empty.
    let text = page(
        c.post(&sso)
            .form(&[("SAMLRequest", B64.encode("<samlp:LogoutRequest/>"))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        text.contains("root element is &lt;samlp:LogoutRequest&gt;"),
        "{text}"
    );
    let text = page(
        c.post(&sso)
            .form(&[("SAMLRequest", "")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.contains("SAMLRequest is empty"), "{text}");
    // A missing parameter names the binding it was looked for in.
    let text = page(
        c.post(&sso)
            .query(&[("SAMLRequest", encode_redirect("<x/>"))])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.contains("form field (HTTP-POST binding"), "{text}");
    let text = page(c.get(&sso).send().await.unwrap()).await;
    assert!(
        text.contains("query parameter (HTTP-Redirect binding"),
        "{text}"
    );
    // The exchange log carries the same words.
    let log: Vec<Value> = c
        .get(format!("{base}/_control/tenants/req/exchanges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        log[0]["decoded"]
            .as_str()
            .unwrap()
            .contains("SAMLRequest is not XML"),
        "{log:?}"
    );
}
