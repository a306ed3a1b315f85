//! Authorization requests passed by reference: a request object (OpenID Connect Core 6,
//! RFC 9101) sent by value (`request`) or fetched from the client's `request_uri`, and the
//! `request_uri` the PAR endpoint issued (RFC 9126, `par.rs`). What the authorization and PAR
//! endpoints share: fetching (http(s) only, bounded in time and size, no redirects),
//! verifying (`none` only where the client registered it, RS256 with the client's keys from
//! its jwks_uri) and laying the object's parameters over the loose ones.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Verifier;
use serde_json::{Map, Value, json};

use crate::tenant::{self, Tenant};
use proto::idp::AuthRequestRules;

pub use super::state::Pushed;

use super::layout::Layout;
use super::provider::{layout_of, now, record};

/// What a `request_uri` issued by the PAR endpoint starts with (RFC 9126 2.2).
pub const PAR_URN_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a fetch (request object, client JWKS) may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request object or client JWKS the OP reads.
const MAX_BYTES: usize = 64 * 1024;
/// Members of the object's JWT framing that are no authorization request parameters.
const FRAMING: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// Why a request by reference was refused: the OAuth error code and its description, and
/// what the log shows of the attempt.
#[derive(Debug)]
pub struct Failure {
    pub error: &'static str,
    pub description: String,
    pub shown: Option<Value>,
}

fn failure(error: &'static str, description: impl Into<String>) -> Failure {
    Failure {
        error,
        description: description.into(),
        shown: None,
    }
}

/// The parameters an authorization request stands for, and how the log shows the way they
/// came (`None`: plain query parameters).
#[derive(Debug)]
pub struct Resolved {
    pub params: HashMap<String, String>,
    pub shown: Option<Value>,
}

/// What verifying an object needs to know of the client and the OP.
#[derive(Debug, Clone)]
pub struct ClientView {
    pub client_id: String,
    pub rules: AuthRequestRules,
    /// The OP's issuer URL (an object's `aud`).
    pub issuer: String,
    pub now: i64,
}

impl ClientView {
    /// The client `client_id` of the locked tenant, if it is registered.
    pub fn of(t: &Tenant, client_id: &str, base: &str) -> Option<Self> {
        let client = t.oidc_clients.iter().find(|c| c.client_id == client_id)?;
        Some(Self {
            client_id: client_id.to_string(),
            rules: client.auth_request.clone().unwrap_or_default(),
            issuer: Layout::url(base, &layout_of(t).issuer),
            now: now(t),
        })
    }
}

/// GETs `url` (http or https only) without following redirects, within [`FETCH_TIMEOUT`],
/// reading at most [`MAX_BYTES`]: `(status, body)` of a 2xx answer, or why not.
pub async fn fetch(url: &str) -> std::result::Result<(u16, String), String> {
    let u = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "scheme '{}' is not fetched (http and https only)",
            u.scheme()
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut resp = client.get(u).send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    if !resp.status().is_success() {
        return Err(format!("answered HTTP {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("the answer is longer than {MAX_BYTES} bytes"));
        }
    }
    let text = String::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_string())?;
    Ok((status, text))
}

fn decode_json(segment: &str, what: &str) -> std::result::Result<Map<String, Value>, String> {
    let raw = B64
        .decode(segment.trim_end_matches('='))
        .map_err(|e| format!("the {what} is not base64url: {e}"))?;
    match serde_json::from_slice(&raw) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(format!("the {what} is not a JSON object")),
        Err(e) => Err(format!("the {what} is not JSON: {e}")),
    }
}

/// A request object's header and claims, not yet verified.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub alg: String,
    pub kid: Option<String>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

/// Splits a compact JWS; an encrypted object (JWE, five parts) is refused as unsupported.
pub fn parse(jwt: &str) -> std::result::Result<Parsed, String> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err("encrypted request objects (JWE) are not supported".into()),
        n => return Err(format!("not a compact JWS ({n} parts, 3 expected)")),
    }
    let header = decode_json(parts[0], "header")?;
    let claims = decode_json(parts[1], "payload")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or("the header has no alg")?
        .to_string();
    let signature = B64
        .decode(parts[2].trim_end_matches('='))
        .map_err(|e| format!("the signature is not base64url: {e}"))?;
    Ok(Parsed {
        alg,
        kid: header
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_string),
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature,
    })
}

/// The RSA public key of a JWKS the object's `kid` names (or its only signing key); keys
/// marked for encryption are not candidates.
fn key_from_jwks(
    jwks: &str,
    kid: Option<&str>,
) -> std::result::Result<PKey<openssl::pkey::Public>, String> {
    use super::client_keys::{KeyUse, rsa_keys, rsa_public};
    let doc: Value =
        serde_json::from_str(jwks).map_err(|e| format!("the client's JWKS is not JSON: {e}"))?;
    let rsa = rsa_keys(&doc, KeyUse::Sig).map_err(|e| format!("the client's {e}"))?;
    let chosen = match kid {
        Some(kid) => rsa.iter().find(|k| k["kid"] == kid).copied(),
        None if rsa.len() == 1 => rsa.first().copied(),
        None => None,
    }
    .ok_or_else(|| match kid {
        Some(kid) => format!("the client's JWKS has no RSA signing key with kid {kid:?}"),
        None => format!(
            "the object names no kid and the client's JWKS has {} RSA signing keys",
            rsa.len()
        ),
    })?;
    rsa_public(chosen).map_err(|e| format!("the client's key: {e}"))
}

fn rs256_ok(
    key: &PKey<openssl::pkey::Public>,
    input: &str,
    signature: &[u8],
) -> std::result::Result<bool, String> {
    let mut v = Verifier::new(MessageDigest::sha256(), key).map_err(|e| e.to_string())?;
    v.update(input.as_bytes()).map_err(|e| e.to_string())?;
    v.verify(signature).map_err(|e| e.to_string())
}

/// Checks a parsed object's alg against what the client registered and, for RS256, its
/// signature with `jwks` (the client's JWKS document, fetched by the caller).
pub fn check_signature(
    p: &Parsed,
    c: &ClientView,
    jwks: Option<&str>,
) -> std::result::Result<(), String> {
    let registered = c
        .rules
        .request_object_signing_alg
        .as_deref()
        .unwrap_or("RS256");
    if p.alg != registered {
        return Err(format!(
            "the request object is signed with alg {}, but the client registered {registered}",
            p.alg
        ));
    }
    match p.alg.as_str() {
        "none" if p.signature.is_empty() => Ok(()),
        "none" => Err("an alg none request object must have an empty signature".into()),
        "RS256" => {
            let jwks = jwks.ok_or("the client registered no jwks_uri to verify RS256 with")?;
            let key = key_from_jwks(jwks, p.kid.as_deref())?;
            if rs256_ok(&key, &p.signing_input, &p.signature)? {
                Ok(())
            } else {
                Err("the RS256 signature does not verify with the client's key".into())
            }
        }
        other => Err(format!("alg {other} is not supported (none, RS256)")),
    }
}

/// The claims an object must have right whatever its alg (RFC 9101 4 and 6.3; OpenID
/// Connect Core 6.1): iss is the client, aud the OP, exp in the future, client_id the client.
pub fn check_claims(
    claims: &Map<String, Value>,
    c: &ClientView,
) -> std::result::Result<(), String> {
    if let Some(iss) = claims.get("iss")
        && iss.as_str() != Some(c.client_id.as_str())
    {
        return Err(format!(
            "the request object's iss {iss} is not the client {:?}",
            c.client_id
        ));
    }
    if let Some(aud) = claims.get("aud") {
        let names_op = match aud {
            Value::String(s) => s == &c.issuer,
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some(c.issuer.as_str())),
            _ => false,
        };
        if !names_op {
            return Err(format!(
                "the request object's aud {aud} does not name this OP ({:?})",
                c.issuer
            ));
        }
    }
    if let Some(exp) = claims.get("exp") {
        match exp.as_i64() {
            Some(e) if e > c.now => {}
            Some(_) => return Err("the request object has expired (exp)".into()),
            None => return Err(format!("the request object's exp {exp} is not a number")),
        }
    }
    if let Some(id) = claims.get("client_id")
        && id.as_str() != Some(c.client_id.as_str())
    {
        return Err(format!(
            "the request object's client_id {id} is not the client {:?}",
            c.client_id
        ));
    }
    Ok(())
}

/// The loose parameters (`request` and `request_uri` taken out) with the object's members
/// laid over them (OpenID Connect Core 6.3.3: the object's values win), and the names of
/// loose parameters whose value the object contradicts.
pub fn merge(
    loose: &HashMap<String, String>,
    claims: &Map<String, Value>,
) -> (HashMap<String, String>, Vec<String>) {
    let mut out: HashMap<String, String> = loose
        .iter()
        .filter(|(k, _)| k.as_str() != "request" && k.as_str() != "request_uri")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut contradicting = Vec::new();
    for (k, v) in claims {
        if FRAMING.contains(&k.as_str()) {
            continue;
        }
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if loose.get(k).is_some_and(|l| l != &v) {
            contradicting.push(k.clone());
        }
        out.insert(k.clone(), v);
    }
    contradicting.sort();
    (out, contradicting)
}

/// Records one fetch the OP made (request object or client JWKS) in the exchange log.
fn record_fetch(
    shared: &Mutex<Tenant>,
    kind: &str,
    url: &str,
    outcome: &std::result::Result<(u16, String), String>,
) {
    let path = url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default();
    let (status, decoded) = match outcome {
        Ok((s, body)) => (*s, json!({ "uri": url, "bytes": body.len() })),
        Err(e) => (502, json!({ "uri": url, "error": e })),
    };
    let mut t = tenant::lock(shared);
    record(&mut t, kind, "GET", &path, status, decoded, &[]);
}

/// Verifies a request object (alg, signature with the client's keys fetched from its
/// jwks_uri, claims); the claims, or why not.
pub async fn verify(
    shared: &Mutex<Tenant>,
    jwt: &str,
    c: &ClientView,
) -> std::result::Result<Parsed, String> {
    let parsed = parse(jwt)?;
    let jwks = match (&parsed.alg[..], &c.rules.jwks_uri) {
        ("RS256", Some(uri)) => {
            let got = fetch(uri).await;
            record_fetch(shared, "client_jwks_fetch", uri, &got);
            Some(
                got.map_err(|e| format!("the client's jwks_uri {uri}: {e}"))?
                    .1,
            )
        }
        _ => None,
    };
    check_signature(&parsed, c, jwks.as_deref())?;
    check_claims(&parsed.claims, c)?;
    Ok(parsed)
}

/// How the log shows a verified object: its alg and claims (nothing in it is a secret:
/// the same values travel in a plain request's URL).
fn shown_object(p: &Parsed) -> Value {
    json!({ "alg": p.alg, "claims": p.claims })
}

/// The parameters of an authorization request: the loose ones, or those of the request
/// object it carries (`request`), points to (`request_uri`) or pushed before (PAR), checked
/// against what the client registered. An unknown client passes through unchanged: the
/// endpoint's own checks answer it.
pub async fn resolve(
    shared: &Mutex<Tenant>,
    base: &str,
    loose: HashMap<String, String>,
) -> std::result::Result<Resolved, Failure> {
    let by_value = loose.get("request").cloned();
    let by_ref = loose.get("request_uri").cloned();
    let Some(client_id) = loose.get("client_id").cloned() else {
        return Ok(Resolved {
            params: loose,
            shown: None,
        });
    };
    let (view, pushed) = {
        let mut t = tenant::lock(shared);
        let view = ClientView::of(&t, &client_id, base);
        let pushed = by_ref
            .as_deref()
            .and_then(|u| u.strip_prefix(PAR_URN_PREFIX))
            .map(|handle| t.oidc.pushed.take(handle));
        (view, pushed)
    };
    let Some(view) = view else {
        return Ok(Resolved {
            params: loose,
            shown: None,
        });
    };
    if by_value.is_some() && by_ref.is_some() {
        return Err(failure(
            "invalid_request",
            "request and request_uri must not both be sent",
        ));
    }
    if let Some(pushed) = pushed {
        return from_push(pushed, &loose, &view, by_ref.unwrap_or_default());
    }
    if view.rules.require_pushed_authorization_requests {
        return Err(failure(
            "invalid_request",
            "this client must push its authorization requests to the PAR endpoint (require_pushed_authorization_requests) and send only client_id and the request_uri it answered",
        ));
    }
    let (jwt, via) = match (by_value, &by_ref) {
        (Some(jwt), _) => (jwt, "request"),
        (None, Some(uri)) => {
            let got = fetch(uri).await;
            record_fetch(shared, "request_uri_fetch", uri, &got);
            match got {
                Ok((_, body)) => (body, "request_uri"),
                Err(e) => {
                    return Err(failure(
                        "invalid_request_uri",
                        format!("the request_uri {uri} could not be fetched: {e}"),
                    ));
                }
            }
        }
        (None, None) if view.rules.require_request_object => {
            return Err(failure(
                "invalid_request",
                "this client must send its authorization request as a request object (request or request_uri)",
            ));
        }
        (None, None) => {
            return Ok(Resolved {
                params: loose,
                shown: None,
            });
        }
    };
    let parsed = verify(shared, &jwt, &view)
        .await
        .map_err(|e| failure("invalid_request_object", e))?;
    let (params, contradicting) = merge(&loose, &parsed.claims);
    let mut shown = shown_object(&parsed);
    shown["via"] = json!(via);
    if let Some(uri) = &by_ref {
        shown["request_uri"] = json!(uri);
    }
    shown["contradicting"] = json!(contradicting);
    shown["query"] = json!(loose);
    // OpenID Connect Core 6.1: client_id and response_type in the query must match the
    // object's (the client_id's was checked with the claims).
    if contradicting.iter().any(|k| k == "response_type") {
        return Err(Failure {
            error: "invalid_request",
            description: "response_type in the query differs from the request object's".into(),
            shown: Some(shown),
        });
    }
    Ok(Resolved {
        params,
        shown: Some(shown),
    })
}

/// The parameters of a pushed request, used once, by the client it was pushed for.
fn from_push(
    pushed: Option<Pushed>,
    loose: &HashMap<String, String>,
    view: &ClientView,
    urn: String,
) -> std::result::Result<Resolved, Failure> {
    let Some(p) = pushed else {
        return Err(failure(
            "invalid_request_uri",
            "the request_uri is unknown to this OP, was used already or has expired",
        ));
    };
    if p.client_id != view.client_id {
        return Err(failure(
            "invalid_request_uri",
            "the request_uri was pushed by another client",
        ));
    }
    if view.now >= p.expires_at {
        return Err(failure(
            "invalid_request_uri",
            "the request_uri has expired",
        ));
    }
    // RFC 9126 4: only the pushed parameters count; loose ones beside client_id and
    // request_uri are ignored (and shown, contradicting ones apart).
    let mut contradicting = Vec::new();
    let mut ignored = Vec::new();
    for (k, v) in loose {
        if k == "client_id" || k == "request_uri" {
            continue;
        }
        match p.params.get(k) {
            Some(pv) if pv == v => ignored.push(k.clone()),
            Some(_) => contradicting.push(k.clone()),
            None => ignored.push(k.clone()),
        }
    }
    contradicting.sort();
    ignored.sort();
    let shown = json!({
        "via": "par",
        "request_uri": urn,
        "object": p.object,
        "contradicting": contradicting,
        "ignored": ignored,
        "query": loose,
    });
    Ok(Resolved {
        params: p.params,
        shown: Some(shown),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;

    fn view(alg: Option<&str>) -> ClientView {
        ClientView {
            client_id: "c1".into(),
            rules: AuthRequestRules {
                request_object_signing_alg: alg.map(str::to_string),
                ..Default::default()
            },
            issuer: "http://op/".into(),
            now: 1000,
        }
    }

    fn unsigned(claims: Value) -> String {
        format!(
            "{}.{}.",
            B64.encode(br#"{"alg":"none"}"#),
            B64.encode(claims.to_string())
        )
    }

    fn rs256(key: &PKey<openssl::pkey::Private>, kid: &str, claims: Value) -> String {
        let header = json!({ "alg": "RS256", "kid": kid }).to_string();
        let input = format!("{}.{}", B64.encode(header), B64.encode(claims.to_string()));
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), key).unwrap();
        s.update(input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(s.sign_to_vec().unwrap()))
    }

    fn jwks_of(key: &PKey<openssl::pkey::Private>, kid: &str) -> String {
        let rsa = key.rsa().unwrap();
        json!({ "keys": [{ "kty": "RSA", "kid": kid,
            "n": B64.encode(rsa.n().to_vec()), "e": B64.encode(rsa.e().to_vec()) }] })
        .to_string()
    }

    #[test]
    fn alg_none_only_where_registered() {
        let jwt = unsigned(json!({ "iss": "c1", "aud": "http://op/", "state": "s" }));
        let p = parse(&jwt).unwrap();
        assert!(check_signature(&p, &view(Some("none")), None).is_ok());
        let e = check_signature(&p, &view(None), None).unwrap_err();
        assert!(e.contains("registered RS256"), "{e}");
        let e = check_signature(&p, &view(Some("RS256")), None).unwrap_err();
        assert!(e.contains("alg none"), "{e}");
        // none with a signature segment is no unsigned object.
        let with_sig = format!("{jwt}AAAA");
        let e = check_signature(&parse(&with_sig).unwrap(), &view(Some("none")), None);
        assert!(e.is_err());
    }

    #[test]
    fn rs256_verifies_with_the_clients_key_only() {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let other = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let jwt = rs256(&key, "k1", json!({ "iss": "c1", "aud": "http://op/" }));
        let p = parse(&jwt).unwrap();
        let v = view(Some("RS256"));
        assert!(check_signature(&p, &v, Some(&jwks_of(&key, "k1"))).is_ok());
        let e = check_signature(&p, &v, Some(&jwks_of(&other, "k1"))).unwrap_err();
        assert!(e.contains("does not verify"), "{e}");
        let e = check_signature(&p, &v, Some(&jwks_of(&key, "k2"))).unwrap_err();
        assert!(e.contains("kid"), "{e}");
        assert!(check_signature(&p, &v, None).is_err(), "no jwks_uri");
        // A flipped bit in the payload breaks it.
        let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
        parts[1] = B64.encode(json!({ "iss": "c1", "aud": "http://op/", "x": 1 }).to_string());
        let tampered = parse(&parts.join(".")).unwrap();
        assert!(check_signature(&tampered, &v, Some(&jwks_of(&key, "k1"))).is_err());
    }

    #[test]
    fn claims_must_name_client_op_and_a_future_exp() {
        let v = view(Some("none"));
        let ok = json!({ "iss": "c1", "aud": ["x", "http://op/"], "exp": 2000, "client_id": "c1" });
        assert!(check_claims(ok.as_object().unwrap(), &v).is_ok());
        for bad in [
            json!({ "iss": "c2" }),
            json!({ "aud": "http://elsewhere/" }),
            json!({ "exp": 999 }),
            json!({ "exp": "soon" }),
            json!({ "client_id": "c2" }),
        ] {
            assert!(check_claims(bad.as_object().unwrap(), &v).is_err(), "{bad}");
        }
    }

    #[test]
    fn object_values_win_and_contradictions_are_named() {
        let loose: HashMap<String, String> = [
            ("client_id", "c1"),
            ("response_type", "code"),
            ("state", "loose"),
            ("request_uri", "http://rp/r"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let claims = json!({ "iss": "c1", "state": "inner", "nonce": "n", "max_age": 60 });
        let (p, contradicting) = merge(&loose, claims.as_object().unwrap());
        assert_eq!(p["state"], "inner");
        assert_eq!(p["nonce"], "n");
        assert_eq!(p["max_age"], "60");
        assert_eq!(p["response_type"], "code");
        assert!(!p.contains_key("request_uri") && !p.contains_key("iss"));
        assert_eq!(contradicting, ["state"]);
    }

    #[test]
    fn encrypted_and_malformed_objects_are_refused_clearly() {
        assert!(parse("a.b.c.d.e").unwrap_err().contains("JWE"));
        assert!(parse("abc").unwrap_err().contains("3 expected"));
        assert!(parse("!!.e30.").is_err());
    }

    #[test]
    fn rules_are_validated() {
        use super::super::request_rules::validate_rules;
        let bad = AuthRequestRules {
            request_object_signing_alg: Some("HS256".into()),
            ..Default::default()
        };
        assert!(validate_rules(&bad, "c").is_err());
        let bad = AuthRequestRules {
            jwks_uri: Some("file:///etc/passwd".into()),
            ..Default::default()
        };
        assert!(validate_rules(&bad, "c").is_err());
        assert!(validate_rules(&AuthRequestRules::default(), "c").is_ok());
    }

    #[tokio::test]
    async fn only_http_is_fetched() {
        let e = fetch("file:///etc/passwd").await.unwrap_err();
        assert!(e.contains("http and https only"), "{e}");
        assert!(fetch("not a url").await.is_err());
    }
}
