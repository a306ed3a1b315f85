//! OpenID Connect relying party (custom OIDC connections, CFG-6 / LOGIN-7, and the
//! Google-like social sign-in): authorization code flow with PKCE, state and nonce; the ID
//! token is verified against the provider's discovery document and JWKS (openidconnect).
use crate::secret::Secret;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata, CoreResponseType,
    CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

pub struct RpConfig<'a> {
    pub discovery_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
    pub redirect_uri: String,
    /// `query.jwt`: ask for a JARM response (`oidc_jarm`); `None`: the plain query response.
    pub response_mode: Option<&'a str>,
    /// Code flow, or the hybrid flow by form_post (`oidc_hybrid`).
    pub flow: crate::oidc_hybrid::Flow,
    /// Decrypts ID tokens an OP encrypted to this RP (`oidc_jwe`).
    pub enc_key: &'a crate::oidc_jwe::EncKey,
}

/// What the callback needs to finish the flow; kept server-side, keyed by `state`.
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

#[derive(Debug, Clone)]
pub struct Claims {
    /// The ID token's iss (the OP's issuer: verified).
    pub iss: String,
    pub sub: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// Contact details, asked for with the `phone` and `address` scope values when the OP
    /// lists them; shown on the home page, never used to find the user.
    pub contact: Contact,
    /// The token response's refresh token, kept for a later refresh.
    pub refresh_token: Option<Secret>,
}

/// The phone number and postal address the OP released (ID token, else UserInfo).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl Contact {
    /// From a claims set (a UserInfo answer): `phone_number`, and `address.formatted` or its
    /// parts joined.
    pub fn from_claims(c: &serde_json::Map<String, serde_json::Value>) -> Self {
        let phone = c
            .get("phone_number")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let address = c.get("address").and_then(|a| match a.get("formatted") {
            Some(serde_json::Value::String(f)) => Some(f.clone()),
            _ => {
                let parts: Vec<&str> = [
                    "street_address",
                    "locality",
                    "region",
                    "postal_code",
                    "country",
                ]
                .iter()
                .filter_map(|k| a.get(*k).and_then(|v| v.as_str()))
                .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            }
        });
        Self { phone, address }
    }

    /// `self`, gaps filled from `other`.
    fn or(self, other: Contact) -> Self {
        Self {
            phone: self.phone.or(other.phone),
            address: self.address.or(other.address),
        }
    }
}

/// The scope values for contact details the product asks for when the OP supports them.
const CONTACT_SCOPES: [&str; 2] = ["phone", "address"];

/// Reads the discovery document; the issuer it names must be the one the discovery URL
/// belongs to (authentik: `https://host/application/o/<slug>/`).
pub(crate) async fn discover(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<CoreProviderMetadata, String> {
    discover_with_iss_support(http, discovery_url)
        .await
        .map(|(meta, _)| meta)
}

/// The metadata, and whether the OP advertises the RFC 9207 `iss` parameter (openidconnect's
/// core metadata has no member for it).
async fn discover_with_iss_support(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<(CoreProviderMetadata, bool), String> {
    let url = url::Url::parse(discovery_url)
        .map_err(|e| format!("the discovery URL {discovery_url:?} is not a URL: {e}"))?;
    let doc = crate::oidc_discovery::json(http, discovery_url).await?;
    let issuer = doc
        .get("issuer")
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("the discovery document {url} has no \"issuer\""))?;
    let expected = format!("{}{WELL_KNOWN}", issuer.trim_end_matches('/'));
    if expected != url.as_str() {
        return Err(format!(
            "the discovery document at {url} names the issuer {issuer:?}, whose discovery URL would be {expected}"
        ));
    }
    check_endpoint_origins(&doc, issuer)?;
    let iss_supported = doc
        .get("authorization_response_iss_parameter_supported")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let issuer =
        IssuerUrl::new(issuer.to_string()).map_err(|e| format!("issuer {issuer:?}: {e}"))?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map(|meta| (meta, iss_supported))
        .map_err(|e| format!("OIDC discovery failed: {}", error_chain(&e)))
}

/// The endpoints that receive the code with the client's secret (token) and the access
/// token (UserInfo) must be on the issuer's own origin. A discovery document that names them
/// on another host would hand both to whoever runs that host (OIDC-RP-73, "malicious
/// endpoints"); the admin configures one discovery URL and trusts that origin, nothing more.
fn check_endpoint_origins(doc: &serde_json::Value, issuer: &str) -> Result<(), String> {
    let origin = |u: &str| url::Url::parse(u).map(|u| u.origin());
    let Ok(own) = origin(issuer) else {
        return Err(format!("the issuer {issuer:?} is not a URL"));
    };
    for member in ["token_endpoint", "userinfo_endpoint"] {
        let Some(endpoint) = doc.get(member).and_then(|v| v.as_str()) else {
            continue;
        };
        if origin(endpoint).ok().as_ref() != Some(&own) {
            return Err(format!(
                "the discovery document names the {member} {endpoint:?}, which is not on the issuer's origin {}",
                own.ascii_serialization()
            ));
        }
    }
    Ok(())
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// The provider's authorization URL for a fresh sign-in, and what to keep for the callback.
pub async fn begin(
    http: &reqwest::Client,
    cfg: &RpConfig<'_>,
    login_hint: Option<&str>,
) -> Result<(url::Url, Pending), String> {
    let meta = discover(http, cfg.discovery_url).await?;
    // Only what the OP lists: asking for a scope it does not support may fail the sign-in.
    let contact_scopes: Vec<&str> = CONTACT_SCOPES
        .into_iter()
        .filter(|s| {
            meta.scopes_supported()
                .is_some_and(|list| list.iter().any(|x| x.as_str() == *s))
        })
        .collect();
    let redirect = RedirectUrl::new(cfg.redirect_uri.clone()).map_err(|e| e.to_string())?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.to_string()),
        Some(ClientSecret::new(cfg.client_secret.expose().to_string())),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let how = if cfg.flow.hybrid {
        let mut types = vec![CoreResponseType::Code, CoreResponseType::IdToken];
        if cfg.flow.token {
            types.push(CoreResponseType::Token);
        }
        CoreAuthenticationFlow::Hybrid(types)
    } else {
        CoreAuthenticationFlow::AuthorizationCode
    };
    let mut req = client
        .authorize_url(how, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scopes(
            contact_scopes
                .into_iter()
                .map(|s| Scope::new(s.to_string())),
        )
        .set_pkce_challenge(challenge);
    if let Some(hint) = login_hint {
        req = req.add_extra_param("login_hint", hint.to_string());
    }
    if let Some(mode) = cfg.response_mode {
        req = req.add_extra_param("response_mode", mode.to_string());
    } else if cfg.flow.hybrid {
        // Tokens never travel in a URL this server cannot read (the fragment) or log.
        req = req.add_extra_param("response_mode", "form_post");
    }
    let (url, state, nonce) = req.url();
    // RFC 9126: an OP that requires PAR gets the request pushed; the browser carries only a
    // reference to it.
    let url = match crate::oidc_par::required(http, cfg.discovery_url).await? {
        Some(endpoint) => {
            crate::oidc_par::push(http, &endpoint, cfg.client_id, cfg.client_secret, url).await?
        }
        None => url,
    };
    Ok((
        url,
        Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        },
    ))
}

/// How far a token's iat or nbf may lie in the future (clocks drift), and how old its iat
/// may be: an ID token from the token endpoint was made moments ago, so one issued long
/// before is a replayed or pre-made token (OIDC Core 3.1.3.7 step 10).
const CLOCK_SKEW_SECS: i64 = 300;
const MAX_ID_TOKEN_AGE_SECS: i64 = 600;

/// Exchanges the code, verifies the ID token (signature, issuer, audience, expiry, nonce,
/// and what openidconnect leaves to the caller: azp, iat, nbf, at_hash, email_verified) and
/// the token response's token_type. `iss_param` is the authorization response's RFC 9207
/// `iss`, checked before the code is redeemed. `raw_id_token` receives the token as
/// received, before it is verified (test-mode evidence).
pub async fn finish(
    http: &reqwest::Client,
    cfg: &RpConfig<'_>,
    code: &str,
    pending: &Pending,
    iss_param: Option<&str>,
    raw_id_token: &mut Option<String>,
) -> Result<Claims, String> {
    let (meta, iss_supported) = discover_with_iss_support(http, cfg.discovery_url).await?;
    // RFC 9207 2.4: an OP that advertises the parameter always sends it; a response
    // without it may come from a mix-up attacker, and its code is not redeemed.
    if iss_supported && iss_param.is_none() {
        return Err(
            "the authorization response has no iss although the OP advertises it (RFC 9207)".into(),
        );
    }
    // RFC 9207: a response that names its issuer must name the one the request went to
    // (mix-up); the code is not redeemed otherwise.
    if let Some(iss) = iss_param
        && iss != meta.issuer().as_str()
    {
        return Err(format!(
            "the authorization response names the issuer {iss:?}, not {:?} (RFC 9207)",
            meta.issuer().as_str()
        ));
    }
    let redirect = RedirectUrl::new(cfg.redirect_uri.clone()).map_err(|e| e.to_string())?;
    let userinfo_url = meta.userinfo_endpoint().map(|u| u.url().to_string());
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.to_string()),
        Some(ClientSecret::new(cfg.client_secret.expose().to_string())),
    )
    .set_redirect_uri(redirect);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| format!("the provider has no token endpoint: {e}"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(&crate::oidc_jwe::DecryptingHttp {
            http,
            key: cfg.enc_key,
        })
        .await
        .map_err(|e| format!("the token request failed: {}", error_chain(&e)))?;
    let id_token = token
        .id_token()
        .ok_or("the token response has no id_token")?;
    *raw_id_token = Some(id_token.to_string());
    check_token_type(token.token_type())?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|e| format!("the ID token was refused: {}", error_chain(&e)))?;
    check_claims(claims, cfg.client_id, unix_now())?;
    if let Some(expected) = claims.access_token_hash() {
        let refused = |why: String| format!("the ID token was refused: at_hash: {why}");
        let alg = id_token
            .signing_alg()
            .map_err(|e| refused(error_chain(&e)))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| refused(error_chain(&e)))?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
            .map_err(|e| refused(error_chain(&e)))?;
        if &actual != expected {
            return Err(refused(
                "it does not match the access token (token substitution)".into(),
            ));
        }
    }
    // nbf is no member of openidconnect's claims: read from the verified payload.
    check_nbf(&id_token.to_string(), unix_now())?;
    // UserInfo must be about the same subject (OIDC Core 5.3.2); the access token goes in
    // the Authorization header, never the URL (RFC 6750 2.3: URLs end up in logs).
    let mut from_userinfo = Contact::default();
    if let Some(url) = &userinfo_url {
        let answer = crate::oidc_userinfo::check(
            http,
            url,
            token.access_token().secret(),
            claims.subject().as_str(),
            cfg.discovery_url,
            cfg.client_id,
        )
        .await?;
        // Contact details the answer leaves to a claims source (OIDC Core 5.6.2).
        let answer = crate::oidc_claim_sources::resolve(
            http,
            answer,
            cfg.discovery_url,
            claims.subject().as_str(),
        )
        .await;
        from_userinfo = Contact::from_claims(&answer);
    }
    let from_id_token = Contact {
        phone: claims.phone_number().map(|p| p.as_str().to_string()),
        address: claims
            .address()
            .and_then(|a| a.formatted.as_ref())
            .map(|f| f.as_str().to_string()),
    };
    Ok(Claims {
        iss: claims.issuer().as_str().to_string(),
        sub: claims.subject().as_str().to_string(),
        email: claims.email().map(|e| e.as_str().to_string()),
        given_name: claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        family_name: claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        contact: from_id_token.or(from_userinfo),
        refresh_token: token
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
    })
}

pub(crate) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// RFC 6749 5.1: the type is case-insensitive; anything but Bearer is a token this RP does
/// not know how to use.
pub(crate) fn check_token_type(t: &CoreTokenType) -> Result<(), String> {
    let bearer = match t {
        CoreTokenType::Bearer => true,
        CoreTokenType::Extension(s) => s.eq_ignore_ascii_case("bearer"),
        _ => false,
    };
    if bearer {
        Ok(())
    } else {
        Err(format!(
            "the token response's token_type is {:?}, not Bearer",
            t.as_ref()
        ))
    }
}

/// The ID token checks openidconnect leaves to its caller.
pub(crate) fn check_claims(
    claims: &CoreIdTokenClaims,
    client_id: &str,
    now: i64,
) -> Result<(), String> {
    let refused = |why: String| Err(format!("the ID token was refused: {why}"));
    // OIDC Core 3.1.3.7 step 5: when azp is present it must be this client.
    if let Some(azp) = claims.authorized_party()
        && azp.as_str() != client_id
    {
        return refused(format!("azp {:?} is not this client", azp.as_str()));
    }
    let iat = claims.issue_time().timestamp();
    if iat > now + CLOCK_SKEW_SECS {
        return refused(format!("iat is {} s in the future", iat - now));
    }
    if now - iat > MAX_ID_TOKEN_AGE_SECS {
        return refused(format!(
            "iat is {} s old (at most {MAX_ID_TOKEN_AGE_SECS} s)",
            now - iat
        ));
    }
    // The account is found by email: an address the IdP has not verified identifies no one.
    if claims.email_verified() == Some(false) {
        return refused("email_verified is false".into());
    }
    Ok(())
}

/// `nbf` of a verified ID token: when present, a number not in the future.
pub(crate) fn check_nbf(jwt: &str, now: i64) -> Result<(), String> {
    use base64::Engine as _;
    let payload = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or("the ID token was refused: its payload is not base64url JSON")?;
    match payload.get("nbf") {
        None => Ok(()),
        Some(v) => match v.as_i64() {
            Some(nbf) if nbf <= now + CLOCK_SKEW_SECS => Ok(()),
            Some(nbf) => Err(format!(
                "the ID token was refused: nbf is {} s in the future",
                nbf - now
            )),
            None => Err("the ID token was refused: nbf is not a number".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_off_the_issuers_origin_are_refused() {
        let iss = "http://127.0.0.1:9/t/a/";
        let good = serde_json::json!({"token_endpoint": "http://127.0.0.1:9/t/a/token", "userinfo_endpoint": "http://127.0.0.1:9/u"});
        assert!(check_endpoint_origins(&good, iss).is_ok());
        let port = serde_json::json!({"token_endpoint": "http://127.0.0.1:10/t/a/token"});
        assert!(check_endpoint_origins(&port, iss).is_err());
        let host = serde_json::json!({"userinfo_endpoint": "http://attacker.test:9/userinfo"});
        let e = check_endpoint_origins(&host, iss).unwrap_err();
        assert!(e.contains("userinfo_endpoint"), "{e}");
    }

    #[test]
    fn token_types_other_than_bearer_are_refused() {
        assert!(check_token_type(&CoreTokenType::Bearer).is_ok());
        assert!(check_token_type(&CoreTokenType::Extension("bEARER".into())).is_ok());
        assert!(check_token_type(&CoreTokenType::Mac).is_err());
        assert!(check_token_type(&CoreTokenType::Extension("DPoP".into())).is_err());
    }

    fn jwt(payload: serde_json::Value) -> String {
        use base64::Engine as _;
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            b.encode(br#"{"alg":"RS256"}"#),
            b.encode(payload.to_string())
        )
    }

    #[test]
    fn nbf_in_the_future_is_refused() {
        let now = 1_800_000_000;
        assert!(check_nbf(&jwt(serde_json::json!({})), now).is_ok());
        assert!(check_nbf(&jwt(serde_json::json!({"nbf": now - 10})), now).is_ok());
        let e = check_nbf(&jwt(serde_json::json!({"nbf": now + 3600})), now).unwrap_err();
        assert!(e.contains("nbf is 3600 s in the future"), "{e}");
        assert!(check_nbf(&jwt(serde_json::json!({"nbf": "soon"})), now).is_err());
    }

    fn claims(extra: serde_json::Value) -> CoreIdTokenClaims {
        let mut v = serde_json::json!({
            "iss": "https://op.test", "sub": "u1", "aud": "c1",
            "exp": 1_800_000_600, "iat": 1_800_000_000,
        });
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn azp_iat_and_email_verified_are_checked() {
        let now = 1_800_000_010;
        assert!(check_claims(&claims(serde_json::json!({})), "c1", now).is_ok());
        assert!(check_claims(&claims(serde_json::json!({"azp": "c1"})), "c1", now).is_ok());
        let e = check_claims(&claims(serde_json::json!({"azp": "c2"})), "c1", now).unwrap_err();
        assert!(e.contains("azp"), "{e}");
        let e = check_claims(&claims(serde_json::json!({})), "c1", now + 604_800).unwrap_err();
        assert!(e.contains("old"), "{e}");
        let e = check_claims(&claims(serde_json::json!({})), "c1", now - 3600).unwrap_err();
        assert!(e.contains("future"), "{e}");
        let e = check_claims(
            &claims(serde_json::json!({"email": "a@b.test", "email_verified": false})),
            "c1",
            now,
        )
        .unwrap_err();
        assert!(e.contains("email_verified"), "{e}");
    }
}
