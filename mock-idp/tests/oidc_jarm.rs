//! JARM (JWT Secured Authorization Response Mode) over HTTP: reqwest plays browser and RP,
//! asks for a `*.jwt` response mode, and checks the `response` JWT with an independent
//! verifier (`jsonwebtoken`) and the OP's JWKS; each `jarm` forge makes what it says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use oidc_support::{Op as Idp, browser, submit_login};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/rp/callback";
const SECRET: &str = "rp-secret-jarm-7373";

/// What came back to the RP's redirect URI.
struct Back {
    /// The redirect's Location (query or fragment modes).
    location: Option<url::Url>,
    /// The page (form_post mode).
    page: String,
}

impl Back {
    fn param(&self, name: &str) -> Option<String> {
        let l = self.location.as_ref()?;
        l.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The JARM JWT, wherever the mode put it.
    fn response(&self) -> String {
        if let Some(r) = self.param("response") {
            return r;
        }
        if let Some(f) = self.location.as_ref().and_then(|l| l.fragment()) {
            return f.strip_prefix("response=").unwrap().to_string();
        }
        let marker = "name=\"response\" value=\"";
        let start = self.page.find(marker).expect("a response field") + marker.len();
        self.page[start..start + self.page[start..].find('"').unwrap()].to_string()
    }
}

struct Jwt {
    header: Value,
    claims: Value,
    input: String,
    signature: String,
}

impl Jwt {
    fn of(token: &str) -> Jwt {
        let p: Vec<&str> = token.split('.').collect();
        assert_eq!(p.len(), 3, "{token}");
        Jwt {
            header: serde_json::from_slice(&B64URL.decode(p[0]).unwrap()).unwrap(),
            claims: serde_json::from_slice(&B64URL.decode(p[1]).unwrap()).unwrap(),
            input: format!("{}.{}", p[0], p[1]),
            signature: p[2].to_string(),
        }
    }

    /// Whether the JWKS key the header's kid names verifies it as RS256.
    fn verifies_with(&self, jwks: &Value) -> bool {
        let Some(kid) = self.header["kid"].as_str() else {
            return false;
        };
        let Some(k) = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid && k["kty"] == "RSA")
        else {
            return false;
        };
        let key =
            DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(k.clone()).unwrap()).unwrap();
        jsonwebtoken::crypto::verify(
            &self.signature,
            self.input.as_bytes(),
            &key,
            Algorithm::RS256,
        )
        .unwrap_or(false)
    }
}

impl Idp {
    async fn tenant(&self, id: &str) -> Value {
        self.create_tenant(json!({
                "id": id, "profile": "generic",
                "users": [{"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng"}],
                "oidc_clients": [{"client_id": "rp-1", "client_secret": SECRET, "redirect_uris": [REDIRECT]}],
            })).await
    }

    async fn get_json(&self, url: &str) -> Value {
        let r = self.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        r.json().await.unwrap()
    }

    async fn next_forge(&self, id: &str, spec: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(&format!("/_control/tenants/{id}/oidc/forge/next")))
            .json(spec)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(json!(text)))
    }

    /// Browser to the redirect URI with `response_mode`.
    async fn sign_in(&self, info: &Value, response_mode: &str) -> Back {
        let mut authorize =
            url::Url::parse(info["oidc"]["authorization_endpoint"].as_str().unwrap()).unwrap();
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "rp-1")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid email profile")
            .append_pair("state", "st-1")
            .append_pair("nonce", "nonce-1")
            .append_pair("response_mode", response_mode);
        let browser = browser();
        let page = browser
            .get(authorize.as_str())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = submit_login(&browser, &page, "alice@acme.test", "any").await;
        let location = r
            .headers()
            .get("location")
            .map(|l| url::Url::parse(l.to_str().unwrap()).unwrap());
        Back {
            location,
            page: r.text().await.unwrap(),
        }
    }

    async fn redeem(&self, info: &Value, code: &str) -> u16 {
        self.http
            .post(info["oidc"]["token_endpoint"].as_str().unwrap())
            .basic_auth("rp-1", Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

#[tokio::test]
async fn a_genuine_jarm_response_verifies_with_the_jwks_and_its_code_redeems() {
    let idp = Idp::start().await;
    let info = idp.tenant("jarm").await;
    let discovery = idp
        .get_json(info["oidc"]["discovery_url"].as_str().unwrap())
        .await;
    let modes = discovery["response_modes_supported"].as_array().unwrap();
    for m in ["query.jwt", "form_post.jwt", "fragment.jwt", "jwt"] {
        assert!(modes.contains(&json!(m)), "{m} in {discovery}");
    }
    assert_eq!(
        discovery["authorization_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let jwks = idp.get_json(discovery["jwks_uri"].as_str().unwrap()).await;

    let back = idp.sign_in(&info, "query.jwt").await;
    assert_eq!(
        back.param("code"),
        None,
        "the code travels only inside the JWT"
    );
    assert_eq!(back.param("state"), None);
    let jwt = Jwt::of(&back.response());
    assert_eq!(jwt.header["alg"], "RS256");
    assert!(jwt.verifies_with(&jwks), "{}", jwt.header);
    assert_eq!(jwt.claims["iss"], discovery["issuer"]);
    assert_eq!(jwt.claims["aud"], "rp-1");
    assert_eq!(jwt.claims["state"], "st-1");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = jwt.claims["exp"].as_i64().unwrap();
    assert!(exp > now && exp <= now + 600, "exp {exp}, now {now}");
    let code = jwt.claims["code"].as_str().unwrap();
    assert_eq!(idp.redeem(&info, code).await, 200);

    // The exchange log says a JARM response was sent, and never shows the code.
    let log: Value = idp
        .get_json(&idp.url("/_control/tenants/jarm/exchanges"))
        .await;
    let text = log.to_string();
    assert!(!text.contains(code), "the code is not logged");
    let sent = log
        .as_array()
        .or_else(|| log["exchanges"].as_array())
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "authorization_response")
        .unwrap()
        .clone();
    let d = &sent["decoded"];
    assert_eq!(d["response_mode"], "query.jwt", "{sent}");
    assert_eq!(d["jarm"]["header"]["alg"], "RS256", "{sent}");
    assert_eq!(d["jarm"]["claims"]["aud"], "rp-1", "{sent}");

    // The other modes carry the same JWT elsewhere; plain query stays plain.
    let post = idp.sign_in(&info, "form_post.jwt").await;
    assert!(post.location.is_none());
    assert!(Jwt::of(&post.response()).verifies_with(&jwks));
    let frag = idp.sign_in(&info, "fragment.jwt").await;
    assert!(frag.location.as_ref().unwrap().fragment().is_some());
    assert!(Jwt::of(&frag.response()).verifies_with(&jwks));
    let plain = idp.sign_in(&info, "query").await;
    assert!(plain.param("code").is_some() && plain.param("response").is_none());
}

#[tokio::test]
async fn each_jarm_forge_makes_what_it_says() {
    let idp = Idp::start().await;
    let info = idp.tenant("jarmforge").await;
    let discovery = idp
        .get_json(info["oidc"]["discovery_url"].as_str().unwrap())
        .await;
    let jwks = idp.get_json(discovery["jwks_uri"].as_str().unwrap()).await;
    let issuer = discovery["issuer"].as_str().unwrap().to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    type Check = fn(&Jwt, &Value, &str, i64) -> bool;
    let cases: Vec<(Value, Check)> = vec![
        (json!({"header": {"alg": "none"}}), |j, _, _, _| {
            j.header["alg"] == "none" && j.signature.is_empty()
        }),
        (json!({"signature": "flipped"}), |j, k, _, _| {
            j.header["alg"] == "RS256" && !j.verifies_with(k)
        }),
        (json!({"key": "attacker"}), |j, k, _, _| !j.verifies_with(k)),
        (
            json!({"claims": [{"op": "issuer", "variant": "other"}]}),
            |j, k, iss, _| j.verifies_with(k) && j.claims["iss"] != iss,
        ),
        (
            json!({"claims": [{"op": "remove", "name": "iss"}]}),
            |j, k, _, _| j.verifies_with(k) && j.claims.get("iss").is_none(),
        ),
        (
            json!({"claims": [{"op": "set", "name": "aud", "value": "another-client"}]}),
            |j, k, _, _| j.verifies_with(k) && j.claims["aud"] == "another-client",
        ),
        (
            json!({"claims": [{"op": "remove", "name": "aud"}]}),
            |j, k, _, _| j.verifies_with(k) && j.claims.get("aud").is_none(),
        ),
        (
            json!({"claims": [{"op": "relative_time", "name": "exp", "seconds": -3600}]}),
            |j, k, _, now| j.verifies_with(k) && j.claims["exp"].as_i64().unwrap() < now - 3000,
        ),
        (
            json!({"claims": [{"op": "remove", "name": "exp"}]}),
            |j, k, _, _| j.verifies_with(k) && j.claims.get("exp").is_none(),
        ),
    ];
    for (jarm, check) in cases {
        let spec = json!({ "jarm": jarm });
        let (status, body) = idp.next_forge("jarmforge", &spec).await;
        assert_eq!(status, 204, "{spec}: {body}");
        let back = idp.sign_in(&info, "query.jwt").await;
        let token = back.response();
        let parts: Vec<&str> = token.split('.').collect();
        let jwt = Jwt {
            header: serde_json::from_slice(&B64URL.decode(parts[0]).unwrap()).unwrap(),
            claims: serde_json::from_slice(&B64URL.decode(parts[1]).unwrap()).unwrap(),
            input: format!("{}.{}", parts[0], parts[1]),
            signature: parts.get(2).unwrap_or(&"").to_string(),
        };
        assert!(
            check(&jwt, &jwks, &issuer, now),
            "{spec}: {} {}",
            jwt.header,
            jwt.claims
        );
        assert_eq!(jwt.claims["state"], "st-1", "{spec}");
    }

    // A JARM forge does not touch a plain response, and a bad one is refused by path.
    let (status, _) = idp
        .next_forge("jarmforge", &json!({"jarm": {"header": {"alg": "none"}}}))
        .await;
    assert_eq!(status, 204);
    let plain = idp.sign_in(&info, "query").await;
    assert!(plain.param("code").is_some());
    let (status, body) = idp
        .next_forge(
            "jarmforge",
            &json!({"jarm": {"header": {"alg": "none"}, "key": "op"}}),
        )
        .await;
    assert_eq!(
        (status, body["path"].as_str()),
        (400, Some("jarm.key")),
        "{body}"
    );
}
