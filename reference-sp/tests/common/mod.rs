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
