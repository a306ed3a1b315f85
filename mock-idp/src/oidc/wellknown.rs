//! The discovery document and the JWKS.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;

use crate::fault::Fault;
use crate::state::AppState;
use crate::tenant;

use super::discovery::ProviderMetadata;
use super::error::OidcError;
use super::faults;
use super::layout::{Endpoint, Layout};
use super::provider::{keys, record, resolve};

/// The issuer a `discovery_issuer_mismatch` document names instead of its own.
pub const MISMATCHED_ISSUER: &str = "https://issuer-elsewhere.mock-idp.test/";

pub async fn discovery(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
) -> Result<Json<serde_json::Value>, OidcError> {
    let (shared, layout) = resolve(&app, uri.path(), Endpoint::Discovery)?;
    let mut t = tenant::lock(&shared);
    let active = faults::take(&mut t, faults::for_discovery);
    let issuer = active
        .contains(&Fault::DiscoveryIssuerMismatch)
        .then(|| MISMATCHED_ISSUER.to_string());
    let metadata = ProviderMetadata::new(app.base(), &layout, issuer);
    let mut doc = serde_json::to_value(&metadata)?;
    advertise_extra_scopes(&t, &mut doc);
    super::forge::adjust_discovery(&t, &mut doc);
    super::par::adjust_discovery(&t, &mut doc);
    record(
        &mut t,
        "discovery",
        "GET",
        uri.path(),
        StatusCode::OK.as_u16(),
        doc.clone(),
        &active,
    );
    Ok(Json(doc))
}

/// The current key and the next key of the rotation, so an RP that caches the JWKS keeps
/// verifying when the tenant switches keys.
pub async fn jwks(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
) -> Result<axum::response::Response, OidcError> {
    let (shared, _) = resolve(&app, uri.path(), Endpoint::Jwks)?;
    let mut t = tenant::lock(&shared);
    let k = keys(&mut t)?;
    let advertised = super::forge::used_advertised_jwks_uri(&t, uri.query());
    // Rotation, retired, colliding and published keys and the JWKS failure settings live
    // with the forge.
    let r = super::forge::provider::jwks_response(&mut t, &k, uri.path());
    // A per-run jwks_uri: the fetch just recorded says whether it used the advertised URL.
    if let Some(used) = advertised
        && let Some(e) = t.exchanges.last_mut()
        && e.kind == "jwks"
        && let Some(d) = e.decoded.as_object_mut()
    {
        d.insert("advertised".into(), serde_json::json!(used));
    }
    r
}

/// `phone` and `address` (and their claims) in `scopes_supported` / `claims_supported` when
/// a client of the tenant may ask for them: an RP that asks only for what the OP lists then
/// gets them where they are registered, and nowhere else.
fn advertise_extra_scopes(t: &crate::tenant::Tenant, doc: &mut serde_json::Value) {
    for (scope, claims) in super::claims::SCOPED {
        if !t
            .oidc_clients
            .iter()
            .any(|c| c.scopes.iter().any(|s| s == scope))
        {
            continue;
        }
        for (list, items) in [
            ("scopes_supported", &[*scope][..]),
            ("claims_supported", claims),
        ] {
            if let Some(a) = doc.get_mut(list).and_then(serde_json::Value::as_array_mut) {
                for item in items {
                    a.push(serde_json::json!(item));
                }
            }
        }
    }
}

/// Absolute issuer URL of a layout served from `base`.
pub fn issuer_url(base: &str, layout: &Layout) -> String {
    Layout::url(base, &layout.issuer)
}
