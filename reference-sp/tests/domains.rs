//! DV-1..8: domain verification with a real DNS lookup against the mock IdP's DNS server.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn check_reads_the_txt_record_and_can_be_repeated() {
    // DV-1, DV-2
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), false).await;
    let org = sp.org("enterprise", "custom").await;
    let (s, d) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains"),
            json!({"domain": "Acme.TEST."}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["domain"], "acme.test");
    assert_eq!(d["status"], "pending");
    assert_eq!(d["txt_name"], "_reference-sp-challenge.acme.test");
    let check = format!("/api/admin/orgs/{org}/domains/acme.test/check");
    let (_, c) = sp.post(&check, json!({})).await;
    assert_eq!(c["status"], "pending");
    assert!(
        c["reason"].as_str().unwrap().contains("no TXT record"),
        "{c}"
    );
    idp.publish_txt("_reference-sp-challenge.acme.test", "someone-else's-key")
        .await;
    let (_, c) = sp.post(&check, json!({})).await;
    assert_eq!(c["status"], "pending");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("do not hold the expected value"),
        "{c}"
    );
    idp.publish_txt(
        "_reference-sp-challenge.acme.test",
        d["txt_value"].as_str().unwrap(),
    )
    .await;
    let (_, c) = sp.post(&check, json!({})).await;
    assert_eq!(c["status"], "verified", "{c}");
    let (_, list) = sp.get(&format!("/api/admin/orgs/{org}/domains")).await;
    assert_eq!(list[0]["status"], "verified");
}

#[tokio::test]
async fn pending_attempts_expire_after_seven_days_and_verified_never_do() {
    // DV-3, DV-4
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), true).await;
    let org = sp.org("enterprise", "custom").await;
    verify_domain(&sp, &idp, &org, "done.test").await;
    let (_, first) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains"),
            json!({"domain": "late.test"}),
        )
        .await;
    // Six days later it is still pending; eight days later it has expired, even with the key.
    sp.put(
        "/api/admin/test/clock",
        json!({"offset_seconds": 6 * 86400}),
    )
    .await;
    let (_, c) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains/late.test/check"),
            json!({}),
        )
        .await;
    assert_eq!(c["status"], "pending");
    sp.put(
        "/api/admin/test/clock",
        json!({"offset_seconds": 8 * 86400}),
    )
    .await;
    idp.publish_txt(
        "_reference-sp-challenge.late.test",
        first["txt_value"].as_str().unwrap(),
    )
    .await;
    let (_, c) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains/late.test/check"),
            json!({}),
        )
        .await;
    assert_eq!(c["status"], "expired", "{c}");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .contains("Start domain verification again")
    );
    // Starting again issues a new key that can then succeed.
    let (s, again) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains"),
            json!({"domain": "late.test"}),
        )
        .await;
    assert_eq!((s, again["status"].as_str()), (201, Some("pending")));
    assert_ne!(again["txt_value"], first["txt_value"]);
    idp.publish_txt(
        "_reference-sp-challenge.late.test",
        again["txt_value"].as_str().unwrap(),
    )
    .await;
    let (_, c) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains/late.test/check"),
            json!({}),
        )
        .await;
    assert_eq!(c["status"], "verified", "{c}");
    // A year later the completed verifications are still Verified.
    sp.put(
        "/api/admin/test/clock",
        json!({"offset_seconds": 365 * 86400}),
    )
    .await;
    let (_, list) = sp.get(&format!("/api/admin/orgs/{org}/domains")).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "verified"),
        "{list}"
    );
}

#[tokio::test]
async fn one_organisation_per_domain_and_subdomains_separately() {
    // DV-5, DV-6
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), false).await;
    let a = sp.org("enterprise", "custom").await;
    let b = sp.org("enterprise", "custom").await;
    verify_domain(&sp, &idp, &a, "acme.test").await;
    let (s, v) = sp
        .post(
            &format!("/api/admin/orgs/{b}/domains"),
            json!({"domain": "acme.test"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("single organization"));
    // A pending attempt made in B before A verified cannot complete either.
    let c = sp.org("enterprise", "custom").await;
    let (_, d) = sp
        .post(
            &format!("/api/admin/orgs/{c}/domains"),
            json!({"domain": "race.test"}),
        )
        .await;
    verify_domain(&sp, &idp, &a, "race.test").await;
    idp.publish_txt(
        "_reference-sp-challenge.race.test",
        d["txt_value"].as_str().unwrap(),
    )
    .await;
    let (s, _) = sp
        .post(
            &format!("/api/admin/orgs/{c}/domains/race.test/check"),
            json!({}),
        )
        .await;
    assert_eq!(s, 409);
    // The parent does not cover the subdomain: it needs its own attempt and record.
    let (_, list) = sp.get(&format!("/api/admin/orgs/{a}/domains")).await;
    assert!(!list.to_string().contains("sub.acme.test"));
    let (s, sub) = sp
        .post(
            &format!("/api/admin/orgs/{a}/domains"),
            json!({"domain": "sub.acme.test"}),
        )
        .await;
    assert_eq!((s, sub["status"].as_str()), (201, Some("pending")));
    assert_eq!(sub["txt_name"], "_reference-sp-challenge.sub.acme.test");
    verify_domain(&sp, &idp, &b, "sub2.acme.test").await; // another org may own a sibling subdomain
}

#[tokio::test]
async fn at_most_99_verified_domains() {
    // DV-7
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), false).await;
    let org = sp.org("enterprise", "custom").await;
    for i in 0..99 {
        verify_domain(&sp, &idp, &org, &format!("d{i}.test")).await;
    }
    let (s, v) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains"),
            json!({"domain": "d99.test"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["error"].as_str().unwrap().contains("99"));
}

#[tokio::test]
async fn acs_url_and_manage_sso_appear_after_a_verified_domain() {
    // DV-8 through the HTML page, including adding and checking a domain with the forms.
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), false).await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(
        &org,
        "owner@acme.test",
        "owner",
        "password",
        Some("pw-owner-1"),
    )
    .await;
    let b = browser();
    password_login(&sp, &b, "owner@acme.test", "pw-owner-1").await;
    let page_url = sp.url(&format!("/admin/identity?org={org}&product=workspace"));
    let p = get_page(&b, &page_url).await;
    assert!(p.id("manage-sso").is_none() && p.id("acs-url").is_none());
    // Nor through the API: no SSO configuration and no toggle before a verified domain.
    let (_, t) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants",
            json!({"profile": "okta"}),
        )
        .await;
    let saml =
        json!({"sso_url": t["saml"]["sso_url"], "certificate_pem": t["saml"]["certificate_pem"]});
    let (s, v) = sp
        .put(&format!("/api/admin/orgs/{org}/sso/saml"), saml.clone())
        .await;
    assert_eq!(s, 409, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Verify at least one domain")
    );
    let (s, _) = sp
        .put(
            &format!("/api/admin/orgs/{org}/sso"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(s, 409);
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![("org", org.clone()), ("product", "workspace".to_string())];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let p = page(
        b.post(sp.url("/admin/identity/domains"))
            .form(&form(&[("domain", "bad domain")]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(p.error().unwrap().starts_with("domain:"), "{:?}", p.error());
    let p = page(
        b.post(sp.url("/admin/identity/domains"))
            .form(&form(&[("domain", "acme.test")]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(p.body.contains("data-status=\"pending\""), "{}", p.body);
    let (_, list) = sp.get(&format!("/api/admin/orgs/{org}/domains")).await;
    idp.publish_txt(
        list[0]["txt_name"].as_str().unwrap(),
        list[0]["txt_value"].as_str().unwrap(),
    )
    .await;
    let p = page(
        b.post(sp.url("/admin/identity/domains/check"))
            .form(&form(&[("domain", "acme.test")]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(p.body.contains("data-status=\"verified\""), "{}", p.body);
    assert_eq!(
        p.id("acs-url"),
        Some(sp.url(&format!("/sso/saml/acs?connection={org}")))
    );
    assert_eq!(p.id("entity-id"), Some(format!("urn:reference-sp:{org}")));
    assert!(p.id("manage-sso").is_some());
    assert_eq!(
        p.id("login-redirect-uri"),
        Some(sp.url("/sso/oidc/callback"))
    );
    // ENF-1: no Enforce SSO or Tile URLs before SSO is on.
    assert!(p.id("enforce-sso").is_none() && p.id("tile-urls").is_none());
    let (s, v) = sp
        .put(&format!("/api/admin/orgs/{org}/sso/saml"), saml)
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, _) = sp
        .put(
            &format!("/api/admin/orgs/{org}/sso"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(s, 204);
    // The platform toggle is refused where the platform has no Identity page (CFG-2).
    let other = sp.org("enterprise", "other").await;
    let (s, v) = sp
        .put(
            &format!("/api/admin/orgs/{other}/sso"),
            json!({"enabled": true, "product": "platform"}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
}

#[tokio::test]
async fn many_values_under_one_name_are_read_over_tcp() {
    // Parallel trials publish their keys under the same name; the UDP answer gets truncated
    // and the check must ask again over TCP.
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), false).await;
    let org = sp.org("enterprise", "custom").await;
    for i in 0..30 {
        idp.publish_txt(
            "_reference-sp-challenge.busy.test",
            &format!(
                "reference-sp-verification=someone-else-{i:02}-{}",
                "x".repeat(40)
            ),
        )
        .await;
    }
    verify_domain(&sp, &idp, &org, "busy.test").await;
}
