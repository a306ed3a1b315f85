//! What the OIDC tests of the mock OP share: a user's browser, and filling in the OP's login
//! form the way that browser would (read the form's action and flow, post the credentials).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

/// The user's browser: cookies kept, redirects looked at one by one.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first attribute that `marker` (`action="`) opens in `page`, unescaped.
pub fn attr_after(page: &str, marker: &str) -> String {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {page}"))
        + marker.len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

/// Posts the login form of `page` (the OP's sign-in page) as `username` with `password`:
/// the OP's answer, a redirect to the client when the credentials hold.
pub async fn submit_login(
    browser: &reqwest::Client,
    page: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(attr_after(page, "action=\""))
        .form(&[
            ("flow", attr_after(page, "name=\"flow\" value=\"").as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// A mock IdP served for one test, and the HTTP client its control API and the RP's
/// back-channel calls use (redirects are answers to look at, not to follow). Each test file
/// adds the requests it needs in its own `impl Op`.
pub struct Op {
    pub server: mock_idp::server::RunningIdp,
    pub http: reqwest::Client,
}

impl Op {
    pub async fn start() -> Self {
        Self {
            server: mock_idp::server::serve(mock_idp::server::ServeOptions::default())
                .await
                .unwrap(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path.trim_start_matches('/'))
    }

    /// Creates a tenant through the control API (`body` as `POST /_control/tenants` takes
    /// it): the tenant's description, with its OIDC endpoints.
    pub async fn create_tenant(&self, body: serde_json::Value) -> serde_json::Value {
        let r = self
            .http
            .post(self.url("/_control/tenants"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }
}
