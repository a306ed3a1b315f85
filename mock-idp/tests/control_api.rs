#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The control API over real HTTP, as the harness and reference SP use it.

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
