//! Shared test helpers: an SP on a temporary database, an admin client, a browser-like client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reference_sp::{Options, RunningSp, Secret};
use serde_json::{Value, json};
use std::net::SocketAddr;

pub const TOKEN: &str = "test-admin-token";

pub struct Sp {
    pub sp: RunningSp,
    pub dir: tempfile::TempDir,
    pub admin: reqwest::Client,
}

pub fn options(dir: &tempfile::TempDir, dns: Option<SocketAddr>, test_mode: bool) -> Options {
    let mut o = Options::new(dir.path().join("sp.sqlite"));
    o.admin_token = Some(Secret::new(TOKEN));
    o.dns_server = dns;
    o.test_mode = test_mode;
    o
}

pub async fn start(dns: Option<SocketAddr>, test_mode: bool) -> Sp {
    let dir = tempfile::tempdir().unwrap();
    let sp = reference_sp::serve(options(&dir, dns, test_mode))
        .await
        .unwrap();
    Sp {
        sp,
        dir,
        admin: reqwest::Client::new(),
    }
}

impl Sp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sp.base_url(), path.trim_start_matches('/'))
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .admin
            .request(method, self.url(path))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, v)
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.api(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.api(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.api(reqwest::Method::GET, path, None).await
    }

    pub async fn org(&self, plan: &str, billing: &str) -> String {
        let (s, v) = self
            .post(
                "/api/admin/orgs",
                json!({"name": "Acme", "plan": plan, "billing": billing}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["org_id"].as_str().unwrap().to_string()
    }

    pub async fn user(
        &self,
        org: &str,
        email: &str,
        role: &str,
        method: &str,
        password: Option<&str>,
    ) {
        let mut body = json!({"email": email, "role": role, "method": method, "given_name": "Given", "family_name": "Family"});
        if let Some(p) = password {
            body["password"] = json!(p);
        }
        let (s, v) = self
            .post(&format!("/api/admin/orgs/{org}/users"), body)
            .await;
        assert_eq!(s, 201, "{v}");
    }
}

/// A browser: keeps cookies, follows redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

pub struct Page {
    pub status: u16,
    pub url: String,
    pub body: String,
}

impl Page {
    /// Text content of the element with this id (first match, tags stripped).
    pub fn id(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let start = self.body.find(&marker)?;
        let open_end = self.body[start..].find('>')? + start + 1;
        let tag_start = self.body[..start].rfind('<')?;
        let tag: String = self.body[tag_start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let close = format!("</{tag}>");
        let end = self.body[open_end..]
            .find(&close)
            .map(|e| e + open_end)
            .unwrap_or(self.body.len());
        Some(html_text(&self.body[open_end..end]))
    }
    pub fn error(&self) -> Option<String> {
        self.id("error")
    }
}

pub fn html_text(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

pub async fn page(resp: reqwest::Response) -> Page {
    let status = resp.status().as_u16();
    let url = resp.url().to_string();
    let body = resp.text().await.unwrap();
    Page { status, url, body }
}

pub async fn get_page(b: &reqwest::Client, url: &str) -> Page {
    page(b.get(url).send().await.unwrap()).await
}

pub async fn post_form(b: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Page {
    page(b.post(url).form(form).send().await.unwrap()).await
}

/// Password sign-in through the email-first page.
pub async fn password_login(sp: &Sp, b: &reqwest::Client, email: &str, password: &str) -> Page {
    let p = post_form(b, &sp.url("/login"), &[("email", email)]).await;
    assert!(
        p.body.contains("name=\"password\""),
        "no password form: {}",
        p.body
    );
    post_form(
        b,
        &sp.url("/login/password"),
        &[("email", email), ("password", password)],
    )
    .await
}

/// The mock IdP, started in-process, and a client for its control API.
pub struct Idp {
    pub idp: mock_idp::server::RunningIdp,
    pub http: reqwest::Client,
}

pub async fn start_idp() -> Idp {
    let idp = mock_idp::server::serve(mock_idp::server::ServeOptions::default())
        .await
        .unwrap();
    Idp {
        idp,
        http: reqwest::Client::new(),
    }
}

impl Idp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.idp.base_url(), path.trim_start_matches('/'))
    }
    pub fn dns(&self) -> SocketAddr {
        self.idp.dns_addr()
    }
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    pub async fn publish_txt(&self, name: &str, value: &str) {
        let (s, v) = self
            .control(
                reqwest::Method::POST,
                "/_control/dns/txt",
                json!({"name": name, "value": value}),
            )
            .await;
        assert_eq!(s, 204, "{v}");
    }
}

/// DV-1 the documented way: add, publish the TXT key in DNS, press Check.
pub async fn verify_domain(sp: &Sp, idp: &Idp, org: &str, domain: &str) {
    let (s, d) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains"),
            json!({"domain": domain}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    idp.publish_txt(
        d["txt_name"].as_str().unwrap(),
        d["txt_value"].as_str().unwrap(),
    )
    .await;
    let (s, c) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains/{domain}/check"),
            json!({}),
        )
        .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("verified")), "{c}");
}

fn attr_of(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(html_text(&tag[start..end]))
}

/// The first form of a page: its absolute action URL and its named inputs.
pub fn first_form(p: &Page) -> Option<(String, Vec<(String, String)>)> {
    let start = p.body.find("<form")?;
    let end = p.body[start..]
        .find("</form>")
        .map(|e| e + start)
        .unwrap_or(p.body.len());
    let form = &p.body[start..end];
    let open = &form[..form.find('>')?];
    let action = attr_of(open, "action").unwrap_or_default();
    let action = url::Url::parse(&p.url)
        .ok()?
        .join(&action)
        .ok()?
        .to_string();
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map(|e| e + i).unwrap_or(rest.len());
        let tag = &rest[i..tag_end];
        if let Some(name) = attr_of(tag, "name") {
            fields.push((name, attr_of(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    Some((action, fields))
}

/// Submits the first form of `p` as a browser would, with some fields filled in.
pub async fn submit(b: &reqwest::Client, p: &Page, fill: &[(&str, &str)]) -> Page {
    let (action, mut fields) =
        first_form(p).unwrap_or_else(|| panic!("no form on {}: {}", p.url, p.body));
    for (k, v) in fill {
        match fields.iter_mut().find(|(n, _)| n == k) {
            Some(f) => f.1 = v.to_string(),
            None => fields.push((k.to_string(), v.to_string())),
        }
    }
    page(b.post(action).form(&fields).send().await.unwrap()).await
}

/// At the IdP's login page: sign in, then let the auto-submitting SAML form post to the SP.
pub async fn idp_login(b: &reqwest::Client, p: &Page, user: &str, password: &str) -> Page {
    assert!(
        p.body.contains("name=\"username\""),
        "not the IdP login page ({}): {}",
        p.url,
        p.body
    );
    let answer = submit(b, p, &[("username", user), ("password", password)]).await;
    follow_saml_post(b, answer).await
}

/// Follows the HTTP-POST binding's auto-submit form when the page is one.
pub async fn follow_saml_post(b: &reqwest::Client, p: Page) -> Page {
    if p.body.contains("name=\"SAMLResponse\"") {
        submit(b, &p, &[]).await
    } else {
        p
    }
}

pub const PW: &str = "idp-password-1";

/// An Enterprise workspace with a verified `acme.test`, an owner with a password, a mock IdP
/// tenant of `profile` whose user alice@acme.test (Alice Ng) is a member, SAML SSO on.
pub struct World {
    pub idp: Idp,
    pub sp: Sp,
    pub org: String,
    pub tenant: Value,
}

pub async fn saml_world(profile: &str, test_mode: bool) -> World {
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), test_mode).await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(
        &org,
        "owner@acme.test",
        "owner",
        "password",
        Some("owner-pw-1"),
    )
    .await;
    verify_domain(&sp, &idp, &org, "acme.test").await;
    let (s, tenant) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants",
            json!({
                "profile": profile,
                "users": [{"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng", "password": PW}],
                "sp": {"entity_id": format!("urn:reference-sp:{org}"), "acs_url": sp.url(&format!("/sso/saml/acs?connection={org}"))}
            }),
        )
        .await;
    assert_eq!(s, 201, "{tenant}");
    let w = World {
        idp,
        sp,
        org,
        tenant,
    };
    w.configure_saml(true).await;
    let (s, v) =
        w.sp.put(
            &format!("/api/admin/orgs/{}/sso", w.org),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    w.sp.user(&w.org, "alice@acme.test", "member", "sso", None)
        .await;
    w
}

impl World {
    pub fn tenant_id(&self) -> String {
        self.tenant["id"].as_str().unwrap().to_string()
    }
    pub async fn configure_saml(&self, with_issuer: bool) {
        let mut body = json!({
            "sso_url": self.tenant["saml"]["sso_url"],
            "certificate_pem": self.tenant["saml"]["certificate_pem"],
        });
        if with_issuer {
            body["idp_entity_id"] = self.tenant["saml"]["entity_id"].clone();
        }
        let (s, v) = self
            .sp
            .put(&format!("/api/admin/orgs/{}/sso/saml", self.org), body)
            .await;
        assert_eq!(s, 204, "{v}");
    }
    pub async fn idp_user(&self, email: &str, given: &str, family: &str) {
        let (s, v) = self
            .idp
            .control(
                reqwest::Method::POST,
                &format!("/_control/tenants/{}/users", self.tenant_id()),
                json!({"email": email, "given_name": given, "family_name": family, "password": PW}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    pub async fn next_faults(&self, faults: &[&str]) {
        let (s, v) = self
            .idp
            .control(
                reqwest::Method::POST,
                &format!("/_control/tenants/{}/faults/next", self.tenant_id()),
                json!({"faults": faults}),
            )
            .await;
        assert_eq!(s, 204, "{v}");
    }
    /// SP-initiated: the email-first page forwards to the IdP, sign in there, come back.
    pub async fn sso_login(&self, b: &reqwest::Client, email: &str) -> Page {
        let p = post_form(b, &self.sp.url("/login"), &[("email", email)]).await;
        idp_login(b, &p, email, PW).await
    }
}
