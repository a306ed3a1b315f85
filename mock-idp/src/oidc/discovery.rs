//! The OpenID Provider metadata document served at `<issuer>/.well-known/openid-configuration`.

use serde::{Deserialize, Serialize};

use super::layout::Layout;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: String,
    pub response_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    /// The plain modes (query, fragment, form_post) and the JARM modes (JWT Secured Authorization Response Mode).
    #[serde(default)]
    pub response_modes_supported: Vec<String>,
    /// JARM: how the `response` JWT is signed.
    #[serde(default)]
    pub authorization_signing_alg_values_supported: Vec<String>,
    /// RFC 9126: where clients push authorization requests (`oidc::par`).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: String,
    /// OpenID Connect Discovery 3: request objects by value (`request`) and by reference
    /// (`request_uri`, fetched by the OP; no pre-registration of the URI needed).
    #[serde(default)]
    pub request_parameter_supported: bool,
    #[serde(default)]
    pub request_uri_parameter_supported: bool,
    #[serde(default)]
    pub require_request_uri_registration: bool,
    #[serde(default)]
    pub request_object_signing_alg_values_supported: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

impl ProviderMetadata {
    /// The document for `layout` served from `base`. `issuer_override` replaces the issuer
    /// string only (the `discovery_issuer_mismatch` fault); endpoints stay where they are.
    pub fn new(base: &str, layout: &Layout, issuer_override: Option<String>) -> Self {
        let url = |p: &str| Layout::url(base, p);
        Self {
            issuer: issuer_override.unwrap_or_else(|| url(&layout.issuer)),
            authorization_endpoint: url(&layout.authorize),
            token_endpoint: url(&layout.token),
            userinfo_endpoint: url(&layout.userinfo),
            jwks_uri: url(&layout.jwks),
            end_session_endpoint: url(&layout.end_session),
            response_types_supported: strings(&super::hybrid::SUPPORTED),
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: strings(&["RS256"]),
            scopes_supported: strings(&["openid", "email", "profile", "groups"]),
            token_endpoint_auth_methods_supported: strings(&[
                "client_secret_basic",
                "client_secret_post",
            ]),
            claims_supported: strings(&[
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "nonce",
                "email",
                "email_verified",
                "name",
                "given_name",
                "family_name",
                "groups",
            ]),
            code_challenge_methods_supported: strings(&["S256", "plain"]),
            grant_types_supported: strings(&["authorization_code"]),
            // The plain modes (code and hybrid flows), then JARM's.
            response_modes_supported: strings(&[
                "query",
                "fragment",
                "form_post",
                "jwt",
                "query.jwt",
                "form_post.jwt",
                "fragment.jwt",
            ]),
            authorization_signing_alg_values_supported: strings(&["RS256"]),
            pushed_authorization_request_endpoint: url(&layout.par),
            request_parameter_supported: true,
            request_uri_parameter_supported: true,
            require_request_uri_registration: false,
            // `none` only for clients that registered it (`oidc::request_object`).
            request_object_signing_alg_values_supported: strings(&["none", "RS256"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::layout::LayoutKind;

    #[test]
    fn endpoints_are_absolute_and_follow_the_layout() {
        let l = Layout::new(LayoutKind::Authentik, "acme");
        let m = ProviderMetadata::new("http://127.0.0.1:9/", &l, None);
        assert_eq!(m.issuer, "http://127.0.0.1:9/t/acme/application/o/acme/");
        assert_eq!(
            m.token_endpoint,
            "http://127.0.0.1:9/t/acme/application/o/token/"
        );
        assert!(
            m.code_challenge_methods_supported
                .contains(&"S256".to_string())
        );
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v["jwks_uri"],
            "http://127.0.0.1:9/t/acme/application/o/acme/jwks/"
        );
    }

    #[test]
    fn issuer_override_changes_only_the_issuer() {
        let l = Layout::new(LayoutKind::Okta, "acme");
        let good = ProviderMetadata::new("http://h", &l, None);
        let bad = ProviderMetadata::new("http://h", &l, Some("http://elsewhere".into()));
        assert_eq!(bad.issuer, "http://elsewhere");
        assert_eq!(bad.token_endpoint, good.token_endpoint);
    }
}
