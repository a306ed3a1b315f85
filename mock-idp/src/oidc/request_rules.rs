//! Checks of a client's registered rules for requests by reference (`auth_request`) that
//! serde cannot make; a leaf, so the tenant's validation can use it.

use proto::idp::AuthRequestRules;

use crate::error::{Error, Result};

/// Checks of registered rules serde cannot make (`path` names them in the error).
pub fn validate_rules(rules: &AuthRequestRules, path: &str) -> Result<()> {
    if let Some(alg) = &rules.request_object_signing_alg
        && !matches!(alg.as_str(), "none" | "RS256")
    {
        return Err(Error::bad_input(
            format!("{path}.request_object_signing_alg"),
            format!("'{alg}' is not supported (none, RS256)"),
        ));
    }
    if let Some(u) = &rules.jwks_uri {
        let ok = url::Url::parse(u)
            .map(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or(false);
        if !ok {
            return Err(Error::bad_input(
                format!("{path}.jwks_uri"),
                format!("'{u}' is not an http(s) URL"),
            ));
        }
    }
    Ok(())
}
