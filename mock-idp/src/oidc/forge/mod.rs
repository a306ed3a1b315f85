//! The OIDC forge: ID tokens, token responses and userinfo answers broken exactly as a caller
//! asks (header, key, signature, claims, duplicates, types), plus the provider-side pieces
//! relying-party test rows need (published extra keys, rotation, JWKS failures, the RFC 9207
//! `iss` parameter, code reuse, a request-log query and back-channel logout).
//!
//! A forge is chosen like the faults: the client's standing forge (`OidcClient.forge`), the
//! tenant's standing forge (`PUT .../oidc/forge`) and the next-sign-in forge (`POST
//! .../oidc/forge/next`, consumed when the browser is sent back with a code) are laid over
//! each other in that order, and the result travels with the code and its access token.

pub mod catalogue;
pub mod control;
pub mod jws;
pub mod keys;
pub mod logout;
pub mod mutate;
pub mod provider;
pub mod query;
pub mod sources;
pub mod spec;
pub mod state;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::fault::Fault;
use crate::secret::Secret;
use crate::tenant::Tenant;

use super::OidcError;
use super::jwt::SigningKey;
use keys::{ForgeKeys, Published, PublishedAlg as _};
use mutate::Members;
use spec::{Forge as _, ForgeSpec, IssParam};

/// The issuer a `wrong` RFC 9207 `iss` parameter names.
pub const WRONG_ISSUER: &str = "https://wrong-issuer.mock-idp.test/";

/// The forge one sign-in obeys: client, tenant standing, then next (consumed). `None` when
/// nothing is set, so a tenant without forges behaves exactly as before.
pub fn take_for_sign_in(t: &mut Tenant, client_id: &str) -> Option<Arc<ForgeSpec>> {
    let client = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == client_id)
        .and_then(|c| c.forge.clone());
    let layers: Vec<ForgeSpec> = [
        client,
        t.oidc.forge.standing.as_deref().cloned(),
        t.oidc.forge.next.take().as_deref().cloned(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if layers.is_empty() {
        return None;
    }
    let mut merged = ForgeSpec::default();
    for layer in &layers {
        // Specs are validated when set, so expansion cannot fail here; should it, the layer
        // is used as written rather than dropped.
        merged.overlay(&layer.expanded().unwrap_or_else(|_| layer.clone()));
    }
    t.oidc.forge.asked.extend(merged.publishes());
    Some(Arc::new(merged))
}

/// The forge of a token request: the sign-in's forge laid over the signature fault in force
/// (the first, as `faults::forgery` picks it), so a forge that only changes claims keeps the
/// fault's signature. `id_token_attacker_key` is a forge underneath; without a forge the other
/// faults keep their own path (`jwt::sign`).
pub fn effective(forge: Option<&ForgeSpec>, faults: &[Fault]) -> Option<ForgeSpec> {
    if forge.is_none() && !faults.contains(&Fault::IdTokenAttackerKey) {
        return None;
    }
    let base = faults.iter().find_map(|f| match f {
        Fault::IdTokenAttackerKey => Some("attacker_key_op_kid"),
        Fault::IdTokenAlgNone => Some("alg_none"),
        Fault::IdTokenBadSignature => Some("rs256_flipped_signature"),
        Fault::IdTokenHs256PublicKey => Some("hs256_op_public_pem"),
        Fault::IdTokenUnknownKid => Some("kid_unknown"),
        _ => None,
    });
    let mut out = base.and_then(catalogue::preset).unwrap_or_default();
    if let Some(f) = forge {
        out.overlay(f);
    }
    Some(out)
}

/// The RFC 9207 `iss` parameter for the authorization response, if any.
pub fn iss_param(forge: Option<&ForgeSpec>, issuer: &str) -> Option<String> {
    match forge.and_then(|f| f.authorization_iss)? {
        IssParam::Absent => None,
        IssParam::Correct => Some(issuer.to_string()),
        IssParam::Wrong => Some(WRONG_ISSUER.to_string()),
    }
}

/// Whether a code may be redeemed again.
pub fn allows_code_reuse(forge: Option<&ForgeSpec>) -> bool {
    forge.and_then(|f| f.allow_code_reuse).unwrap_or(false)
}

/// The tenant's forge keys, made now if they are not yet (under the lock: RSA keys come from
/// the pool, so this is fast unless the pool is empty).
pub fn keys_locked(t: &mut Tenant) -> Result<Arc<ForgeKeys>, OidcError> {
    if let Some(k) = &t.oidc.forge.keys {
        return Ok(k.clone());
    }
    let made = ForgeKeys::generate(&t.keys).map_err(|e| OidcError::Internal(e.to_string()))?;
    t.oidc.forge.keys = Some(made.clone());
    Ok(made)
}

/// Every spec installed at this tenant (for the keys they make the OP publish).
pub fn installed(t: &Tenant) -> Vec<ForgeSpec> {
    t.oidc_clients
        .iter()
        .filter_map(|c| c.forge.clone())
        .chain(t.oidc.forge.standing.as_deref().cloned())
        .chain(t.oidc.forge.next.as_deref().cloned())
        .collect()
}

/// The extra keys the JWKS lists now.
pub fn published(t: &Tenant) -> BTreeSet<Published> {
    let mut out: BTreeSet<Published> = t.oidc.forge.provider.publish.iter().copied().collect();
    out.extend(t.oidc.forge.asked.iter().copied());
    for spec in installed(t) {
        out.extend(spec.publishes());
    }
    out
}

/// The URLs `jku` and `x5u` point at when the caller gave no canary: the tenant's own
/// attacker-key documents, whose fetches are logged.
pub fn default_canaries(base: &str, tenant: &str) -> (String, String) {
    (
        format!("{base}/t/{tenant}/forge/attacker-jwks"),
        format!("{base}/t/{tenant}/forge/attacker-cert"),
    )
}

/// What a forged token is made from.
pub struct TokenInputs<'a> {
    pub current: &'a SigningKey,
    pub next: &'a SigningKey,
    pub forge_keys: &'a ForgeKeys,
    pub client_secret: Option<&'a Secret>,
    pub base: &'a str,
    pub tenant: &'a str,
    pub ctx: mutate::Context<'a>,
}

impl TokenInputs<'_> {
    fn material<'b>(
        &'b self,
        spec: &'b ForgeSpec,
        urls: &'b (String, String),
    ) -> jws::Material<'b> {
        let (jku, x5u) = match &spec.canary_url {
            Some(c) => (c.as_str(), c.as_str()),
            None => (urls.0.as_str(), urls.1.as_str()),
        };
        jws::Material {
            current: self.current,
            next: self.next,
            forge: self.forge_keys,
            client_secret: self.client_secret,
            jku,
            x5u,
        }
    }
}

impl From<jws::ForgeError> for OidcError {
    fn from(e: jws::ForgeError) -> Self {
        OidcError::Internal(format!("forge: {e}"))
    }
}

/// A forged ID token: the genuine claims mutated, the payload text written member by member,
/// signed as the spec says. Also answers the payload text when it has duplicate members, for
/// the exchange log (a decoded view would hide them).
pub fn id_token(
    spec: &ForgeSpec,
    claims: Map<String, Value>,
    inputs: &TokenInputs<'_>,
) -> Result<(String, Option<String>), OidcError> {
    let mut members = Members::from_map(claims);
    members.apply(&spec.claims, &inputs.ctx);
    let payload = members.to_text()?;
    let urls = default_canaries(inputs.base, inputs.tenant);
    let token = jws::sign(
        &spec.id_token_jws(),
        &payload,
        &inputs.material(spec, &urls),
    )?;
    Ok((token, members.has_duplicates().then_some(payload)))
}

/// A token endpoint answer: status and JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub content_type: &'static str,
}

/// The token endpoint's error answer of a forge, if it has one.
pub fn token_error(spec: &ForgeSpec) -> Option<Answer> {
    let e = spec.token_error.as_ref()?;
    let body = match &e.body {
        Some(b) => b.clone(),
        None => {
            let mut b = json!({ "error": e.error });
            if let Some(d) = &e.error_description {
                b["error_description"] = json!(d);
            }
            b
        }
    };
    Some(Answer {
        status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        body: body.to_string(),
        content_type: "application/json",
    })
}

/// The token response JSON with the forge's mutations.
pub fn token_response(
    spec: &ForgeSpec,
    response: Map<String, Value>,
    ctx: &mutate::Context<'_>,
) -> Result<Answer, OidcError> {
    let mut members = Members::from_map(response);
    members.apply(&spec.token_response, ctx);
    Ok(Answer {
        status: StatusCode::OK,
        body: members.to_text()?,
        content_type: "application/json",
    })
}

/// The userinfo answer with the forge's mutations, as JSON or as a JWT.
pub fn userinfo(
    spec: &ForgeSpec,
    mut claims: Map<String, Value>,
    inputs: &TokenInputs<'_>,
) -> Result<Answer, OidcError> {
    if spec.userinfo_jwt.is_some() {
        // OIDC Core 5.3.2: a signed userinfo response should carry iss and aud.
        claims.insert("iss".into(), json!(inputs.ctx.issuer));
        claims.insert("aud".into(), json!(inputs.ctx.client_id));
    }
    let mut members = Members::from_map(claims);
    members.apply(&spec.userinfo, &inputs.ctx);
    let text = members.to_text()?;
    match &spec.userinfo_jwt {
        None => Ok(Answer {
            status: StatusCode::OK,
            body: text,
            content_type: "application/json",
        }),
        Some(jwt) => {
            let urls = default_canaries(inputs.base, inputs.tenant);
            let token = jws::sign(jwt, &text, &inputs.material(spec, &urls))?;
            Ok(Answer {
                status: StatusCode::OK,
                body: token,
                content_type: "application/jwt",
            })
        }
    }
}

/// A JARM response JWT: the genuine claims (iss, aud, exp, code, state) mutated and signed as
/// `spec.jarm` says; without a forge (or without its `jarm` member) a genuine RS256 JWT by
/// the OP's current key. Answers the token and its payload text.
pub fn jarm(
    spec: Option<&ForgeSpec>,
    claims: Map<String, Value>,
    inputs: &TokenInputs<'_>,
) -> Result<(String, String), OidcError> {
    let none = ForgeSpec::default();
    let spec = spec.unwrap_or(&none);
    let jarm = spec.jarm.clone().unwrap_or_default();
    let mut members = Members::from_map(claims);
    members.apply(&jarm.claims, &inputs.ctx);
    let payload = members.to_text()?;
    let urls = default_canaries(inputs.base, inputs.tenant);
    let token = jws::sign(&jarm.jws(), &payload, &inputs.material(spec, &urls))?;
    Ok((token, payload))
}

/// The query parameter of a per-run `jwks_uri` (`ProviderSettings::jwks_uri_tag`).
pub const JWKS_TAG_PARAM: &str = "run";

/// Whether a JWKS request's query carries the tenant's per-run tag; `None` when the tenant
/// advertises none.
pub fn used_advertised_jwks_uri(t: &Tenant, query: Option<&str>) -> Option<bool> {
    let tag = t.oidc.forge.provider.jwks_uri_tag.as_ref()?;
    Some(
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .any(|(k, v)| k == JWKS_TAG_PARAM && v == tag.as_str()),
    )
}

/// Adds what the forge state changes to the discovery document: the RFC 9207 flag and the
/// algorithms of published extra keys.
pub fn adjust_discovery(t: &Tenant, doc: &mut Value) {
    if t.oidc.forge.provider.iss_parameter_supported {
        doc["authorization_response_iss_parameter_supported"] = json!(true);
    }
    if let (Some(tag), Some(uri)) = (
        &t.oidc.forge.provider.jwks_uri_tag,
        doc.get("jwks_uri").and_then(Value::as_str),
    ) && let Ok(mut url) = url::Url::parse(uri)
    {
        url.query_pairs_mut().append_pair(JWKS_TAG_PARAM, tag);
        doc["jwks_uri"] = json!(url.as_str());
    }
    // Malicious discovery (OIDC-RP-73): the code and the client's secret would go to the
    // token endpoint, the access token to UserInfo; both named on another host.
    if let Some(base) = &t.oidc.forge.provider.endpoints_at {
        let base = if base.ends_with('/') {
            base.clone()
        } else {
            format!("{base}/")
        };
        doc["token_endpoint"] = json!(format!("{base}token"));
        doc["userinfo_endpoint"] = json!(format!("{base}userinfo"));
    }
    if let Some(algs) = doc
        .get_mut("id_token_signing_alg_values_supported")
        .and_then(Value::as_array_mut)
    {
        for p in published(t) {
            let name = json!(p.alg().name());
            if !algs.contains(&name) {
                algs.push(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> ForgeSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn layers_overlay_and_next_is_consumed() {
        let mut t = Tenant::from_spec(
            serde_json::from_value(json!({
                "id": "layers",
                "oidc_clients": [{"client_id": "c1", "client_secret": "s", "redirect_uris": ["http://rp/cb"],
                                  "forge": {"header": {"alg": "none"}, "key": "none"}}]
            }))
            .unwrap(),
        )
        .unwrap();
        t.oidc.forge.standing = Some(Arc::new(spec(
            json!({"claims": [{"op": "remove", "name": "a"}]}),
        )));
        t.oidc.forge.next = Some(Arc::new(spec(
            json!({"preset": "kid_unknown", "claims": [{"op": "remove", "name": "b"}]}),
        )));
        let f = take_for_sign_in(&mut t, "c1").unwrap();
        assert_eq!(f.header.alg.as_deref(), Some("none"));
        assert_eq!(
            f.header.kid,
            Some(Some("mock-idp-unknown-kid".into())),
            "the preset expanded"
        );
        assert_eq!(f.claims.len(), 2);
        assert!(t.oidc.forge.next.is_none(), "next is consumed");
        let again = take_for_sign_in(&mut t, "c1").unwrap();
        assert_eq!(again.claims.len(), 1);
        assert!(
            take_for_sign_in(&mut t, "other-client").is_some(),
            "standing applies to all"
        );
        t.oidc.forge.standing = None;
        assert!(take_for_sign_in(&mut t, "other-client").is_none());
    }

    #[test]
    fn iss_param_and_code_reuse_follow_the_spec() {
        let f = spec(json!({"authorization_iss": "wrong", "allow_code_reuse": true}));
        assert_eq!(
            iss_param(Some(&f), "http://i").as_deref(),
            Some(WRONG_ISSUER)
        );
        assert!(allows_code_reuse(Some(&f)));
        assert_eq!(iss_param(None, "http://i"), None);
        assert!(!allows_code_reuse(None));
        let f = spec(json!({"authorization_iss": "correct"}));
        assert_eq!(iss_param(Some(&f), "http://i").as_deref(), Some("http://i"));
    }

    #[test]
    fn token_error_answers_its_status_and_body() {
        let a = token_error(&spec(
            json!({"token_error": {"status": 401, "error": "invalid_client"}}),
        ))
        .unwrap();
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.body, r#"{"error":"invalid_client"}"#);
        let a = token_error(&spec(json!({"token_error": {"body": [1]}}))).unwrap();
        assert_eq!(
            (a.status, a.body.as_str()),
            (StatusCode::BAD_REQUEST, "[1]")
        );
        assert!(token_error(&ForgeSpec::default()).is_none());
    }

    #[test]
    fn the_attacker_key_fault_is_a_forge() {
        let f = effective(None, &[Fault::IdTokenAttackerKey]).unwrap();
        assert_eq!(f.key, Some(spec::KeyChoice::Attacker));
        assert!(effective(None, &[Fault::IdTokenAlgNone]).is_none());
        // A forge that changes only claims keeps the signature fault in force.
        let claims_only = spec(json!({"claims": [{"op": "remove", "name": "email"}]}));
        let f = effective(Some(&claims_only), &[Fault::IdTokenAlgNone]).unwrap();
        assert_eq!(f.header.alg.as_deref(), Some("none"));
        assert_eq!(f.claims.len(), 1);
        let f = effective(
            Some(&spec(json!({"header": {"alg": "HS256"}}))),
            &[Fault::IdTokenAlgNone],
        )
        .unwrap();
        assert_eq!(f.header.alg.as_deref(), Some("HS256"), "the forge wins");
        let plan = jws::plan(&f.id_token_jws()).unwrap();
        assert_eq!(
            plan.key,
            spec::KeyChoice::ClientSecret,
            "the key follows the new alg"
        );
    }
}
