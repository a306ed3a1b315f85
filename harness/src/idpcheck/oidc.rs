//! What the OIDC checks look at: the discovery document and JWKS (fetched directly, as the
//! product does), authorization requests with the product's redirect URI and variants of it
//! (does the provider match strictly?), and the ID token the product received in real
//! sign-ins through the browser.
use serde_json::Value;

use super::catalogue::CheckKind;
use super::finding::{Finding, out_of_group_finding, sign_in_finding, tile_finding};
use super::flow::{SignIn, without_query};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";
pub const REQUIRED_CLAIMS: [&str; 4] = ["sub", "email", "given_name", "family_name"];

/// How the authorization endpoint answered one redirect URI.
#[derive(Debug, Clone, serde::Serialize)]
pub enum Probe {
    /// 3xx back to the probed URI itself (with a code or an error): the provider accepted it.
    Back { status: u16, location: String },
    /// 4xx/5xx: the provider refused it (its error page).
    Refused { status: u16, page: String },
    /// The provider asked for a login before answering: its login form (a password field in
    /// a 200 page) or a redirect to its own pages. Many providers check the redirect URI
    /// only once the user is known, so this says nothing about the URI.
    Login { status: u16, at: String },
    /// No answer, or a page that is neither a refusal nor a login form: cannot tell.
    Unclear { what: String },
}

impl Probe {
    /// Whether the provider decided about the URI (sent back or refused).
    pub fn decided(&self) -> bool {
        matches!(self, Probe::Back { .. } | Probe::Refused { .. })
    }
    fn describe(&self) -> String {
        match self {
            Probe::Back { status, location } => {
                format!("HTTP {status} back to {}", without_query(location))
            }
            Probe::Refused { status, page } => format!("HTTP {status}: \"{page}\""),
            Probe::Login { status, at } => format!("HTTP {status}: {at}"),
            Probe::Unclear { what } => what.clone(),
        }
    }
}

/// One redirect URI probed at the authorization endpoint: without a session, and again with
/// the in-group user's session when the first answer was a login page (or unclear).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UriProbe {
    pub uri: String,
    pub without_session: Probe,
    pub signed_in: Option<Probe>,
}

impl UriProbe {
    /// The answer to judge: the signed-in one when there is one.
    pub fn answer(&self) -> &Probe {
        self.signed_in.as_ref().unwrap_or(&self.without_session)
    }
    pub fn needs_session(&self) -> bool {
        !self.without_session.decided()
    }
}

#[derive(Debug, Default, serde::Serialize)]
pub struct OidcFacts {
    pub discovery_url: String,
    pub redirect_uri: String,
    pub expected_email: String,
    pub discovery: Option<Result<Value, String>>,
    pub jwks: Option<Result<Value, String>>,
    pub exact: Option<UriProbe>,
    pub variants: Vec<UriProbe>,
    /// Why the probes could not be repeated with a session (sign-in at the IdP failed).
    pub probe_sign_in: Option<Result<(), String>>,
    pub sign_in: Option<SignIn>,
    /// `last-sso` of the reference SP after the in-group sign-in.
    pub evidence: Option<Value>,
    pub tile: Option<SignIn>,
    /// `last-sso` after the application-link sign-in.
    pub tile_evidence: Option<Value>,
    pub out_of_group: Option<SignIn>,
    pub out_of_group_email: String,
}

impl OidcFacts {
    /// The authorization request URL for a redirect URI (the probes' request).
    pub fn authorization_url(&self, client_id: &str, redirect: &str) -> Option<String> {
        let doc = self.discovery.as_ref()?.as_ref().ok()?;
        let endpoint = doc["authorization_endpoint"].as_str()?;
        authorization_request(endpoint, client_id, redirect).ok()
    }

    /// Probes that need a session to be judged, exact URI first.
    pub fn probes_needing_session(&self) -> Vec<String> {
        self.exact
            .iter()
            .chain(&self.variants)
            .filter(|p| p.needs_session())
            .map(|p| p.uri.clone())
            .collect()
    }
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

/// Discovery, JWKS and the redirect-URI probes (no browser, no session).
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
            facts.exact = Some(UriProbe {
                without_session: probe(&http, auth, client_id, &exact, None).await,
                uri: exact.clone(),
                signed_in: None,
            });
            for v in [format!("{exact}/extra"), format!("{exact}?extra=1")] {
                let p = probe(&http, auth, client_id, &v, None).await;
                facts.variants.push(UriProbe {
                    uri: v,
                    without_session: p,
                    signed_in: None,
                });
            }
        }
    }
    facts.discovery = Some(discovery);
}

/// Repeats the probes that met a login page, with the IdP session's cookies (`Cookie`
/// header) of a browser signed in as the in-group user.
pub async fn probe_with_session(facts: &mut OidcFacts, client_id: &str, cookies: &str) {
    let http = no_redirect_client();
    let Some(auth) = facts
        .discovery
        .as_ref()
        .and_then(|d| d.as_ref().ok())
        .and_then(|d| d["authorization_endpoint"].as_str())
        .map(str::to_string)
    else {
        return;
    };
    for p in facts.exact.iter_mut().chain(facts.variants.iter_mut()) {
        if p.needs_session() {
            p.signed_in = Some(probe(&http, &auth, client_id, &p.uri, Some(cookies)).await);
        }
    }
}

fn authorization_request(
    endpoint: &str,
    client_id: &str,
    redirect: &str,
) -> Result<String, String> {
    let mut url = url::Url::parse(endpoint)
        .map_err(|_| format!("the authorization endpoint {endpoint:?} is not a URL"))?;
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
    Ok(url.to_string())
}

async fn probe(
    http: &reqwest::Client,
    endpoint: &str,
    client_id: &str,
    redirect: &str,
    cookies: Option<&str>,
) -> Probe {
    let url = match authorization_request(endpoint, client_id, redirect) {
        Ok(u) => u,
        Err(what) => return Probe::Unclear { what },
    };
    let mut req = http.get(url);
    if let Some(c) = cookies.filter(|c| !c.is_empty()) {
        req = req.header(reqwest::header::COOKIE, c);
    }
    match req.send().await {
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
                classify_redirect(status, location, redirect)
            } else if status >= 400 {
                let text = r.text().await.unwrap_or_default();
                Probe::Refused {
                    status,
                    page: text_of(&text),
                }
            } else {
                let html = r.text().await.unwrap_or_default();
                classify_page(status, &html)
            }
        }
    }
}

/// A redirect is an answer only when it goes back to the probed URI; anywhere else it is the
/// provider's own login (or interaction) page.
fn classify_redirect(status: u16, location: String, redirect: &str) -> Probe {
    let back = location == redirect
        || location
            .strip_prefix(redirect)
            .is_some_and(|rest| rest.starts_with(['?', '&', '#']));
    if back {
        Probe::Back { status, location }
    } else {
        Probe::Login {
            status,
            at: format!("a redirect to {}", without_query(&location)),
        }
    }
}

/// A 200 page: the provider's login form when it has a password field, else unclear.
fn classify_page(status: u16, html: &str) -> Probe {
    let lower = html.to_ascii_lowercase();
    let password_field = ["type=\"password\"", "type='password'", "type=password"]
        .iter()
        .any(|t| lower.contains(t));
    if password_field {
        Probe::Login {
            status,
            at: format!("its login form (\"{}\")", text_of(html)),
        }
    } else {
        Probe::Unclear {
            what: format!(
                "HTTP {status}, neither a redirect nor an error: \"{}\"",
                text_of(html)
            ),
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
        CheckKind::OidcSignIn => sign_in_judged(
            sign_in_finding(f.sign_in.as_ref(), &f.expected_email),
            f.sign_in.as_ref(),
            f.evidence.as_ref(),
            f,
        ),
        CheckKind::OidcClaims => claims_present(f),
        CheckKind::IdpInitiated => sign_in_judged(
            tile_finding(f.tile.as_ref(), &f.expected_email),
            f.tile.as_ref(),
            f.tile_evidence.as_ref(),
            f,
        ),
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
    // A missing claim is a scope not granted or a claim not mapped; the ID token cannot
    // tell which, and oidc-claims reports the claim with its fix.
    if !c.contains_key("email") {
        return Finding::fail(
            "the ID token has no email claim: the email scope was not granted, or the email is not mapped to it"
                .into(),
        )
        .explained_by([CheckKind::OidcClaims]);
    }
    if !["name", "given_name", "family_name"]
        .iter()
        .any(|k| c.contains_key(*k))
    {
        return Finding::fail(
            "the ID token has no profile claim (name, given_name, family_name): the profile scope was not granted, or no name is mapped"
                .into(),
        )
        .explained_by([CheckKind::OidcClaims]);
    }
    Finding::pass(
        "openid email profile requested and granted (email and profile claims present)".into(),
    )
}

/// Whether the in-group sign-in went through the IdP's login and came back to the product:
/// the provider then sent the browser to the exact redirect URI.
fn sign_in_came_back(f: &OidcFacts) -> bool {
    f.sign_in.as_ref().is_some_and(|s| {
        s.reached_login
            && (s.signed_in_as.is_some() || s.sp_error.is_some() || f.evidence.is_some())
    })
}

/// "the IdP asked for a login before answering; ..." for probes still not decided.
fn login_asked(f: &OidcFacts, undecided: &[&UriProbe]) -> Finding {
    let what = undecided
        .iter()
        .map(|p| format!("{} ({})", p.uri, p.answer().describe()))
        .collect::<Vec<_>>()
        .join("; ");
    let after = match &f.probe_sign_in {
        Some(Err(e)) => format!("signing in first did not work ({e})"),
        Some(Ok(())) => "signed in, it still did not answer".to_string(),
        None => "no session to ask again with".to_string(),
    };
    Finding::not_checked(format!(
        "the IdP asked for a login before answering; {after}: {what}"
    ))
}

fn redirect_uri(f: &OidcFacts) -> Finding {
    if let Err(x) = doc(f) {
        return x;
    }
    let Some(exact) = &f.exact else {
        return Finding::fail("the discovery document has no authorization_endpoint".into());
    };
    let signed = if exact.signed_in.is_some() {
        " (signed in)"
    } else {
        ""
    };
    let mut undecided = Vec::new();
    match exact.answer() {
        Probe::Refused { status, page } => {
            return Finding::fail(format!(
                "the provider refused the product's redirect URI {}{signed} (HTTP {status}: \"{page}\"): it is not registered exactly",
                f.redirect_uri
            ))
            .because("not_registered");
        }
        Probe::Back { .. } => {}
        // The in-group sign-in is the same request with a session: it answers for the URI.
        Probe::Login { .. } | Probe::Unclear { .. } if sign_in_came_back(f) => {}
        Probe::Login { .. } | Probe::Unclear { .. } => undecided.push(exact),
    }
    for v in &f.variants {
        match v.answer() {
            Probe::Back { location, .. } => {
                let signed = if v.signed_in.is_some() {
                    ", signed in"
                } else {
                    ""
                };
                return Finding::fail(format!(
                    "the provider accepted {}, a variant of the registered redirect URI (answer{signed}: redirect to {}): matching is not strict",
                    v.uri,
                    without_query(location)
                ))
                .because("not_strict");
            }
            Probe::Refused { .. } => {}
            Probe::Login { .. } | Probe::Unclear { .. } => undecided.push(v),
        }
    }
    if !undecided.is_empty() {
        return login_asked(f, &undecided);
    }
    let how = match (&exact.signed_in, exact.answer().decided()) {
        (Some(_), true) => format!(
            "accepted once signed in (without a session: {})",
            exact.without_session.describe()
        ),
        (None, true) => "accepted".to_string(),
        (_, false) => "accepted (the in-group sign-in came back to it)".to_string(),
    };
    let signed_variants = f.variants.iter().filter(|v| v.signed_in.is_some()).count();
    let session = if signed_variants > 0 {
        format!(" ({signed_variants} of them signed in)")
    } else {
        String::new()
    };
    Finding::pass(format!(
        "{} {how}; {} variant(s) refused{session}",
        f.redirect_uri,
        f.variants.len()
    ))
}

fn claims_present(f: &OidcFacts) -> Finding {
    let Some(c) = claims(f) else {
        return no_token(f);
    };
    let missing = missing_claims(c);
    if !missing.is_empty() {
        let mut finding = Finding::fail(format!(
            "the ID token lacks {} (it has: {})",
            missing.join(", "),
            c.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
        for m in &missing {
            finding = finding.because(missing_cause(m));
        }
        return finding;
    }
    let email = c["email"].as_str().unwrap_or_default();
    if !email.eq_ignore_ascii_case(&f.expected_email) {
        return Finding::fail(format!(
            "the email claim is {email:?}, not the user's address {:?}",
            f.expected_email
        ))
        .because("wrong_email");
    }
    Finding::pass(format!(
        "sub, email ({email}), given_name ({}), family_name ({}) present",
        c["given_name"].as_str().unwrap_or_default(),
        c["family_name"].as_str().unwrap_or_default()
    ))
}

fn missing_cause(claim: &str) -> &'static str {
    match claim {
        "sub" => "missing_sub",
        "email" => "missing_email",
        "given_name" => "missing_given_name",
        _ => "missing_family_name",
    }
}

/// The required claims an ID token lacks (or has empty).
fn missing_claims(claims: &serde_json::Map<String, Value>) -> Vec<&'static str> {
    REQUIRED_CLAIMS
        .into_iter()
        .filter(|k| {
            claims
                .get(*k)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
        })
        .collect()
}

/// A sign-in that did not succeed, with what explains it: the redirect URI the provider
/// refused (the browser stayed at the IdP), the ID token's signature or claims (the product
/// refused what it received), or the IdP's own refusal / the client (its own fix).
fn sign_in_judged(
    finding: Finding,
    s: Option<&SignIn>,
    evidence: Option<&Value>,
    f: &OidcFacts,
) -> Finding {
    let Some(s) = s else { return finding };
    if finding.verdict != super::finding::CheckVerdict::Fail {
        return finding;
    }
    let product_answered = s.sp_error.is_some();
    let mut explained = Vec::new();
    if !product_answered
        && f.exact
            .as_ref()
            .is_some_and(|p| matches!(p.answer(), Probe::Refused { .. }))
    {
        explained.push(CheckKind::OidcRedirectUri);
    }
    if product_answered {
        if let Some(e) = evidence {
            if e["id_token_header"]["alg"]
                .as_str()
                .is_some_and(|a| a != "RS256")
            {
                explained.push(CheckKind::OidcSigningKeys);
            }
            if let Some(c) = e["id_token_claims"].as_object() {
                let missing = missing_claims(c);
                // Without sub or email the product refuses; without a name it asks for it.
                let explains = missing.iter().any(|m| {
                    if s.name_prompt {
                        matches!(*m, "given_name" | "family_name")
                    } else {
                        matches!(*m, "sub" | "email")
                    }
                });
                if explains {
                    explained.push(CheckKind::OidcClaims);
                }
            }
        }
    }
    let detail = format!(
        "{} {}",
        s.sp_error.as_deref().unwrap_or_default(),
        s.sp_error_detail.as_deref().unwrap_or_default()
    )
    .to_lowercase();
    let finding = if !product_answered && s.reached_login {
        finding.because("idp_refused")
    } else if detail.contains("client") {
        finding.because("client")
    } else {
        finding
    };
    finding.explained_by(explained)
}

#[cfg(test)]
mod tests {
    use super::super::finding::CheckVerdict;
    use super::*;

    const URI: &str = "http://127.0.0.1:8085/sso/oidc/callback";

    fn login_form() -> Probe {
        classify_page(
            200,
            "<html><form><input name=username><input type=\"password\" name=password></form></html>",
        )
    }

    fn refused() -> Probe {
        Probe::Refused {
            status: 400,
            page: "redirect_uri mismatch".into(),
        }
    }

    fn uri(uri: &str, without_session: Probe, signed_in: Option<Probe>) -> UriProbe {
        UriProbe {
            uri: uri.into(),
            without_session,
            signed_in,
        }
    }

    /// A provider that shows its login form for every URI until signed in.
    fn facts(
        exact: UriProbe,
        variants: Vec<UriProbe>,
        session: Option<Result<(), String>>,
    ) -> OidcFacts {
        OidcFacts {
            redirect_uri: URI.into(),
            discovery: Some(Ok(
                serde_json::json!({"authorization_endpoint": "http://idp/authorize"}),
            )),
            exact: Some(exact),
            variants,
            probe_sign_in: session,
            ..Default::default()
        }
    }

    #[test]
    fn answers_are_told_from_login_pages() {
        assert!(matches!(login_form(), Probe::Login { status: 200, .. }));
        assert!(matches!(
            classify_page(200, "<p>Welcome</p>"),
            Probe::Unclear { .. }
        ));
        let back = classify_redirect(302, format!("{URI}?code=c&state=s"), URI);
        assert!(matches!(back, Probe::Back { .. }), "{back:?}");
        let variant = format!("{URI}?extra=1");
        let back = classify_redirect(302, format!("{variant}&code=c"), &variant);
        assert!(matches!(back, Probe::Back { .. }), "{back:?}");
        // A redirect to the provider's own login page, or to another path, is not an answer.
        let login = classify_redirect(303, "/interaction/abc".into(), URI);
        assert!(
            matches!(login, Probe::Login { status: 303, .. }),
            "{login:?}"
        );
        let other = classify_redirect(302, format!("{URI}x?code=c"), URI);
        assert!(matches!(other, Probe::Login { .. }), "{other:?}");
    }

    #[test]
    fn a_login_form_without_a_session_is_never_a_failure() {
        let variants = vec![uri(&format!("{URI}/extra"), login_form(), None)];
        // Signing in did not work: not checked, and says why.
        let f = facts(
            uri(URI, login_form(), None),
            variants.clone(),
            Some(Err("the IdP's login form did not show".into())),
        );
        let r = redirect_uri(&f);
        assert_eq!(r.verdict, CheckVerdict::NotChecked, "{}", r.reason);
        assert!(
            r.reason.starts_with("the IdP asked for a login before answering; signing in first did not work (the IdP's login form did not show)"),
            "{}",
            r.reason
        );
        // Signed in, the provider answered: judged on that answer.
        let f = facts(
            uri(
                URI,
                login_form(),
                Some(classify_redirect(302, format!("{URI}?code=c"), URI)),
            ),
            vec![uri(&format!("{URI}/extra"), login_form(), Some(refused()))],
            Some(Ok(())),
        );
        let r = redirect_uri(&f);
        assert_eq!(r.verdict, CheckVerdict::Pass, "{}", r.reason);
        assert!(r.reason.contains("accepted once signed in"), "{}", r.reason);
        assert!(r.reason.contains("(1 of them signed in)"), "{}", r.reason);
    }

    #[test]
    fn a_real_refusal_or_a_loose_match_still_fails() {
        let f = facts(uri(URI, refused(), None), vec![], None);
        let r = redirect_uri(&f);
        assert_eq!(r.verdict, CheckVerdict::Fail, "{}", r.reason);
        assert_eq!(r.causes, vec!["not_registered"]);
        // A variant accepted once signed in: matching is not strict.
        let v = format!("{URI}/extra");
        let f = facts(
            uri(
                URI,
                login_form(),
                Some(classify_redirect(302, format!("{URI}?code=c"), URI)),
            ),
            vec![uri(
                &v,
                login_form(),
                Some(classify_redirect(302, format!("{v}?code=c"), &v)),
            )],
            Some(Ok(())),
        );
        let r = redirect_uri(&f);
        assert_eq!(r.verdict, CheckVerdict::Fail, "{}", r.reason);
        assert_eq!(r.causes, vec!["not_strict"]);
        assert!(r.reason.contains("answer, signed in"), "{}", r.reason);
    }

    #[test]
    fn the_in_group_sign_in_answers_for_the_exact_uri() {
        let mut f = facts(
            uri(URI, login_form(), Some(login_form())),
            vec![uri(&format!("{URI}/extra"), refused(), None)],
            Some(Ok(())),
        );
        f.sign_in = Some(SignIn {
            reached_login: true,
            signed_in_as: Some("alice@acme.test".into()),
            ..Default::default()
        });
        let r = redirect_uri(&f);
        assert_eq!(r.verdict, CheckVerdict::Pass, "{}", r.reason);
        assert!(
            r.reason.contains("the in-group sign-in came back to it"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn a_refused_sign_in_is_explained_by_the_missing_claim() {
        let f = OidcFacts {
            expected_email: "alice@acme.test".into(),
            sign_in: Some(SignIn {
                reached_login: true,
                sp_error: Some("SSO sign-in failed: the ID token has no email claim".into()),
                ..Default::default()
            }),
            evidence: Some(serde_json::json!({
                "id_token_header": {"alg": "RS256"},
                "id_token_claims": {"sub": "u1", "given_name": "Alice", "family_name": "Ng"}
            })),
            ..Default::default()
        };
        let s = evaluate(CheckKind::OidcSignIn, &f);
        assert_eq!(s.verdict, CheckVerdict::Fail);
        assert_eq!(s.explained_by, vec![CheckKind::OidcClaims]);
        let c = evaluate(CheckKind::OidcClaims, &f);
        assert_eq!(c.verdict, CheckVerdict::Fail);
        assert!(c.explained_by.is_empty());
        assert_eq!(c.causes, vec!["missing_email"]);
    }
}
