//! Reading an OP's discovery document as plain JSON: the members openidconnect's metadata
//! type has no field for (PAR, signed request objects, RFC 9207) are read from it. Its own
//! module so that the modules deciding on those members need not depend on `oidc`.

/// The discovery document as JSON, each failure said with the URL (the PAR and request-object
/// checks read members openidconnect's metadata type has none for).
pub(crate) async fn json(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<serde_json::Value, String> {
    http.get(discovery_url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the discovery document {discovery_url}: {e}"))?
        .error_for_status()
        .map_err(|e| format!("the discovery document {discovery_url} answered {e}"))?
        .json()
        .await
        .map_err(|e| format!("the discovery document {discovery_url} is not JSON: {e}"))
}
