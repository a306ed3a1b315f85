//! The provider side of key handling: what the JWKS lists (rotated, retired, colliding and
//! published extra keys), how it fails (a status, or a connection cut without an answer),
//! and key rotation on demand.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::oidc::OidcError;
use crate::oidc::jwt::SigningKey;
use crate::oidc::state::OidcKeys;
use crate::tenant::{self, Tenant};

use super::keys::kid_of;

pub use proto::oidc_forge::{NewKey, OldKey, ProviderSettings, RotateAnswer, RotateBody};

/// Checks of the provider settings serde cannot make.
pub fn validate(settings: &ProviderSettings) -> Result<()> {
    if !(200..=599).contains(&settings.jwks_status) {
        return Err(Error::bad_input(
            "jwks_status",
            format!("{} is not an HTTP status (200-599)", settings.jwks_status),
        ));
    }
    if let Some(m) = &settings.mix_up
        && url::Url::parse(&m.authorization_endpoint).is_err()
    {
        return Err(Error::bad_input(
            "mix_up.authorization_endpoint",
            format!("{:?} is not a URL", m.authorization_endpoint),
        ));
    }
    if let Some(base) = &settings.endpoints_at {
        let ok = url::Url::parse(base)
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if !ok {
            return Err(Error::bad_input(
                "endpoints_at",
                format!("{base:?} is not an http(s) URL"),
            ));
        }
    }
    Ok(())
}

/// Whether answering needs the forge keys (collision or published extras).
pub fn needs_keys(settings: &ProviderSettings) -> bool {
    settings.jwks_kid_collision || !settings.publish.is_empty()
}

/// The JWKS document: [collision,] current, next, retired..., published extras (with
/// `single_key`: [collision,] current, published extras).
pub fn jwks_document(t: &mut Tenant, keys: &OidcKeys) -> std::result::Result<Value, OidcError> {
    let published = super::published(t);
    // single_key: an OP with one key lists it alone (a kid-less token has one candidate).
    let single = t.oidc.forge.provider.single_key;
    let mut list: Vec<Value> = Vec::new();
    if t.oidc.forge.provider.jwks_kid_collision || !published.is_empty() {
        let fk = super::keys_locked(t)?;
        let internal = |e: super::keys::KeyError| OidcError::Internal(e.to_string());
        if t.oidc.forge.provider.jwks_kid_collision {
            // First, so an RP that takes the first match for the kid picks the wrong key.
            list.push(
                fk.collision_rsa
                    .with_kid(keys.current.kid())
                    .public_jwk()
                    .map_err(internal)?,
            );
        }
        list.push(serde_json::to_value(keys.current.jwk())?);
        if !single {
            list.push(serde_json::to_value(keys.next.jwk())?);
            for r in &t.oidc.forge.retired {
                list.push(serde_json::to_value(r.jwk())?);
            }
        }
        for p in published {
            list.push(fk.published(p).public_jwk().map_err(internal)?);
        }
    } else {
        list.push(serde_json::to_value(keys.current.jwk())?);
        if !single {
            list.push(serde_json::to_value(keys.next.jwk())?);
            for r in &t.oidc.forge.retired {
                list.push(serde_json::to_value(r.jwk())?);
            }
        }
    }
    Ok(json!({ "keys": list }))
}

/// The JWKS endpoint's answer under the provider settings; recorded as a `jwks` exchange.
pub fn jwks_response(
    t: &mut Tenant,
    keys: &OidcKeys,
    path: &str,
) -> std::result::Result<Response, OidcError> {
    let settings = t.oidc.forge.provider.clone();
    if settings.jwks_unreachable {
        crate::oidc::provider::record(
            t,
            "jwks",
            "GET",
            path,
            0,
            json!({ "unreachable": true }),
            &[],
        );
        // A body that fails before its first byte makes the server drop the connection
        // without sending a response: to the RP the JWKS is unreachable.
        let stream = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("jwks_unreachable"))
        });
        return Ok(Response::new(Body::from_stream(stream)));
    }
    if settings.jwks_status != 200 {
        let status =
            StatusCode::from_u16(settings.jwks_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        crate::oidc::provider::record(
            t,
            "jwks",
            "GET",
            path,
            status.as_u16(),
            json!({ "error": "jwks_status setting" }),
            &[],
        );
        let mut r = (
            status,
            axum::Json(json!({ "error": "jwks unavailable (mock-idp setting)" })),
        )
            .into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(r);
    }
    let doc = jwks_document(t, keys)?;
    let kids: Vec<Value> = doc["keys"]
        .as_array()
        .map(|a| a.iter().map(|k| k["kid"].clone()).collect())
        .unwrap_or_default();
    crate::oidc::provider::record(
        t,
        "jwks",
        "GET",
        path,
        StatusCode::OK.as_u16(),
        json!({ "kids": kids }),
        &[],
    );
    Ok(axum::Json(doc).into_response())
}

fn fresh_key() -> Result<SigningKey> {
    let pkey = crate::keys::KeyPool::global().take()?;
    let kid = kid_of("", &pkey).map_err(|e| Error::Config(e.to_string()))?;
    SigningKey::new(kid, pkey).map_err(|e| Error::Config(e.to_string()))
}

/// Rotates the tenant's OIDC signing key (the SAML key is not touched). Keys are made off
/// the async workers and without the tenant lock.
pub async fn rotate(shared: &Arc<Mutex<Tenant>>, body: RotateBody) -> Result<RotateAnswer> {
    {
        let mut t = tenant::lock(shared);
        crate::oidc::provider::keys(&mut t).map_err(|e| Error::Config(e.to_string()))?;
    }
    let made = tokio::task::spawn_blocking(fresh_key)
        .await
        .map_err(|e| Error::Config(format!("key generation failed: {e}")))??;
    let mut t = tenant::lock(shared);
    let old = crate::oidc::provider::keys(&mut t).map_err(|e| Error::Config(e.to_string()))?;
    // `next`: the published next key becomes current and a new next is made. `fresh`: a key
    // no JWKS listed becomes current and the next key stays next.
    let (current, next) = match body.new {
        NewKey::Next => (old.next.clone(), made),
        NewKey::Fresh => (made, old.next.clone()),
    };
    if body.old == OldKey::Keep {
        t.oidc.forge.retired.push(old.current.clone());
    }
    let keys = Arc::new(OidcKeys { current, next });
    t.oidc.keys = Some(keys.clone());
    let doc = jwks_document(&mut t, &keys).map_err(|e| Error::Config(e.to_string()))?;
    let kids: Vec<Value> = doc["keys"]
        .as_array()
        .map(|a| a.iter().map(|k| k["kid"].clone()).collect())
        .unwrap_or_default();
    Ok(RotateAnswer {
        previous_kid: old.current.kid().to_string(),
        current_kid: keys.current.kid().to_string(),
        next_kid: keys.next.kid().to_string(),
        jwks_kids: kids,
    })
}
