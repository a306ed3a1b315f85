//! What the OIDC checks look at: the discovery document and JWKS (fetched directly, as the
//! product does), authorization requests with the product's redirect URI and variants of it
//! (does the provider match strictly?), and the ID token the product received in real
//! sign-ins through the browser.
use serde_json::Value;

use super::catalogue::CheckKind;
use super::finding::{Finding, out_of_group_finding, sign_in_finding, tile_finding};
use super::flow::SignIn;

const WELL_KNOWN: &str = "/.well-known/openid-configuration";
pub const REQUIRED_CLAIMS: [&str; 4] = ["sub", "email", "given_name", "family_name"];

/// How the authorization endpoint answered one redirect URI.
#[derive(Debug, Clone, serde::Serialize)]
pub enum Probe {
    /// 3xx: on to the login page or back to the URI: the provider accepted it.
    Accepted { status: u16, location: String },
    /// 4xx/5xx: the provider refused it (its error page).
    Refused { status: u16, page: String },
    /// 200 or no answer: cannot tell.
    Unclear { what: String },
}

#[derive(Debug, Default, serde::Serialize)]
pub struct OidcFacts {
    pub discovery_url: String,
    pub redirect_uri: String,
    pub expected_email: String,
    pub discovery: Option<Result<Value, String>>,
    pub jwks: Option<Result<Value, String>>,
    pub exact: Option<Probe>,
    pub variants: Vec<(String, Probe)>,
    pub sign_in: Option<SignIn>,
    /// `last-sso` of the reference SP after the in-group sign-in.
    pub evidence: Option<Value>,
    pub tile: Option<SignIn>,
    pub out_of_group: Option<SignIn>,
    pub out_of_group_email: String,
}

fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

async fn get_json(http: &reqwest::Client, url: &str, what: &str) -> Result<Value, String> {
    let r = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the {what} {url}: {e}"))?;
    let status = r.status();
    if !status.is_success() {
        return Err(format!(
            "the {what} {url} answered HTTP {}",
            status.as_u16()
        ));
    }
    r.json::<Value>()
        .await
        .map_err(|e| format!("the {what} {url} is not JSON: {e}"))
}

/// Discovery, JWKS and the redirect-URI probes (no browser).
pub async fn gather_static(facts: &mut OidcFacts, client_id: &str) {
    let http = no_redirect_client();
    let discovery = get_json(&http, &facts.discovery_url, "discovery document").await;
    if let Ok(doc) = &discovery {
        if let Some(jwks_uri) = doc["jwks_uri"].as_str() {
            facts.jwks = Some(get_json(&http, jwks_uri, "JWKS").await);
        } else {
            facts.jwks = Some(Err("the discovery document names no jwks_uri".into()));
        }
        if let Some(auth) = doc["authorization_endpoint"].as_str() {
            let exact = facts.redirect_uri.clone();
            facts.exact = Some(probe(&http, auth, client_id, &exact).await);
            for v in [format!("{exact}/extra"), format!("{exact}?extra=1")] {
                let p = probe(&http, auth, client_id, &v).await;
                facts.variants.push((v, p));
            }
        }
    }
    facts.discovery = Some(discovery);
}

async fn probe(http: &reqwest::Client, endpoint: &str, client_id: &str, redirect: &str) -> Probe {
    let Ok(mut url) = url::Url::parse(endpoint) else {
        return Probe::Unclear {
            what: format!("the authorization endpoint {endpoint:?} is not a URL"),
        };
    };
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email profile")
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "idpcheck-state-0001")
        .append_pair("nonce", "idpcheck-nonce-0001")
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256");
    match http.get(url).send().await {
        Err(e) => Probe::Unclear {
            what: format!("no answer: {e}"),
        },
        Ok(r) => {
            let status = r.status().as_u16();
            if r.status().is_redirection() {
                let location = r
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                Probe::Accepted { status, location }
            } else if status >= 400 {
                let text = r.text().await.unwrap_or_default();
                Probe::Refused {
                    status,
                    page: text_of(&text),
                }
            } else {
                Probe::Unclear {
                    what: format!("HTTP {status} (neither a redirect nor an error)"),
                }
            }
        }
    }
}

/// The visible words of an HTML page, shortened.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let text = words
        .join(" ")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.chars().take(200).collect()
}

fn claims(facts: &OidcFacts) -> Option<&serde_json::Map<String, Value>> {
    facts.evidence.as_ref()?["id_token_claims"].as_object()
}

fn no_token(facts: &OidcFacts) -> Finding {
    let why = match (&facts.evidence, &facts.sign_in) {
        (Some(e), _) if e["error"].is_string() => format!(
            "the IdP answered error={} {}",
            e["error"].as_str().unwrap_or_default(),
            e["error_description"].as_str().unwrap_or_default()
        ),
        (_, Some(s)) => s.describe(),
        _ => "the sign-in did not run".into(),
    };
    Finding::not_checked(format!("no ID token reached the product: {why}"))
}

pub fn evaluate(kind: CheckKind, f: &OidcFacts) -> Finding {
    match kind {
        CheckKind::OidcDiscovery => discovery(f),
        CheckKind::OidcSigningKeys => signing_keys(f),
        CheckKind::OidcScopes => scopes(f),
        CheckKind::OidcRedirectUri => redirect_uri(f),
        CheckKind::OidcSignIn => sign_in_finding(f.sign_in.as_ref(), &f.expected_email),
        CheckKind::OidcClaims => claims_present(f),
        CheckKind::IdpInitiated => tile_finding(f.tile.as_ref(), &f.expected_email),
        CheckKind::OutOfGroupRefused => {
            out_of_group_finding(f.out_of_group.as_ref(), &f.out_of_group_email)
        }
        other => Finding::not_checked(format!("{other:?} is a SAML check")),
    }
}

fn doc(f: &OidcFacts) -> Result<&Value, Finding> {
    match &f.discovery {
        Some(Ok(d)) => Ok(d),
        Some(Err(e)) => Err(Finding::not_checked(format!(
            "needs the discovery document: {e}"
        ))),
        None => Err(Finding::not_checked("discovery was not fetched".into())),
    }
}

fn discovery(f: &OidcFacts) -> Finding {
    let d = match &f.discovery {
        Some(Ok(d)) => d,
        Some(Err(e)) => return Finding::fail(e.clone()),
        None => return Finding::fail("discovery was not fetched".into()),
    };
    let Some(issuer) = d["issuer"].as_str() else {
        return Finding::fail(format!(
            "the discovery document {} has no \"issuer\"",
            f.discovery_url
        ));
    };
    let expected = format!("{}{WELL_KNOWN}", issuer.trim_end_matches('/'));
    if expected != f.discovery_url {
        return Finding::fail(format!(
            "the discovery document at {} names the issuer {issuer:?}, whose discovery URL would be {expected}",
            f.discovery_url
        ));
    }
    for key in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
        if !d[key].is_string() {
            return Finding::fail(format!("the discovery document has no {key}"));
        }
    }
    Finding::pass(format!(
        "{} answers; issuer {issuer} matches it",
        f.discovery_url
    ))
}

fn signing_keys(f: &OidcFacts) -> Finding {
    let d = match doc(f) {
        Ok(d) => d,
        Err(x) => return x,
    };
    if let Some(algs) = d["id_token_signing_alg_values_supported"].as_array() {
        if !algs.iter().any(|a| a == "RS256") {
            return Finding::fail(format!(
                "id_token_signing_alg_values_supported is {} and lacks RS256",
                Value::Array(algs.clone())
            ));
        }
    }
    let jwks = match &f.jwks {
        Some(Ok(j)) => j,
        Some(Err(e)) => return Finding::fail(e.clone()),
        None => return Finding::fail("the JWKS was not fetched".into()),
    };
    let keys: Vec<&Value> = jwks["keys"]
        .as_array()
        .map(|k| k.iter().collect())
        .unwrap_or_default();
    let rsa: Vec<&&Value> = keys
        .iter()
        .filter(|k| {
            k["kty"] == "RSA"
                && (k["use"].is_null() || k["use"] == "sig")
                && (k["alg"].is_null() || k["alg"] == "RS256")
        })
        .collect();
    if rsa.is_empty() {
        return Finding::fail(format!(
            "the JWKS publishes no RSA signing key for RS256 ({} keys in all)",
            keys.len()
        ));
    }
    // The ID token the product received must use one of them.
    if let Some(e) = &f.evidence {
        let h = &e["id_token_header"];
        if let Some(alg) = h["alg"].as_str() {
            if alg != "RS256" {
                return Finding::fail(format!(
                    "the ID token is signed with {alg}, not RS256 (the provider has no signing key selected)"
                ));
            }
            if let Some(kid) = h["kid"].as_str() {
                if !rsa.iter().any(|k| k["kid"] == kid) {
                    return Finding::fail(format!("the ID token's key {kid:?} is not in the JWKS"));
                }
            }
            return Finding::pass(format!(
                "{} RSA key(s) in the JWKS; the ID token is signed with RS256",
                rsa.len()
            ));
        }
    }
    Finding::pass(format!(
        "{} RSA key(s) for RS256 in the JWKS (no ID token seen to compare)",
        rsa.len()
    ))
}

fn scopes(f: &OidcFacts) -> Finding {
    let d = match doc(f) {
        Ok(d) => d,
        Err(x) => return x,
    };
    if let Some(s) = d["scopes_supported"].as_array() {
        let missing: Vec<&str> = ["openid", "email", "profile"]
            .into_iter()
            .filter(|want| !s.iter().any(|v| v == want))
            .collect();
        if !missing.is_empty() {
            return Finding::fail(format!("scopes_supported lacks {}", missing.join(", ")));
        }
    }
    let Some(c) = claims(f) else {
        return no_token(f);
    };
    if !c.contains_key("email") {
        return Finding::fail(
            "the ID token has no email claim: the email scope was not granted".into(),
        );
    }
    if !["name", "given_name", "family_name"]
        .iter()
        .any(|k| c.contains_key(*k))
    {
        return Finding::fail(
            "the ID token has no profile claim (name, given_name, family_name): the profile scope was not granted"
                .into(),
        );
    }
    Finding::pass(
        "openid email profile requested and granted (email and profile claims present)".into(),
    )
}

fn redirect_uri(f: &OidcFacts) -> Finding {
    if let Err(x) = doc(f) {
        return x;
    }
    match &f.exact {
        None => {
            return Finding::fail("the discovery document has no authorization_endpoint".into());
        }
        Some(Probe::Refused { status, page }) => {
            return Finding::fail(format!(
                "the provider refused the product's redirect URI {} (HTTP {status}: \"{page}\"): it is not registered exactly",
                f.redirect_uri
            ));
        }
        Some(Probe::Unclear { what }) => {
            return Finding::fail(format!(
                "cannot tell whether {} is registered: {what}",
                f.redirect_uri
            ));
        }
        Some(Probe::Accepted { .. }) => {}
    }
    for (v, p) in &f.variants {
        if let Probe::Accepted { location, .. } = p {
            return Finding::fail(format!(
                "the provider accepted {v}, a variant of the registered redirect URI (answer: redirect to {location}): matching is not strict"
            ));
        }
    }
    Finding::pass(format!(
        "{} accepted; {} variant(s) refused",
        f.redirect_uri,
        f.variants.len()
    ))
}

fn claims_present(f: &OidcFacts) -> Finding {
    let Some(c) = claims(f) else {
        return no_token(f);
    };
    let missing: Vec<&str> = REQUIRED_CLAIMS
        .into_iter()
        .filter(|k| {
            c.get(*k)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
        })
        .collect();
    if !missing.is_empty() {
        return Finding::fail(format!(
            "the ID token lacks {} (it has: {})",
            missing.join(", "),
            c.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let email = c["email"].as_str().unwrap_or_default();
    if !email.eq_ignore_ascii_case(&f.expected_email) {
        return Finding::fail(format!(
            "the email claim is {email:?}, not the user's address {:?}",
            f.expected_email
        ));
    }
    Finding::pass(format!(
        "sub, email ({email}), given_name ({}), family_name ({}) present",
        c["given_name"].as_str().unwrap_or_default(),
        c["family_name"].as_str().unwrap_or_default()
    ))
}
